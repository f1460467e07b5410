"""`create -f FILE [-w]` and `create analysisrun --from TEMPLATE`: Argo's plugin commands, for scripts that use them.

`create -f` creates every object in the files, Argo Rollouts kinds and plain
Kubernetes ones alike, and prints kubectl's `<kind>.<group>/<name> created`
line for each; `-w` then watches the one Rollout created, as `get rollout -w`
does. Kinds outside argoproj.io are found through API discovery, so CRDs work
too and no plural is ever guessed. `create analysisrun` builds a run from an
AnalysisTemplate (or, with --global, a ClusterAnalysisTemplate) in the
cluster, with the rules the controllers use (rollouts.cli.analysisrun_build).
"""

from __future__ import annotations

import argparse
from typing import Any

from rollouts.api.constants import GROUP, ROLLOUT_KIND
from rollouts.api.kinds import (
    ANALYSIS_RUNS,
    ANALYSIS_TEMPLATES,
    CLUSTER_ANALYSIS_TEMPLATES,
    EXPERIMENTS,
    ROLLOUTS,
)
from rollouts.api.resource import Resource
from rollouts.cli import analysisrun_build, manifests
from rollouts.cli.get_cmd import get_rollout_command
from rollouts.cli.kubeapi import Connection, add_connection_flags, connect, get_named, resolve_connection, run_async
from rollouts.cli.main import CommandError
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFoundError

_ARGO_KINDS = {
    r.kind: r for r in (ROLLOUTS, ANALYSIS_RUNS, ANALYSIS_TEMPLATES, CLUSTER_ANALYSIS_TEMPLATES, EXPERIMENTS)
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    create = subparsers.add_parser(
        "create",
        help="create Rollouts, Experiments, analysis templates/runs (and other objects) from files",
        description="Create the objects in the files; `create analysisrun` creates a run from a template.",
    )
    create.add_argument(
        "-f", "--filename", action="append", default=[], metavar="FILE", help="file to create from ('-': stdin)"
    )
    create.add_argument("-w", "--watch", action="store_true", help="watch the created rollout (as get rollout -w)")
    create.add_argument("--no-color", action="store_true", help="do not colorize output")
    create.add_argument("--timeout-seconds", type=int, default=0, help="stop watching after this many seconds")
    add_connection_flags(create)
    create.set_defaults(handler=create_command)
    kinds = create.add_subparsers(dest="create_kind", metavar="KIND")
    run = kinds.add_parser(
        "analysisrun",
        aliases=["ar"],
        help="create an AnalysisRun from an AnalysisTemplate or a ClusterAnalysisTemplate",
    )
    run.add_argument("--from", dest="from_template", required=True, metavar="TEMPLATE", help="the template's name")
    run.add_argument("--global", dest="cluster_scope", action="store_true", help="use a ClusterAnalysisTemplate")
    run.add_argument(
        "-a", "--argument", action="append", default=[], metavar="NAME=VALUE", help="an argument of the template"
    )
    names = run.add_mutually_exclusive_group()
    names.add_argument("--name", help="the run's name")
    names.add_argument("--generate-name", help="the run's generateName (default: '<template>-')")
    run.add_argument("--instance-id", help="the controller instance id label of the run")
    add_connection_flags(run)
    run.set_defaults(handler=create_analysis_run_command)


# ---------------------------------------------------------------- create -f


async def _resource_of(client: KubeClient, obj: dict[str, Any]) -> Resource:
    """Where an object's kind lives: Argo's kinds directly, any other through API discovery."""
    api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
    group, _, version = api_version.rpartition("/")
    known = _ARGO_KINDS.get(kind)
    if group == GROUP and known is not None and version == known.version:
        return known
    path = f"/apis/{group}/{version}" if group else f"/api/{version}"
    try:
        answer = await client.request("GET", path)
    except NotFoundError:
        answer = {}
    for entry in answer.get("resources") or []:
        if entry.get("kind") == kind and "/" not in str(entry.get("name", "")):
            return Resource(group, version, str(entry["name"]), kind, bool(entry.get("namespaced")))
    raise CommandError(f'no kind "{kind}" is registered for version "{api_version}"')


def created_line(resource: Resource, name: str) -> str:
    """kubectl's `deployment.apps/web created`; core kinds have no group part."""
    kind = resource.kind.lower()
    return f"{kind}.{resource.group}/{name} created" if resource.group else f"{kind}/{name} created"


def _watched_rollout(objects: list[dict[str, Any]]) -> str:
    rollouts = [o for o in objects if o.get("kind") == ROLLOUT_KIND and str(o.get("apiVersion", "")).startswith(GROUP)]
    if len(rollouts) != 1 or not rollouts[0]["metadata"].get("name"):
        raise CommandError("--watch needs exactly one Rollout (with metadata.name) among the created objects")
    return str(rollouts[0]["metadata"]["name"])


async def _create_all(client: KubeClient, connection: Connection, objects: list[dict[str, Any]]) -> None:
    resources = [await _resource_of(client, obj) for obj in objects]  # every kind known before creating any
    for obj, resource in zip(objects, resources, strict=True):
        namespace = None
        if resource.namespaced:
            namespace = str(obj["metadata"].get("namespace") or connection.namespace)
            obj["metadata"]["namespace"] = namespace
        created = await client.create(resource, namespace, obj)
        print(created_line(resource, str(created["metadata"]["name"])), flush=True)


def create_command(args: argparse.Namespace) -> int:
    if getattr(args, "create_kind", None) is None and not args.filename:
        raise CommandError("must specify one of -f or a kind to create (analysisrun)")
    objects = [obj for path in args.filename for obj in manifests.read_objects(path)]
    watched = _watched_rollout(objects) if args.watch else None
    connection = resolve_connection(args)

    async def work() -> None:
        async with connect(connection) as client:
            await _create_all(client, connection, objects)

    run_async(work)
    if watched is None:
        return 0
    watch_args = argparse.Namespace(**vars(args))
    watch_args.name = watched
    return get_rollout_command(watch_args)


# ---------------------------------------------------------------- create analysisrun


async def _templates(
    client: KubeClient, namespace: str, root: analysisrun_build.TemplateKey
) -> dict[analysisrun_build.TemplateKey, dict[str, Any]]:
    """The root template and every template it includes (spec.templates), each fetched once."""
    found: dict[analysisrun_build.TemplateKey, dict[str, Any]] = {}
    pending = [root]
    while pending:
        key = pending.pop()
        if key in found:
            continue
        cluster_scope, name = key
        resource = CLUSTER_ANALYSIS_TEMPLATES if cluster_scope else ANALYSIS_TEMPLATES
        found[key] = await get_named(client, resource, namespace, name)
        pending.extend(analysisrun_build.nested_refs(found[key]))
    return found


def create_analysis_run_command(args: argparse.Namespace) -> int:
    run_args = analysisrun_build.parse_arg_flags(args.argument)
    connection = resolve_connection(args)
    root = (bool(args.cluster_scope), str(args.from_template))

    async def work() -> str:
        async with connect(connection) as client:
            templates = await _templates(client, connection.namespace, root)
            run = analysisrun_build.build_analysis_run(
                root,
                templates,
                args=run_args,
                namespace=connection.namespace,
                name=args.name,
                generate_name=args.generate_name,
                instance_id=args.instance_id,
            )
            created = await client.create(ANALYSIS_RUNS, connection.namespace, run)
            return str(created["metadata"]["name"])

    print(created_line(ANALYSIS_RUNS, run_async(work)))
    return 0
