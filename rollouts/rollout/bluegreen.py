"""The blue-green reconcile: Argo's rolloutBlueGreen (rollout/bluegreen.go) as functions over the context.

A blue-green update runs the new ReplicaSet beside the stable one: it scales
to `previewReplicaCount` (or full size), `previewService` points at it at
once, the rollout pauses (BlueGreenPause) when auto promotion is off or
delayed by `autoPromotionSeconds`, a pre-promotion analysis gates the switch,
then `activeService` is switched to the new pods, a post-promotion analysis
(if any) must pass, and only then the new ReplicaSet becomes stable. The old
one keeps running for `scaleDownDelaySeconds` (annotated with Argo's
`scale-down-deadline`) so that a switch back is instant, and at most
`scaleDownDelayRevisionLimit` old revisions stay up. An abort switches the
active Service back to the stable pods and scales the preview down after
`abortScaleDownDelaySeconds`.

What both strategies share (finding and creating ReplicaSets, pause and abort
bookkeeping, conditions, phase, revision history, restarts) is done through
the RolloutContext by the shared modules; `BlueGreenReconcile` holds what only
blue-green tracks and answers sync.StrategyRules. The order follows Argo's
bluegreen.go, service.go, replicaset.go and sync.go, because the order decides
which status a reconcile writes. Pure: no I/O.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.common import InvalidValueError, scaled_value
from rollouts.api.constants import (
    ANALYSIS_SUCCESSFUL,
    DEFAULT_MAX_UNAVAILABLE,
    PAUSE_BLUE_GREEN,
    PAUSE_CANARY_STEP,
    PAUSE_INCONCLUSIVE_ANALYSIS,
    SCALE_DOWN_DEADLINE_ANNOTATION,
)
from rollouts.api.phases import analysis_run_phase, rollout_completed
from rollouts.api.rollout import Rollout
from rollouts.api.timestamps import format_time, parse_time
from rollouts.rollout import analysis as rollout_analysis
from rollouts.rollout import replicaset_sync as rssync
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout import sync
from rollouts.rollout.actions import PatchReplicaSet
from rollouts.rollout.bluegreen_state import (
    BlueGreenReconcile,
    completed_pause,
    completed_post_promotion,
    completed_pre_promotion,
    fast_tracked,
    halted,
    is_fast_rollback,
    is_saturated,
    needs_controller_pause,
    ready_for_pause,
    rs_with_hash,
    seconds_before_deadline,
    skip_post_promotion,
    skip_pre_promotion,
    wanted_new_replicas,
)
from rollouts.rollout.context import Observed, Plan, RolloutContext, new_context
from rollouts.rollout.metadata import metadata_dict, reconcile_ephemeral_metadata
from rollouts.rollout.pause import pause_condition
from rollouts.rollout.replicasets import RS
from rollouts.rollout.restart import reconcile_restart
from rollouts.rollout.services import observed_selectors, switch_tracked
from rollouts.rollout.status import BlueGreenStatus, Status, wire


def reconcile(
    observed: Observed,
    now: datetime,
    *,
    old: Status,
    raw: dict[str, Any],
    rollout: Rollout,
    workload_generation: str | None,
) -> Plan:
    """Argo's rolloutBlueGreen, from newRolloutContext on."""
    blue_green = rollout.spec.strategy.blue_green
    assert blue_green is not None
    replicas = rollout.spec.effective_replicas()
    max_unavailable = min(
        scaled_value(blue_green.max_unavailable, replicas, round_up=False, default=DEFAULT_MAX_UNAVAILABLE), replicas
    )
    ctx = new_context(
        observed,
        now,
        old=old,
        raw=raw,
        rollout=rollout,
        workload_generation=workload_generation,
        max_unavailable=max_unavailable,
    )
    bg = BlueGreenReconcile(
        ctx=ctx,
        bg=blue_green,
        selectors=observed_selectors(observed, [blue_green.active_service, blue_green.preview_service]),
    )
    if ctx.new_rs is None:
        return rssync.create_new_replicaset(
            ctx,
            new_meta=metadata_dict(blue_green.preview_metadata),
            stable_meta=metadata_dict(blue_green.active_metadata),
        )
    remaining = seconds_before_deadline(ctx.new_rs, now)
    bg.new_rs_within_delay = remaining is not None and remaining > 0

    if rollout_completed(wire(ctx.old)) and ctx.pause.is_aborted():
        ctx.pause.remove_abort = True

    early = sync.check_paused_conditions(ctx)
    if early is not None:
        return early

    rssync.sync_replicaset_revision(ctx)
    bg.pre_run, bg.post_run = _observed_runs(bg)
    try:
        if rssync.is_scaling_event(ctx):
            return _sync_replicas_only(bg)
        return _rollout_blue_green(bg)
    except InvalidValueError as error:
        return sync.invalid(observed, now, old=old, raw=raw, error=str(error), actions=ctx.actions)


