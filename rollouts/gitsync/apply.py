"""Server-side apply of rendered manifests: prepare, dry-run, then apply in dependency order.

`prepare()` turns rendered objects into what we apply: the destination
namespace filled in for namespaced kinds that name none (and removed from
cluster-scoped ones), and the tracking annotation added. `apply_all()` first
sends every object as a server-side dry run (as Argo CD does before a sync),
so an object the API server refuses fails the sync before anything changed
and the last good revision stays applied; then it applies for real in
dependency order (Namespaces and CRDs first) with field manager
`rollouts-gitsync` and `force`, so a field someone changed with
`kubectl edit` is taken back (self-heal).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from rollouts.api.gitsync import TRACKING_ANNOTATION
from rollouts.api.resource import Resource
from rollouts.gitsync.discovery import Discovery, UnknownKindError
from rollouts.gitsync.tracking import ResourceKey, apply_order, tracking_id
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import KubeError, NotFoundError
from rollouts.kube.resources import NAMESPACES

FIELD_MANAGER = "rollouts-gitsync"
CRD_GROUP = "apiextensions.k8s.io"


class PrepareError(Exception):
    """The rendered manifests cannot be applied as a set (duplicates, bad names)."""


@dataclass
class Desired:
    """One object to apply: its body (namespace and tracking annotation set) and where it lives."""

    obj: dict[str, Any]
    key: ResourceKey
    resource: Resource | None  # None: a kind the server does not serve yet (its CRD is in this sync)

    @property
    def api_version(self) -> str:
        return str(self.obj["apiVersion"])


@dataclass
class ApplyResult:
    key: ResourceKey
    version: str
    status: str  # Synced / SyncFailed
    message: str
    live: dict[str, Any] | None = None


@dataclass
class ApplyOutcome:
    results: list[ApplyResult] = field(default_factory=list)
    error: str | None = None  # set when the sync failed (dry run or apply)


def _crd_scopes(objects: list[dict[str, Any]]) -> dict[tuple[str, str], bool]:
    """(group, kind) -> namespaced, for CRDs that are part of this render."""
    scopes: dict[tuple[str, str], bool] = {}
    for obj in objects:
        if obj.get("kind") == "CustomResourceDefinition" and str(obj.get("apiVersion", "")).startswith(CRD_GROUP):
            spec = obj.get("spec") or {}
            kind = str((spec.get("names") or {}).get("kind") or "")
            scopes[(str(spec.get("group") or ""), kind)] = spec.get("scope", "Namespaced") != "Cluster"
    return scopes


async def prepare(
    objects: list[dict[str, Any]],
    *,
    discovery: Discovery,
    gitsync_namespace: str,
    gitsync_name: str,
    default_namespace: str,
) -> list[Desired]:
    """The objects to apply, in apply order, each with namespace and tracking annotation."""
    scopes = _crd_scopes(objects)
    prepared: list[Desired] = []
    seen: set[ResourceKey] = set()
    for original in apply_order(objects):
        obj = copy.deepcopy(original)
        api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
        resource: Resource | None
        try:
            resource = await discovery.resource(api_version, kind)
            namespaced = resource.namespaced
        except UnknownKindError:
            resource = None
            namespaced = scopes.get((api_version.rpartition("/")[0], kind), True)
        metadata = obj.setdefault("metadata", {})
        if namespaced:
            metadata.setdefault("namespace", default_namespace)
            if not metadata["namespace"]:
                metadata["namespace"] = default_namespace
        else:
            metadata.pop("namespace", None)
        key = ResourceKey.of(obj)
        if key in seen:
            raise PrepareError(f"{key.kind} {key.namespace + '/' if key.namespace else ''}{key.name} appears twice")
        seen.add(key)
        annotations = metadata.get("annotations") or {}
        annotations[TRACKING_ANNOTATION] = tracking_id(
            gitsync_namespace=gitsync_namespace, gitsync_name=gitsync_name, key=key
        )
        metadata["annotations"] = annotations
        prepared.append(Desired(obj=obj, key=key, resource=resource))
    return prepared


async def server_side_apply(
    client: KubeClient, resource: Resource, obj: dict[str, Any], *, dry_run: bool = False
) -> dict[str, Any]:
    """One server-side apply under FIELD_MANAGER, forcing ownership of conflicting fields."""
    meta = obj["metadata"]
    query = [("fieldManager", FIELD_MANAGER), ("force", "true")]
    if dry_run:
        query.append(("dryRun", "All"))
    return await client.request(
        "PATCH",
        resource.path(meta.get("namespace"), meta["name"]),
        query=query,
        body=obj,
        content_type="application/apply-patch+yaml",
        counted_as=("Patch", resource, meta.get("namespace") or "", meta["name"]),
    )


async def ensure_namespace(client: KubeClient, name: str) -> bool:
    """Create namespace `name` if missing (CreateNamespace=true); True if we created it.

    Like Argo CD it is not tracked, so prune never deletes it.
    """
    try:
        await client.get(NAMESPACES, None, name)
        return False
    except NotFoundError:
        pass
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    await server_side_apply(client, NAMESPACES, body)
    return True


def _describe(desired: Desired) -> str:
    key = desired.key
    return f"{key.kind} {key.namespace + '/' if key.namespace else ''}{key.name}"


async def apply_all(
    client: KubeClient,
    desired: list[Desired],
    *,
    discovery: Discovery,
    new_namespaces: set[str],
) -> ApplyOutcome:
    """Dry-run everything, then apply in order; stop at the first refusal.

    `new_namespaces` are namespaces this sync creates: objects in them (and
    of kinds whose CRD is in this sync) cannot be dry-run beforehand.
    """
    outcome = ApplyOutcome()
    created_in_sync = new_namespaces | {d.key.name for d in desired if d.key.kind == "Namespace" and d.key.group == ""}
    for item in desired:
        if item.resource is None or item.key.namespace in created_in_sync:
            continue
        try:
            await server_side_apply(client, item.resource, item.obj, dry_run=True)
        except KubeError as error:
            outcome.error = f"{_describe(item)}: {_api_message(error)}"
            outcome.results.append(
                ApplyResult(item.key, item.api_version.rpartition("/")[2], "SyncFailed", outcome.error)
            )
            return outcome
    crds_applied = False
    for item in desired:
        version = item.api_version.rpartition("/")[2]
        try:
            resource = item.resource or await discovery.resource(
                item.api_version, item.key.kind, retries=20 if crds_applied else 0
            )
            live = await server_side_apply(client, resource, item.obj)
        except (KubeError, UnknownKindError) as error:
            message = _api_message(error) if isinstance(error, KubeError) else str(error)
            outcome.error = f"{_describe(item)}: {message}"
            outcome.results.append(ApplyResult(item.key, version, "SyncFailed", outcome.error))
            return outcome
        if item.key.kind == "CustomResourceDefinition":
            crds_applied = True
        outcome.results.append(ApplyResult(item.key, version, "Synced", f"{_describe(item)} applied", live))
    return outcome


def _api_message(error: KubeError) -> str:
    # "PATCH /apis/...: <server message>": the path adds nothing for a human.
    text = str(error)
    head, separator, rest = text.partition(": ")
    return rest if separator and head.split(" ")[0] in {"PATCH", "GET", "DELETE", "POST", "PUT"} else text
