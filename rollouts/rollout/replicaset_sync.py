"""Creating, revising, scaling and cleaning up a rollout's ReplicaSets: Argo's rollout/replicaset.go.

The pure ReplicaSet helpers (names, counters, revisions, metadata) are in
replicasets.py; this module holds what a reconcile does to the ReplicaSets
through its context, for both strategies: create the new one, keep revisions
in step, scale one and record the event, delete idle ones beyond the
revision history limit, and tell a rollback from an update.
"""

from __future__ import annotations

import copy
from typing import Any

from rollouts.api.constants import (
    CONDITION_PROGRESSING,
    DESIRED_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    SCALE_DOWN_DEADLINE_ANNOTATION,
)
from rollouts.rollout import conditions as cond
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout.actions import (
    CreateReplicaSet,
    DeleteReplicaSet,
    PatchReplicaSet,
    PatchRolloutMetadata,
    ScaleReplicaSet,
)
from rollouts.rollout.context import Plan, RolloutContext
from rollouts.rollout.metadata import PodMetadata
from rollouts.rollout.replicasets import RS
from rollouts.rollout.services import selector_hash

EXPERIMENT_NAME_ANNOTATION = "experiment.argoproj.io/name"


def create_new_replicaset(ctx: RolloutContext, *, new_meta: PodMetadata, stable_meta: PodMetadata) -> Plan:
    """Argo's createDesiredReplicaSet, after which Argo's reconcile ends (the rollout was written)."""
    revision = rsutil.max_revision(ctx.older_rss) + 1
    body = rsutil.new_replicaset(
        rollout=ctx.raw,
        template=ctx.template,
        pod_hash=ctx.pod_hash,
        revision_number=revision,
        ephemeral_metadata=new_meta if ctx.stable_rs is not None else stable_meta,
    )
    ctx.actions.append(CreateReplicaSet(body=body))
    if ctx.rollout_revision != revision:
        ctx.actions.append(PatchRolloutMetadata(annotations={REVISION_ANNOTATION: str(revision)}))
        ctx.event(cond.ROLLOUT_UPDATED_REASON, cond.ROLLOUT_UPDATED_MESSAGE.format(revision))
    name = body["metadata"]["name"]
    ctx.event(cond.NEW_REPLICA_SET_REASON, cond.NEW_REPLICA_SET_DETAILED_MESSAGE.format(name, revision))
    status = copy.deepcopy(ctx.old)
    cond.set_condition(
        status,
        cond.new_condition(
            CONDITION_PROGRESSING,
            "True",
            cond.NEW_REPLICA_SET_REASON,
            cond.NEW_REPLICA_SET_MESSAGE.format(name),
            ctx.now,
        ),
    )
    return ctx.plan(status)


def sync_replicaset_revision(ctx: RolloutContext) -> None:
    """Argo's syncReplicaSetRevision: the new RS's revision only goes up; the rollout's follows it."""
    assert ctx.new_rs is not None
    new_revision = rsutil.max_revision(ctx.older_rss) + 1
    patch = rsutil.revision_sync_patch(ctx.new_rs, rollout=ctx.raw, new_revision=new_revision)
    if patch is not None:
        ctx.actions.append(PatchReplicaSet(name=rsutil.rs_name(ctx.new_rs), patch=patch))
        merge_patch(ctx.new_rs, patch)
        return
    revision = rsutil.revision(ctx.new_rs)
    if rsutil.annotations_of(ctx.raw).get(REVISION_ANNOTATION) != str(revision):
        ctx.actions.append(PatchRolloutMetadata(annotations={REVISION_ANNOTATION: str(revision)}))
        ctx.event(cond.ROLLOUT_UPDATED_REASON, cond.ROLLOUT_UPDATED_MESSAGE.format(revision))
        ctx.rollout_revision = revision
    if cond.get_condition(ctx.base, CONDITION_PROGRESSING) is None:
        cond.set_condition(
            ctx.base,
            cond.new_condition(
                CONDITION_PROGRESSING,
                "True",
                cond.FOUND_NEW_RS_REASON,
                cond.FOUND_NEW_RS_MESSAGE.format(rsutil.rs_name(ctx.new_rs)),
                ctx.now,
            ),
        )