def _sync_replicas_only(bg: BlueGreenReconcile) -> Plan:
    """Argo's syncReplicasOnly: a scaling event resizes the ReplicaSets and refreshes the counters only."""
    ctx = bg.ctx
    _reconcile_replicasets(bg)
    status = copy.deepcopy(ctx.base)
    active_rs = rs_with_hash(ctx, str((status.get("blueGreen") or {}).get("activeSelector") or ""))
    counted = [active_rs] if active_rs is not None else ctx.all_rss
    status["HPAReplicas"] = rsutil.total_status(counted)
    status["availableReplicas"] = rsutil.total_available(counted)
    return sync.persist(ctx, status, bg)


def _rollout_blue_green(bg: BlueGreenReconcile) -> Plan:
    ctx = bg.ctx
    if bg.bg.preview_service and not halted(ctx):
        switch_tracked(ctx, bg.selectors, bg.bg.preview_service, bg.new_hash)
    if _pod_spec_changed(ctx):
        return _sync_status(bg)
    reconcile_restart(ctx)
    _reconcile_replicasets(bg)
    _reconcile_pause(bg)
    _reconcile_active_service(bg)
    _reconcile_analysis(bg)
    reconcile_ephemeral_metadata(
        ctx, new_meta=metadata_dict(bg.bg.preview_metadata), stable_meta=metadata_dict(bg.bg.active_metadata)
    )
    return _sync_status(bg)


def _pod_spec_changed(ctx: RolloutContext) -> bool:
    """Argo's CheckPodSpecChange: the recorded current pod hash is not the new ReplicaSet's."""
    old_pod_hash = ctx.old.get("currentPodHash") or ""
    return bool(old_pod_hash) and ctx.new_rs is not None and old_pod_hash != rsutil.rs_hash(ctx.new_rs)


