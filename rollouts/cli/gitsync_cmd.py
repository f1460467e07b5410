"""`rollouts gitsync render|diff|sync`: the human side of the Git sync loop.

`render` works offline: it renders a repository URL (fetched into a temporary
cache) or a local directory (as it is on disk, uncommitted edits included,
unless --revision asks for a commit) and prints the manifests that would be
applied. `diff` and `sync` act on a GitSync in the cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from rollouts.api.gitsync import (
    ApplicationSource,
    ApplicationSourceDirectory,
    ApplicationSourceHelm,
    ApplicationSourceJsonnet,
    ApplicationSourceKustomize,
    HelmParameter,
    JsonnetVar,
)
from rollouts.cli.main import CommandError
from rollouts.gitsync.renderers import RenderError
from rollouts.gitsync.repo import GitError, RepoCache
from rollouts.gitsync.source import Renderer, render_local_directory


def _pairs(values: list[str] | None, flag: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values or []:
        name, separator, rest = value.partition("=")
        if not separator or not name:
            raise CommandError(f"{flag} expects NAME=VALUE, got {value!r}")
        pairs.append((name, rest))
    return pairs


def source_from_args(args: argparse.Namespace) -> ApplicationSource:
    jsonnet_vars = {
        "ext_vars": [JsonnetVar(name=n, value=v) for n, v in _pairs(args.ext_str, "--ext-str")]
        + [JsonnetVar(name=n, value=v, code=True) for n, v in _pairs(args.ext_code, "--ext-code")],
        "tlas": [JsonnetVar(name=n, value=v) for n, v in _pairs(args.tla_str, "--tla-str")]
        + [JsonnetVar(name=n, value=v, code=True) for n, v in _pairs(args.tla_code, "--tla-code")],
    }
    jsonnet = ApplicationSourceJsonnet(
        ext_vars=jsonnet_vars["ext_vars"] or None, tlas=jsonnet_vars["tlas"] or None, libs=args.jpath or None
    )
    directory = ApplicationSourceDirectory(
        recurse=args.recurse or None, include=args.include, exclude=args.exclude, jsonnet=jsonnet
    )
    helm = ApplicationSourceHelm(
        value_files=args.values or None,
        parameters=[HelmParameter(name=n, value=v) for n, v in _pairs(args.set, "--set")]
        + [HelmParameter(name=n, value=v, force_string=True) for n, v in _pairs(args.set_string, "--set-string")]
        or None,
        release_name=args.release_name,
        skip_crds=args.skip_crds or None,
    )
    kustomize = ApplicationSourceKustomize(
        images=args.image or None, name_prefix=args.name_prefix, name_suffix=args.name_suffix
    )
    return ApplicationSource(
        repoURL=args.repo,
        path=args.path,
        target_revision=args.revision,
        directory=directory,
        helm=helm,
        kustomize=kustomize,
    )


async def _render(args: argparse.Namespace, *, local_dir: bool) -> list[dict[str, Any]]:
    source = source_from_args(args)
    local = Path(args.repo)
    if args.revision is None and local_dir:
        return await render_local_directory(local, source, namespace=args.namespace or "", app_name=args.name)
    repos = RepoCache()
    try:
        renderer = Renderer(repos=repos)
        commit = await renderer.resolve(source)
        print(f"# revision {commit}", file=sys.stderr)
        return await renderer.render(source, commit=commit, namespace=args.namespace or "", app_name=args.name)
    finally:
        repos.cleanup()


def _print(objects: list[dict[str, Any]], output: str) -> None:
    if output == "json":
        print(json.dumps(objects, indent=2))
        return
    print(yaml.safe_dump_all(objects, sort_keys=False), end="")


def render_command(args: argparse.Namespace) -> int:
    try:
        objects = asyncio.run(_render(args, local_dir=Path(args.repo).is_dir()))
    except (RenderError, GitError) as error:
        raise CommandError(str(error)) from None
    _print(objects, args.output)
    return 0


def _add_render_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", required=True, help="repository URL (https, ssh, file) or a local directory")
    parser.add_argument("--path", default=".", help="directory inside the repository")
    parser.add_argument("--revision", help="branch, tag or commit (default: the directory as is, or HEAD)")
    parser.add_argument("--namespace", "-n", help="destination namespace (helm --namespace)")
    parser.add_argument("--name", default="", help="application name (helm release name default)")
    parser.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml")
    group = parser.add_argument_group("directory / Jsonnet")
    group.add_argument("--recurse", action="store_true")
    group.add_argument("--include", help="glob of files to include")
    group.add_argument("--exclude", help="glob of files to exclude")
    group.add_argument("--ext-str", action="append", metavar="NAME=VALUE")
    group.add_argument("--ext-code", action="append", metavar="NAME=CODE")
    group.add_argument("--tla-str", action="append", metavar="NAME=VALUE")
    group.add_argument("--tla-code", action="append", metavar="NAME=CODE")
    group.add_argument("--jpath", "-J", action="append", help="library directory inside the repository")
    group = parser.add_argument_group("Helm")
    group.add_argument("--values", "-f", action="append", help="values file inside the repository")
    group.add_argument("--set", action="append", metavar="NAME=VALUE")
    group.add_argument("--set-string", action="append", metavar="NAME=VALUE")
    group.add_argument("--release-name")
    group.add_argument("--skip-crds", action="store_true")
    group = parser.add_argument_group("Kustomize")
    group.add_argument("--image", action="append", help="image override [old=]new[:tag]")
    group.add_argument("--name-prefix")
    group.add_argument("--name-suffix")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("gitsync", help="render, diff and sync manifests from Git")
    commands = parser.add_subparsers(dest="gitsync_command", metavar="COMMAND")
    render = commands.add_parser("render", help="print the manifests a repository path renders to")
    _add_render_options(render)
    render.set_defaults(handler=render_command)