def is_scaling_event(ctx: RolloutContext) -> bool:
    """Argo's isScalingEvent: spec.replicas changed since the new/stable RS was last scaled."""
    for rs in (ctx.new_rs, ctx.stable_rs):
        if rs is None or not rsutil.is_active(rs):
            continue
        desired = rsutil.desired_replicas(rs)
        if desired is not None and desired != ctx.replicas:
            return True
    return False


def scale(ctx: RolloutContext, rs: RS, replicas: int) -> bool:
    """Argo's scaleReplicaSetAndRecordEvent: True when the size changed."""
    current = rsutil.spec_replicas(rs)
    if current == replicas and not rsutil.desired_replicas_annotation_stale(rs, ctx.replicas):
        return False
    annotations: dict[str, str | None] = {DESIRED_REPLICAS_ANNOTATION: str(ctx.replicas)}
    if replicas == 0 and rsutil.has_scale_down_deadline(rs):
        annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = None
    ctx.actions.append(ScaleReplicaSet(name=rsutil.rs_name(rs), replicas=replicas, annotations=annotations))
    if current == replicas:
        return False
    ctx.event(
        cond.SCALING_REPLICA_SET_REASON,
        cond.SCALING_REPLICA_SET_MESSAGE.format(
            "up" if current < replicas else "down", rsutil.rs_name(rs), rsutil.revision(rs), current, replicas
        ),
    )
    return True


def reconcile_revision_history(ctx: RolloutContext) -> None:
    """Argo's reconcileRevisionHistoryLimit: delete the oldest idle other RSs beyond the limit."""
    limit = ctx.rollout.spec.effective_revision_history_limit()
    cleanable = sorted((rs for rs in ctx.other_rss if not rsutil.is_being_deleted(rs)), key=rsutil.creation_key)
    for rs in cleanable[: max(0, len(cleanable) - limit)]:
        if rsutil.status_replicas(rs) != 0 or rsutil.spec_replicas(rs) != 0 or not rsutil.generation_observed(rs):
            continue
        if rsutil.rs_hash(rs) in referenced_hashes(ctx):
            continue  # a Service (or our status) still names it: never leave a selector on a deleted RS
        ctx.actions.append(DeleteReplicaSet(name=rsutil.rs_name(rs), uid=rsutil.rs_uid(rs)))


def referenced_hashes(ctx: RolloutContext) -> set[str]:
    """Argo's isReplicaSetReferenced: pod hashes our status or a Service selector still points at."""
    hashes = {str(ctx.old.get("stableRS") or ""), str(ctx.old.get("currentPodHash") or "")}
    blue_green = ctx.old.get("blueGreen") or {}
    hashes |= {str(blue_green.get("activeSelector") or ""), str(blue_green.get("previewSelector") or "")}
    for service in ctx.observed.services.values():
        if service is not None:
            hashes.add(selector_hash(service))
    hashes.discard("")
    return hashes


def _created_before(first: RS, second: RS) -> bool:
    return rsutil.creation_timestamp(first) < rsutil.creation_timestamp(second)


def is_rollback(ctx: RolloutContext) -> bool:
    """The new ReplicaSet is the stable one or older than it: going back, not forward."""
    if ctx.new_rs is None or ctx.stable_rs is None:
        return False
    return ctx.old.get("stableRS") == rsutil.rs_hash(ctx.new_rs) or _created_before(ctx.new_rs, ctx.stable_rs)


def rollback_within_window(ctx: RolloutContext) -> bool:
    """Argo's isRollbackWithinWindow: back to a revision at most rollbackWindow.revisions old."""
    new_rs, stable_rs = ctx.new_rs, ctx.stable_rs
    if new_rs is None or stable_rs is None or not _created_before(new_rs, stable_rs):
        return False
    window = ctx.rollout.spec.rollback_window
    if window is None or not window.revisions or window.revisions <= 0:
        return False
    between = sum(
        1
        for rs in ctx.all_rss
        if not rsutil.annotations_of(rs).get(EXPERIMENT_NAME_ANNOTATION)
        and _created_before(rs, stable_rs)
        and _created_before(new_rs, rs)
    )
    return between < window.revisions


def unique(rss: list[RS | None]) -> list[RS]:
    """The ReplicaSets by name, each once, Nones dropped."""
    seen: set[str] = set()
    found: list[RS] = []
    for rs in rss:
        if rs is not None and rsutil.rs_name(rs) not in seen:
            seen.add(rsutil.rs_name(rs))
            found.append(rs)
    return found


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Apply a JSON merge patch in place (to keep our copy of an RS in step with a patch we emit)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