def _observed_runs(bg: BlueGreenReconcile) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The pre- and post-promotion runs of the new ReplicaSet as observed (Argo's currentArs)."""
    ctx = bg.ctx
    assert ctx.new_rs is not None
    by_name = {run["metadata"]["name"]: run for run in ctx.observed.analysis_runs}
    found: list[dict[str, Any] | None] = []
    for infix in ("pre", "post"):
        base = rollout_analysis.run_name(ctx.rollout.name, bg.new_hash, rsutil.revision(ctx.new_rs), infix)
        found.append(rollout_analysis.current_run(by_name, base)[1])
    return found[0], found[1]


def _reconcile_active_service(bg: BlueGreenReconcile) -> None:
    ctx = bg.ctx
    if halted(ctx):
        return
    assert ctx.new_rs is not None
    if not ready_for_pause(bg) or not is_saturated(ctx.new_rs, ctx.replicas):
        return
    active = bg.bg.active_service or ""
    desired = bg.selectors.get(active, "")
    if fast_tracked(bg):
        desired = bg.new_hash
    if completed_pause(bg) and completed_pre_promotion(bg):
        desired = bg.new_hash
    if ctx.old.get("abort"):
        desired = str(ctx.old.get("stableRS") or "")
    switch_tracked(ctx, bg.selectors, active, desired)


# ---------------------------------------------------------------------------- replica sets


def _abort_scale_down_delay(bg: BlueGreenReconcile) -> int | None:
    """abortScaleDownDelaySeconds (default 30); None when 0: the preview then stays up."""
    delay = bg.bg.effective_abort_scale_down_delay_seconds()
    return delay if delay > 0 else None


def _should_delay_scale_down_on_abort(bg: BlueGreenReconcile) -> bool:
    ctx = bg.ctx
    return ctx.pause.is_aborted() and ctx.stable_rs is not None and _abort_scale_down_delay(bg) is not None


def _set_deadline(ctx: RolloutContext, rs: RS, seconds: int) -> None:
    deadline = format_time(ctx.now + timedelta(seconds=seconds))
    ctx.actions.append(
        PatchReplicaSet(
            name=rsutil.rs_name(rs), patch={"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: deadline}}}
        )
    )


def _clear_deadline(ctx: RolloutContext, rs: RS) -> None:
    if rsutil.has_scale_down_deadline(rs):
        ctx.actions.append(
            PatchReplicaSet(
                name=rsutil.rs_name(rs), patch={"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: None}}}
            )
        )
        rsutil.remove_annotation(rs, SCALE_DOWN_DEADLINE_ANNOTATION)


def _reconcile_replicasets(bg: BlueGreenReconcile) -> None:
    """Argo's reconcileBlueGreenReplicaSets: stable at full size, the new one at its size, old ones down."""
    ctx = bg.ctx
    assert ctx.new_rs is not None
    if not _should_delay_scale_down_on_abort(bg):
        _clear_deadline(ctx, ctx.new_rs)
    if ctx.stable_rs is not None and rsutil.rs_name(ctx.stable_rs) != rsutil.rs_name(ctx.new_rs):
        _clear_deadline(ctx, ctx.stable_rs)
        rssync.scale(ctx, ctx.stable_rs, ctx.replicas)
    _reconcile_new_replicaset(bg)
    _scale_down_old_replicasets(bg)
    rssync.reconcile_revision_history(ctx)


def _reconcile_new_replicaset(bg: BlueGreenReconcile) -> None:
    ctx = bg.ctx
    assert ctx.new_rs is not None
    wanted = wanted_new_replicas(bg)
    if _should_delay_scale_down_on_abort(bg):
        remaining = seconds_before_deadline(ctx.new_rs, ctx.now)
        if remaining is not None:
            if remaining > 0:
                ctx.requeue_in(remaining)
                return
            wanted = 0
        else:
            delay = _abort_scale_down_delay(bg)
            assert delay is not None and ctx.stable_rs is not None
            # Only once the stable pods can take all traffic: the deadline removes the preview for good.
            if rsutil.spec_replicas(ctx.new_rs) > 0 and rsutil.available_replicas(ctx.stable_rs) >= ctx.replicas:
                _set_deadline(ctx, ctx.new_rs, delay)
                ctx.requeue_in(delay)
            return
    rssync.scale(ctx, ctx.new_rs, wanted)


def _scale_down_old_replicasets(bg: BlueGreenReconcile) -> None:
    """Argo's scaleDownOldReplicaSetsForBlueGreen, with scaleDownDelaySeconds and its revision limit.

    Differences from Argo, both to keep a leaving ReplicaSet from growing or
    staying forever: an RS inside its delay keeps its size (Argo scales it to
    the rollout's replicas), and scaleDownDelaySeconds: 0 scales down at once.
    """
    ctx = bg.ctx
    if pause_condition(ctx.old, PAUSE_INCONCLUSIVE_ANALYSIS) is not None:
        return
    if (
        bg.bg.post_promotion_analysis is not None
        and bg.bg.scale_down_delay_seconds is None
        and not skip_post_promotion(bg, bg.post_run)
        and (bg.post_run is None or analysis_run_phase(bg.post_run) != ANALYSIS_SUCCESSFUL)
    ):
        return  # without a delay, the old pods wait for the post-promotion verdict
    active = sorted((rs for rs in ctx.other_rss if rsutil.is_active(rs)), key=rsutil.revision, reverse=True)
    limit = bg.bg.scale_down_delay_revision_limit
    delay = bg.bg.effective_scale_down_delay_seconds()
    referenced = rssync.referenced_hashes(ctx) | set(bg.selectors.values())
    annotated = 0
    for rs in active:
        if rsutil.rs_hash(rs) in referenced:
            continue
        current = rsutil.spec_replicas(rs)
        wanted = 0
        remaining = seconds_before_deadline(rs, ctx.now)
        if not rsutil.has_scale_down_deadline(rs):
            if (limit is None or annotated < limit) and delay > 0:
                annotated += 1
                wanted = current
                _set_deadline(ctx, rs, delay)
                ctx.requeue_in(delay)
        else:
            annotated += 1
            if (limit is None or annotated <= limit) and remaining is not None and remaining > 0:
                ctx.requeue_in(remaining)
                wanted = current
        if wanted != current:
            rssync.scale(ctx, rs, wanted)


# ---------------------------------------------------------------------------- pause


def _reconcile_pause(bg: BlueGreenReconcile) -> None:
    """Argo's reconcileBlueGreenPause: pause before the switch when promotion is manual or delayed."""
    ctx = bg.ctx
    if ctx.old.get("abort") or not ready_for_pause(bg) or halted(ctx):
        return
    if (
        fast_tracked(bg)
        or (ctx.old.get("blueGreen") or {}).get("scaleUpPreviewCheckPoint")
        or not needs_controller_pause(bg)
    ):
        ctx.pause.remove_reasons.append(PAUSE_BLUE_GREEN)
        return
    if not completed_pre_promotion(bg):
        return
    pause = pause_condition(ctx.old, PAUSE_BLUE_GREEN)
    auto_seconds = bg.bg.auto_promotion_seconds
    if pause is None:
        if not ctx.old.get("controllerPause"):
            ctx.pause.add_reasons.append(PAUSE_BLUE_GREEN)
            if auto_seconds:
                ctx.requeue_in(auto_seconds)
        return
    if completed_pause(bg):
        ctx.pause.remove_reasons.append(PAUSE_BLUE_GREEN)
    elif auto_seconds:
        started = parse_time(pause.get("startTime")) or ctx.now
        remaining = (started + timedelta(seconds=auto_seconds) - ctx.now).total_seconds()
        # Argo compares with After(): come back just past the deadline.
        ctx.requeue_in(max(remaining, 0.0) + 0.5)


# ---------------------------------------------------------------------------- analysis


def _reconcile_analysis(bg: BlueGreenReconcile) -> None:
    """Argo's reconcileAnalysisRuns for blue-green: pre/post-promotion runs, abort or pause on their verdict."""
    ctx = bg.ctx
    old = ctx.old
    assert ctx.new_rs is not None
    stable_hash = str(old.get("stableRS") or "")
    cancel = (
        rollout_completed(wire(old))
        or ctx.pause.is_aborted()
        or bool(old.get("promoteFull"))
        or is_fast_rollback(bg)
        or not stable_hash
    )
    # Promoted past an inconclusive run (Argo's needsNewAnalysisRun): measure again.
    rerun_inconclusive = (
        bool(old.get("controllerPause"))
        and pause_condition(old, PAUSE_CANARY_STEP) is None
        and pause_condition(old, PAUSE_BLUE_GREEN) is None
        and pause_condition(old, PAUSE_INCONCLUSIVE_ANALYSIS) is None
    )
    verdict = rollout_analysis.blue_green_analysis(
        rollout_raw=ctx.raw,
        runs=ctx.observed.analysis_runs,
        lookup=ctx.template_lookup,
        pod_hash=bg.new_hash,
        stable_hash=stable_hash,
        revision=rsutil.revision(ctx.new_rs),
        cancel=cancel,
        skip_pre=skip_pre_promotion(bg, bg.pre_run),
        skip_post=skip_post_promotion(bg, bg.post_run),
        inconclusive_paused=pause_condition(old, PAUSE_INCONCLUSIVE_ANALYSIS) is not None,
        retrying=ctx.retrying(),
        rerun_inconclusive=rerun_inconclusive,
        history=ctx.history_limits(),
    )
    if verdict.error:
        raise InvalidValueError(f"spec.strategy.blueGreen: {verdict.error}")
    ctx.actions.extend(verdict.actions)
    bg.verdict = verdict
    if verdict.abort_message and not ctx.pause.is_aborted():
        ctx.pause.add_abort = True
        ctx.pause.abort_message = verdict.abort_message
    elif verdict.inconclusive:
        ctx.pause.add_reasons.append(PAUSE_INCONCLUSIVE_ANALYSIS)


# ---------------------------------------------------------------------------- status


def _should_full_promote(bg: BlueGreenReconcile, status: Status) -> str:
    """Argo's shouldFullPromote for blue-green; the order of the checks matters."""
    ctx = bg.ctx
    if ctx.stable_rs is None:
        return "Initial deploy"
    active = (status.get("blueGreen") or {}).get("activeSelector") or ""
    if not active:
        return "Initial deploy"  # the active Service follows the first stable ReplicaSet
    if active != status.get("currentPodHash"):
        return ""
    if ctx.old.get("promoteFull"):
        return "Full promotion requested"
    if is_fast_rollback(bg):
        return "Rollback within window" if rssync.rollback_within_window(ctx) else "Fast rollback"
    if ctx.pause.is_aborted():
        return ""
    if bg.bg.post_promotion_analysis is not None and not completed_post_promotion(bg):
        return ""
    return "Completed blue-green update"


def _scale_up_preview_check_point(bg: BlueGreenReconcile) -> bool:
    """Argo's calculateScaleUpPreviewCheckPoint: a one-way switch once the preview is promoted."""
    ctx = bg.ctx
    assert ctx.new_rs is not None
    preview = bg.bg.preview_replica_count
    if preview is None:
        return False
    if (ctx.old.get("blueGreen") or {}).get("scaleUpPreviewCheckPoint"):
        return True
    if not completed_pre_promotion(bg) or not completed_pause(bg):
        return False
    return preview == rsutil.available_replicas(ctx.new_rs)


def _sync_status(bg: BlueGreenReconcile) -> Plan:
    """Argo's syncRolloutStatusBlueGreen."""
    ctx = bg.ctx
    assert ctx.new_rs is not None
    status = sync.base_status(ctx, canary={})
    old_bg = ctx.old.get("blueGreen") or {}
    blue_green: BlueGreenStatus = {}
    verdict = bg.verdict
    pre = verdict.pre_run_status if verdict else old_bg.get("prePromotionAnalysisRunStatus")
    if pre is not None:
        blue_green["prePromotionAnalysisRunStatus"] = pre
    post = verdict.post_run_status if verdict else old_bg.get("postPromotionAnalysisRunStatus")
    if post is not None:
        blue_green["postPromotionAnalysisRunStatus"] = post
    status["blueGreen"] = blue_green
    if _pod_spec_changed(ctx):
        sync.reset_status(ctx, status, step_count=0)
        blue_green.pop("prePromotionAnalysisRunStatus", None)
        blue_green.pop("postPromotionAnalysisRunStatus", None)
        blue_green.pop("scaleUpPreviewCheckPoint", None)
    if ctx.old.get("promoteFull") or rssync.rollback_within_window(ctx):
        ctx.pause.clear = True
        ctx.pause.remove_abort = True
    preview = bg.selectors.get(bg.bg.preview_service or "", "")
    active = bg.selectors.get(bg.bg.active_service or "", "")
    if preview:
        blue_green["previewSelector"] = preview
    if active:
        blue_green["activeSelector"] = active
    reason = _should_full_promote(bg, status)
    if reason:
        sync.promote_stable(ctx, status, reason=reason, step_count=0)
        blue_green.pop("scaleUpPreviewCheckPoint", None)
    elif _scale_up_preview_check_point(bg):
        blue_green["scaleUpPreviewCheckPoint"] = True
    active_rs = rs_with_hash(ctx, active)
    if active_rs is not None:
        status["HPAReplicas"] = rsutil.status_replicas(active_rs)
        status["selector"] = rsutil.format_selector(rsutil.selector_of(active_rs))
        status["availableReplicas"] = rsutil.available_replicas(active_rs)
        status["readyReplicas"] = rsutil.ready_replicas(active_rs)
    return sync.persist(ctx, status, bg)
