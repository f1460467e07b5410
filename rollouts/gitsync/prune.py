"""Prune: delete objects this GitSync applied earlier that are no longer in Git.

Candidates come from the GitSync's own inventory (status.resources of the
last reconcile) minus what the current render wants. Before deleting, the
live object is read and must carry exactly this GitSync's tracking
annotation; anything else (no annotation, another GitSync's, an object
recreated by hand) is skipped and reported, never deleted. The delete is
preconditioned on the uid we looked at. Prune order is the reverse of apply
order, so workloads go before the Namespace or CRD they need.
"""

from __future__ import annotations

from dataclasses import dataclass

from rollouts.gitsync.discovery import Discovery, UnknownKindError
from rollouts.gitsync.tracking import ResourceKey, prune_order, tracked_by, tracking_id
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import KubeError, NotFoundError


@dataclass(frozen=True)
class PruneCandidate:
    key: ResourceKey
    version: str

    @property
    def api_version(self) -> str:
        return f"{self.key.group}/{self.version}" if self.key.group else self.version


@dataclass
class PruneResult:
    candidate: PruneCandidate
    status: str  # Pruned / PruneSkipped / SyncFailed
    message: str


async def still_tracked(
    client: KubeClient,
    candidate: PruneCandidate,
    *,
    discovery: Discovery,
    gitsync_namespace: str,
    gitsync_name: str,
) -> bool:
    """True if the candidate exists and still carries our tracking id (so it would be pruned)."""
    try:
        resource = await discovery.resource(candidate.api_version, candidate.key.kind)
        live = await client.get(resource, candidate.key.namespace or None, candidate.key.name)
    except (NotFoundError, UnknownKindError):
        return False
    expected = tracking_id(gitsync_namespace=gitsync_namespace, gitsync_name=gitsync_name, key=candidate.key)
    return tracked_by(live, expected)


async def prune(
    client: KubeClient,
    candidates: list[PruneCandidate],
    *,
    discovery: Discovery,
    gitsync_namespace: str,
    gitsync_name: str,
) -> list[PruneResult]:
    by_key = {c.key: c for c in candidates}
    results: list[PruneResult] = []
    for key in prune_order(list(by_key)):
        candidate = by_key[key]
        try:
            resource = await discovery.resource(candidate.api_version, key.kind)
            live = await client.get(resource, key.namespace or None, key.name)
        except (NotFoundError, UnknownKindError):
            results.append(PruneResult(candidate, "Pruned", "already gone"))
            continue
        except KubeError as error:
            results.append(PruneResult(candidate, "SyncFailed", f"cannot read for prune: {error}"))
            continue
        expected = tracking_id(gitsync_namespace=gitsync_namespace, gitsync_name=gitsync_name, key=key)
        if not tracked_by(live, expected):
            results.append(PruneResult(candidate, "PruneSkipped", "not tracked by this GitSync; left alone"))
            continue
        try:
            await client.delete(
                resource, key.namespace or None, key.name, uid=live["metadata"].get("uid"), propagation="Background"
            )
        except NotFoundError:
            pass
        except KubeError as error:
            results.append(PruneResult(candidate, "SyncFailed", f"prune failed: {error}"))
            continue
        results.append(PruneResult(candidate, "Pruned", "pruned"))
    return results
