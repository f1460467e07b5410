"""Ephemeral pod metadata: the labels and annotations only the canary/preview or stable/active pods carry.

Argo's canaryMetadata / stableMetadata (blue-green: previewMetadata /
activeMetadata) are written on the ReplicaSets' pod templates and patched
onto their running pods, and follow the pods when the new ReplicaSet becomes
stable (rollout/ephemeralmetadata.go). The ReplicaSet-side encoding is in
replicasets.py; this module decides which ReplicaSet gets which metadata.
"""

from __future__ import annotations

from typing import Any

from rollouts.rollout import replicasets as rsutil
from rollouts.rollout.actions import PatchPod, PatchReplicaSet
from rollouts.rollout.context import RolloutContext
from rollouts.rollout.replicasets import RS

PodMetadata = dict[str, dict[str, str]] | None
"""{"labels": ..., "annotations": ...} as the API model dumps it; None when not configured."""


def metadata_dict(metadata: Any) -> PodMetadata:
    """The API model's PodTemplateMetadata as a dict (None stays None)."""
    if metadata is None:
        return None
    dumped: dict[str, dict[str, str]] = metadata.to_dict()
    return dumped


def reconcile_ephemeral_metadata(ctx: RolloutContext, *, new_meta: PodMetadata, stable_meta: PodMetadata) -> None:
    """Argo's reconcileEphemeralMetadata: the new pods carry `new_meta` until they are the stable ones."""
    if new_meta is None and stable_meta is None:
        return
    assert ctx.new_rs is not None
    stable_hash = ctx.old.get("stableRS") or ""
    if not stable_hash or stable_hash == rsutil.rs_hash(ctx.new_rs):
        _sync_metadata(ctx, ctx.new_rs, stable_meta)
    else:
        _sync_metadata(ctx, ctx.new_rs, new_meta)
        _sync_metadata(ctx, ctx.stable_rs, stable_meta)
    for rs in ctx.other_rss:
        _sync_metadata(ctx, rs, None)


def _sync_metadata(ctx: RolloutContext, rs: RS | None, desired: PodMetadata) -> None:
    if rs is None:
        return
    existing = rsutil.parse_ephemeral_metadata(rs)
    patch = rsutil.ephemeral_metadata_patch(rs, desired)
    if patch is not None:
        ctx.actions.append(PatchReplicaSet(name=rsutil.rs_name(rs), patch=patch))
    if rsutil.spec_replicas(rs) == 0 or ctx.observed.pods is None:
        return
    uid = rsutil.rs_uid(rs)
    for pod in sorted(ctx.observed.pods, key=lambda p: str(p["metadata"].get("name", ""))):
        if not any(ref.get("uid") == uid for ref in pod["metadata"].get("ownerReferences") or []):
            continue
        pod_patch = rsutil.pod_metadata_patch(pod, existing=existing, desired=desired)
        if pod_patch is not None:
            ctx.actions.append(PatchPod(name=str(pod["metadata"]["name"]), patch=pod_patch))
