"""The write half of a sync: create the destination namespace if asked, apply everything, then prune.

Apart from the controller so the order that keeps a failed sync harmless has
one home: `apply_all` dry-runs everything before the first real write, and
prune (with or without PruneLast=true) runs only after every apply
succeeded, so a failed sync deletes nothing. What the outcome means for the
GitSync's operationState is `rollouts.gitsync.status`.
"""

from __future__ import annotations

from rollouts.api.gitsync import SYNC_OPTION_CREATE_NAMESPACE, GitSync
from rollouts.gitsync.apply import ApplyOutcome, Desired, apply_all, ensure_namespace
from rollouts.gitsync.desired import destination_namespace
from rollouts.gitsync.discovery import Discovery
from rollouts.gitsync.prune import PruneCandidate, PruneResult, prune
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import KubeError


async def apply_and_prune(
    client: KubeClient,
    gitsync: GitSync,
    *,
    desired: list[Desired],
    candidates: list[PruneCandidate],
    discovery: Discovery,
) -> tuple[ApplyOutcome, list[PruneResult]]:
    """Apply `desired` with `client`, then prune `candidates` when the apply succeeded and prune is on."""
    new_namespaces: set[str] = set()
    outcome = ApplyOutcome()
    try:
        destination = destination_namespace(gitsync)
        if gitsync.spec.has_option(SYNC_OPTION_CREATE_NAMESPACE) and await ensure_namespace(client, destination):
            new_namespaces.add(destination)
        outcome = await apply_all(client, desired, discovery=discovery, new_namespaces=new_namespaces)
    except KubeError as error:
        outcome.error = f"cannot create namespace: {error}"
    pruned: list[PruneResult] = []
    automated = gitsync.spec.automated
    if outcome.error is None and candidates and automated is not None and automated.prune:
        pruned = await prune(
            client,
            candidates,
            discovery=discovery,
            gitsync_namespace=gitsync.metadata.namespace or "",
            gitsync_name=gitsync.metadata.name or "",
        )
    return outcome, pruned
