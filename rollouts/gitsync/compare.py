"""How a GitSync's desired objects stand against the cluster: in sync, drifted, missing, left Git.

The read half of a reconcile, apart from the controller so the rules have one
home: an object is Synced when `diff.differences` finds nothing between what
Git wants and the live copy, OutOfSync otherwise (missing included); a prune
candidate is an object of the last inventory (status.resources) that Git no
longer wants and that still carries this GitSync's tracking id.
"""

from __future__ import annotations

from typing import Any

from rollouts.api.gitsync import GitSync
from rollouts.gitsync.apply import Desired
from rollouts.gitsync.desired import live_object
from rollouts.gitsync.diff import differences
from rollouts.gitsync.discovery import Discovery
from rollouts.gitsync.prune import PruneCandidate, still_tracked
from rollouts.gitsync.tracking import ResourceKey
from rollouts.kube.client import KubeClient

SYNCED = "Synced"
OUT_OF_SYNC = "OutOfSync"

# key -> (Synced / OutOfSync, live object or None)
Compared = dict[ResourceKey, tuple[str, dict[str, Any] | None]]


async def compare(client: KubeClient, desired: list[Desired]) -> Compared:
    """Each desired object's sync status and its live copy, read with `client`."""
    result: Compared = {}
    for item in desired:
        live = await live_object(client, item)
        drift = differences(item.obj, live) if live is not None else ["(missing)"]
        result[item.key] = (SYNCED if not drift else OUT_OF_SYNC, live)
    return result


async def prune_candidates(
    client: KubeClient, gitsync: GitSync, desired: list[Desired], *, discovery: Discovery
) -> list[PruneCandidate]:
    """Objects of the last inventory that left Git and still carry our tracking id."""
    wanted = {item.key for item in desired}
    candidates = []
    for entry in (gitsync.status.resources if gitsync.status else None) or []:
        key = ResourceKey(entry.group or "", entry.kind, entry.namespace or "", entry.name)
        if key in wanted or not entry.version:
            continue
        candidate = PruneCandidate(key, entry.version)
        if await still_tracked(
            client,
            candidate,
            discovery=discovery,
            gitsync_namespace=gitsync.metadata.namespace or "",
            gitsync_name=gitsync.metadata.name or "",
        ):
            candidates.append(candidate)
    return candidates
