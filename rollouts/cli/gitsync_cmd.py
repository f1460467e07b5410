"""`rollouts gitsync render|diff|sync`: the human side of the Git sync loop.

`render` works offline: it renders a repository URL (fetched into a temporary
cache) or a local directory (as it is on disk, uncommitted edits included,
unless --revision asks for a commit) and prints the manifests that would be
applied. `diff` and `sync` act on a GitSync in the cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from rollouts.api.gitsync import (
    REFRESH_ANNOTATION,
    ApplicationSource,
    ApplicationSourceDirectory,
    ApplicationSourceHelm,
    ApplicationSourceJsonnet,
    ApplicationSourceKustomize,
    GitSync,
    HelmParameter,
    JsonnetVar,
)
from rollouts.api.kinds import GITSYNCS
from rollouts.cli.kubeapi import add_connection_flags, connect, get_named, patch_named, resolve_connection, run_async
from rollouts.cli.main import CommandError
from rollouts.gitsync.controller import FORCE_SYNC_VALUE
from rollouts.gitsync.desired import SyncSourceError, desired_state, live_object, load_credentials
from rollouts.gitsync.diff import comparable, differences, project
from rollouts.gitsync.discovery import Discovery
from rollouts.gitsync.prune import PruneCandidate, still_tracked
from rollouts.gitsync.renderers import RenderError
from rollouts.gitsync.repo import GitError, RepoCache
from rollouts.gitsync.source import Renderer, render_local_directory
from rollouts.gitsync.tracking import ResourceKey
from rollouts.kube.client import KubeClient


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


# ---------------------------------------------------------------- diff


def _yaml(obj: Any) -> list[str]:
    return yaml.safe_dump(obj, sort_keys=True).splitlines(keepends=True) if obj is not None else []


def _label(key: ResourceKey) -> str:
    return f"{key.group or 'core'}/{key.kind}/{key.namespace + '/' if key.namespace else ''}{key.name}"


async def gitsync_diff(client: KubeClient, *, namespace: str, name: str) -> list[str]:
    """Unified diffs (live -> desired) of every object that differs, is missing, or would be pruned."""
    gitsync = GitSync.from_dict(await get_named(client, GITSYNCS, namespace, name))
    repos = RepoCache()
    discovery = Discovery(client)
    try:
        credentials = await load_credentials(client, gitsync)
        _commit, desired = await desired_state(
            gitsync, renderer=Renderer(repos=repos), discovery=discovery, credentials=credentials
        )
    except SyncSourceError as error:
        raise CommandError(f"gitsync {name!r}: {error}") from None
    finally:
        repos.cleanup()
    diffs: list[str] = []
    for item in desired:
        live = await live_object(client, item)
        want = comparable(item.obj)
        if live is not None and not differences(item.obj, live):
            continue
        have = project(want, live) if live is not None else None
        if item.key.kind == "Secret":
            want, have = _mask_secret_data(want, have)
        label = _label(item.key)
        diffs.append("".join(difflib.unified_diff(_yaml(have), _yaml(want), f"live/{label}", f"desired/{label}")))
    wanted = {item.key for item in desired}
    for entry in (gitsync.status.resources if gitsync.status else None) or []:
        key = ResourceKey(entry.group or "", entry.kind, entry.namespace or "", entry.name)
        if key in wanted or not entry.version:
            continue
        candidate = PruneCandidate(key, entry.version)
        if await still_tracked(client, candidate, discovery=discovery, gitsync_namespace=namespace, gitsync_name=name):
            header = f"--- live/{_label(key)}\n+++ desired/{_label(key)} (left Git: pruned by a sync with prune)\n"
            diffs.append(header)
    return diffs


def _mask_secret_data(
    want: dict[str, Any], have: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Secret values never reach the terminal: equal values print as ++++++++, changed ones differ in length.

    (Argo CD masks Secrets in its diffs the same way.)
    """
    wanted = dict(want.get("data") or {})
    live = dict((have or {}).get("data") or {})
    masked_want, masked_have = {}, {}
    for key in sorted(set(wanted) | set(live)):
        same = key in wanted and key in live and wanted[key] == live[key]
        if key in wanted:
            masked_want[key] = "+" * 8
        if key in live:
            masked_have[key] = "+" * 8 if same else "+" * 9
    want = {**want, "data": masked_want} if "data" in want else want
    if have is not None and "data" in have:
        have = {**have, "data": masked_have}
    return want, have


def diff_command(args: argparse.Namespace) -> int:
    connection = resolve_connection(args)

    async def work() -> list[str]:
        async with connect(connection) as client:
            return await gitsync_diff(client, namespace=connection.namespace, name=args.name)

    diffs = run_async(work)
    for chunk in diffs:
        print(chunk, end="" if chunk.endswith("\n") else "\n")
    return 1 if diffs else 0  # like kubectl diff


# ---------------------------------------------------------------- sync


async def gitsync_sync(client: KubeClient, *, namespace: str, name: str, timeout: float) -> dict[str, Any]:
    """Ask the controller for a sync now and wait for it to finish; returns the operationState."""
    patch = {"metadata": {"annotations": {REFRESH_ANNOTATION: FORCE_SYNC_VALUE}}}
    await patch_named(client, GITSYNCS, namespace=namespace, name=name, patch=patch)
    deadline = time.monotonic() + timeout
    while True:
        obj = await get_named(client, GITSYNCS, namespace, name)
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        operation: dict[str, Any] = (obj.get("status") or {}).get("operationState") or {}
        # The controller writes the finished operation first, then removes the request.
        if REFRESH_ANNOTATION not in annotations and operation.get("phase") not in (None, "Running"):
            return operation
        if time.monotonic() > deadline:
            raise CommandError(
                f"gitsync {name!r}: no sync finished within {timeout:g}s (is the controller running with gitsync?)"
            )
        await asyncio.sleep(0.5)


def sync_command(args: argparse.Namespace) -> int:
    connection = resolve_connection(args)

    async def work() -> dict[str, Any]:
        async with connect(connection) as client:
            return await gitsync_sync(client, namespace=connection.namespace, name=args.name, timeout=args.timeout)

    operation = run_async(work)
    phase = operation.get("phase")
    print(f"gitsync {args.name!r}: {phase}: {operation.get('message') or ''}".rstrip())
    for resource in (operation.get("syncResult") or {}).get("resources") or []:
        where = f"{resource['namespace']}/" if resource.get("namespace") else ""
        print(f"  {resource['status']:<13} {resource['kind']} {where}{resource['name']}")
    return 0 if phase == "Succeeded" else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("gitsync", help="render, diff and sync manifests from Git")
    commands = parser.add_subparsers(dest="gitsync_command", metavar="COMMAND")
    render = commands.add_parser("render", help="print the manifests a repository path renders to")
    _add_render_options(render)
    render.set_defaults(handler=render_command)
    diff = commands.add_parser("diff", help="show live vs desired for a GitSync (exit 1 if they differ)")
    diff.add_argument("name", metavar="GITSYNC_NAME")
    add_connection_flags(diff)
    diff.set_defaults(handler=diff_command)
    sync = commands.add_parser("sync", help="sync a GitSync now and print the result")
    sync.add_argument("name", metavar="GITSYNC_NAME")
    sync.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the sync to finish")
    add_connection_flags(sync)
    sync.set_defaults(handler=sync_command)
