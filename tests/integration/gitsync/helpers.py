"""Shared pieces of the GitSync integration tests: the resource, a manifest builder, waits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rollouts.api.resource import Resource
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFoundError
from tests.waiting import eventually

GITSYNCS = Resource("rollouts.io", "v1alpha1", "gitsyncs", "GitSync")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
TIMEOUT = 120.0


def configmap_yaml(name: str, **data: str) -> str:
    lines = [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:"]
    lines += [f'  {key}: "{value}"' for key, value in data.items()] or ["  {}"]
    return "\n".join(lines) + "\n"


def gitsync_manifest(
    name: str,
    repo: Path | str,
    *,
    path: str = ".",
    refresh: str = "2s",
    automated: bool = True,
    prune: bool = True,
    self_heal: bool = True,
    destination: str | None = None,
    source: dict[str, Any] | None = None,
    options: list[str] | None = None,
    credentials_secret: str | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "source": {"repoURL": str(repo), "path": path, "targetRevision": "HEAD", **(source or {})},
        "refreshInterval": refresh,
    }
    if destination:
        spec["destination"] = {"namespace": destination}
    policy: dict[str, Any] = {}
    if automated:
        policy["automated"] = {"prune": prune, "selfHeal": self_heal}
    if options:
        policy["syncOptions"] = options
    if policy:
        spec["syncPolicy"] = policy
    if credentials_secret:
        spec["credentialsSecret"] = credentials_secret
    return {"apiVersion": "rollouts.io/v1alpha1", "kind": "GitSync", "metadata": {"name": name}, "spec": spec}


async def create_gitsync(client: KubeClient, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
    return await client.create(GITSYNCS, namespace, manifest)


async def wait_gitsync(
    client: KubeClient,
    namespace: str,
    name: str,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    what: str,
    timeout: float = TIMEOUT,
) -> dict[str, Any]:
    return await eventually(
        lambda: client.get(GITSYNCS, namespace, name), predicate, timeout=timeout, interval=0.5, what=f"{name}: {what}"
    )


def status(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("status") or {}


def synced_at(revision: str) -> Callable[[dict[str, Any]], bool]:
    """Synced to `revision` with the last operation Succeeded."""

    def check(obj: dict[str, Any]) -> bool:
        s = status(obj)
        return (
            (s.get("sync") or {}).get("status") == "Synced"
            and (s.get("sync") or {}).get("revision") == revision
            and (s.get("operationState") or {}).get("phase") == "Succeeded"
        )

    return check


def operation_failed_with(text: str) -> Callable[[dict[str, Any]], bool]:
    def check(obj: dict[str, Any]) -> bool:
        s = status(obj)
        operation = s.get("operationState") or {}
        return operation.get("phase") in ("Failed", "Error") and text in str(operation.get("message"))

    return check


async def get_or_none(
    client: KubeClient, resource: Resource, namespace: str | None, name: str
) -> dict[str, Any] | None:
    try:
        return await client.get(resource, namespace, name)
    except NotFoundError:
        return None
