"""`rollouts plan --from live`: the version running now, read from the cluster instead of a file.

The plan then walks the update from what is deployed to the file. Read with
the CLI's usual connection (kubeapi.py): the live Rollout of the file's name,
the Services its strategy names, its namespace's AnalysisTemplates, the
ClusterAnalysisTemplates either version names, and its workloadRef Deployment.
Objects that are missing are left out (the plan stands in for them), except the
Rollout itself.
"""

from __future__ import annotations

import argparse
from typing import Any

from rollouts.api.kinds import ANALYSIS_TEMPLATES, CLUSTER_ANALYSIS_TEMPLATES, ROLLOUTS
from rollouts.api.resource import Resource
from rollouts.cli.kubeapi import connect, get_named, list_items, resolve_connection, run_async, with_retries
from rollouts.cli.main import CommandError
from rollouts.cli.plan_walk import Manifests, service_names, strategy_of, template_refs
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFoundError
from rollouts.kube.resources import DEPLOYMENTS, SERVICES


async def _optional(client: KubeClient, resource: Resource, namespace: str | None, name: str) -> dict[str, Any] | None:
    try:
        return await with_retries(lambda: client.get(resource, namespace, name))
    except NotFoundError:
        return None


async def read_live(client: KubeClient, *, namespace: str, new: Manifests) -> Manifests:
    """The live objects `new`'s Rollout is an update of."""
    name = str((new.rollout.get("metadata") or {}).get("name") or "")
    if not name:
        raise CommandError("--from live: the Rollout in the file has no metadata.name")
    rollout = await get_named(client, ROLLOUTS, namespace, name)
    live = Manifests(rollout=rollout)
    for service in sorted(set(service_names(rollout)) | set(service_names(new.rollout))):
        found = await _optional(client, SERVICES, namespace, service)
        if found is not None:
            live.services[service] = found
    for template in await list_items(client, ANALYSIS_TEMPLATES, namespace):
        live.templates[(False, str(template["metadata"]["name"]))] = template
    refs = template_refs(strategy_of(rollout)) + template_refs(strategy_of(new.rollout))
    for cluster_name in sorted({ref_name for cluster, ref_name in refs if cluster}):
        found = await _optional(client, CLUSTER_ANALYSIS_TEMPLATES, None, cluster_name)
        if found is not None:
            live.templates[(True, cluster_name)] = found
    workload = (rollout.get("spec") or {}).get("workloadRef") or {}
    if workload.get("kind") == "Deployment" and workload.get("name"):
        live.workload = await _optional(client, DEPLOYMENTS, namespace, str(workload["name"]))
    return live


def live_manifests(args: argparse.Namespace, new: Manifests) -> Manifests:
    """Read the live version with the command's connection flags (-n, else the file's namespace, else the context's)."""
    connection = resolve_connection(args)
    file_namespace = (new.rollout.get("metadata") or {}).get("namespace")
    namespace = str(args.namespace or file_namespace or connection.namespace)

    async def work() -> Manifests:
        async with connect(connection) as client:
            return await read_live(client, namespace=namespace, new=new)

    return run_async(work)
