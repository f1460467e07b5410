"""The canary reconcile (and the rolling update, a canary without steps): Argo's rollout/canary.go.

`reconcile()` follows Argo's rolloutCanary step for step, because the order
is part of the behaviour users and Argo's plugin see: a new revision first
only resets the status, one ReplicaSet is scaled per reconcile (stable, then
new, then older ones), a pause is recorded before the Paused condition
follows, and each early return of Argo is an early return here. The replica
math is canary_math.py; the shared ReplicaSet, Service, metadata, restart and
status work is done through the RolloutContext by the modules named after
Argo's files. `CanaryReconcile` is the canary's own state and its answers to
sync.StrategyRules. Experiment and traffic-routing steps are not run yet (an
experiment step waits; counts are the basic canary's).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.common import InvalidValueError, parse_duration
from rollouts.api.constants import PAUSE_CANARY_STEP, PAUSE_INCONCLUSIVE_ANALYSIS, SCALE_DOWN_DEADLINE_ANNOTATION
from rollouts.api.phases import rollout_completed
from rollouts.api.rollout import CanaryStep, CanaryStrategy, Rollout
from rollouts.api.timestamps import parse_time
from rollouts.rollout import analysis as rollout_analysis
from rollouts.rollout import canary_math, sync
from rollouts.rollout import conditions as cond
from rollouts.rollout import replicaset_sync as rssync
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout.actions import PatchReplicaSet
from rollouts.rollout.context import Observed, Plan, RolloutContext, new_context
from rollouts.rollout.metadata import PodMetadata, metadata_dict, reconcile_ephemeral_metadata
from rollouts.rollout.pause import pause_condition
from rollouts.rollout.restart import reconcile_restart
from rollouts.rollout.services import reconcile_canary_services
from rollouts.rollout.status import CanaryKey, CanaryStatus, Status, wire

MAX_WEIGHT = 100
# Status keys that only the analysis / experiment / traffic code writes; carried over until then.
_CANARY_CARRIED: tuple[CanaryKey, ...] = (
    "currentStepAnalysisRunStatus",
    "currentBackgroundAnalysisRunStatus",
    "currentExperiment",
    "weights",
    "stablePingPong",
    "stepPluginStatuses",
)


@dataclass
class CanaryReconcile:
    """A canary reconcile: the shared context plus the canary's strategy, steps and fenceposts."""

    ctx: RolloutContext
    strategy: CanaryStrategy
    steps: list[CanaryStep]
    max_surge: int
    current_step_hash: str
    analysis_verdict: rollout_analysis.AnalysisVerdict | None = None

    @property
    def step_count(self) -> int:
        return len(self.steps)

    # sync.StrategyRules

    def progressing(self, status: Status) -> bool:
        return cond.rollout_progressing(old=self.ctx.old, new=status)

    def healthy(self, status: Status) -> bool:
        ctx = self.ctx
        return cond.rollout_healthy(
            replicas=ctx.replicas, step_count=self.step_count, generation=ctx.generation, old=ctx.old, new=status
        )

    def available(self, status: Status) -> bool:
        return rsutil.total_available(self.ctx.all_rss) >= self.ctx.replicas

    def indefinite_step(self) -> bool:
        step = current_step(self)
        if step is not None and (step.experiment is not None or step.analysis is not None or step.pause is not None):
            return True
        return sync.is_indefinite(self.ctx)


def reconcile(
    observed: Observed,
    now: datetime,
    *,
    old: Status,
    raw: dict[str, Any],
    rollout: Rollout,
    workload_generation: str | None,
) -> Plan:
    """Argo's rolloutCanary, from newRolloutContext on; an invalid value found on the way is InvalidSpec."""
    strategy = rollout.spec.strategy.canary
    assert strategy is not None
    canary: CanaryReconcile | None = None
    try:
        replicas = rollout.spec.effective_replicas()
        max_surge, max_unavailable = canary_math.resolve_fenceposts(
            max_surge=strategy.effective_max_surge(),
            max_unavailable=strategy.effective_max_unavailable(),
            replicas=replicas,
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
        canary = CanaryReconcile(
            ctx=ctx,
            strategy=strategy,
            steps=list(strategy.steps or []),
            max_surge=max_surge,
            current_step_hash=cond.step_hash(strategy.steps),
        )
        return _run(canary)
    except InvalidValueError as error:
        actions = canary.ctx.actions if canary is not None else None
        return sync.invalid(observed, now, old=old, raw=raw, error=str(error), actions=actions)


def _run(canary: CanaryReconcile) -> Plan:
    ctx = canary.ctx
    if ctx.new_rs is None:
        new_meta, stable_meta = _new_and_stable_metadata(canary)
        return rssync.create_new_replicaset(ctx, new_meta=new_meta, stable_meta=stable_meta)
    if rollout_completed(wire(ctx.old)) and ctx.pause.is_aborted():
        ctx.pause.remove_abort = True
    early = sync.check_paused_conditions(ctx)
    if early is not None:
        return early
    rssync.sync_replicaset_revision(ctx)
    if rssync.is_scaling_event(ctx):
        _reconcile_replicasets(canary)
        status = copy.deepcopy(ctx.base)
        status["availableReplicas"] = rsutil.total_available(ctx.all_rss)
        status["HPAReplicas"] = rsutil.total_status(ctx.all_rss)
        return sync.persist(ctx, status, canary)
    return _rollout_canary(canary)


def _rollout_canary(canary: CanaryReconcile) -> Plan:
    ctx = canary.ctx
    if _template_or_steps_changed(canary):
        return _sync_status(canary)
    if reconcile_restart(ctx) > 0:
        # Availability counts no longer include the evicted pods: nothing else this pass (as Argo).
        return ctx.plan(copy.deepcopy(ctx.base))
    new_meta, stable_meta = _new_and_stable_metadata(canary)
    reconcile_ephemeral_metadata(ctx, new_meta=new_meta, stable_meta=stable_meta)
    rssync.reconcile_revision_history(ctx)
    reconcile_canary_services(ctx, canary.strategy)
    _reconcile_analysis(canary)
    if ctx.pause.has_add_pause():
        return _sync_status(canary)
    if _reconcile_replicasets(canary):
        return _sync_status(canary)
    _reconcile_pause(canary)
    return _sync_status(canary)


def _new_and_stable_metadata(canary: CanaryReconcile) -> tuple[PodMetadata, PodMetadata]:
    """The ephemeral pod metadata of the canary and of the stable pods."""
    return metadata_dict(canary.strategy.canary_metadata), metadata_dict(canary.strategy.stable_metadata)


def _template_or_steps_changed(canary: CanaryReconcile) -> bool:
    """Argo's PodTemplateOrStepsChanged."""
    old, new_rs = canary.ctx.old, canary.ctx.new_rs
    old_step_hash = old.get("currentStepHash") or ""
    if not old_step_hash or old_step_hash != canary.current_step_hash:
        return True
    old_pod_hash = old.get("currentPodHash") or ""
    return bool(old_pod_hash) and new_rs is not None and old_pod_hash != rsutil.rs_hash(new_rs)


# ---------------------------------------------------------------------------- analysis


def _reconcile_analysis(canary: CanaryReconcile) -> None:
    """Argo's reconcileAnalysisRuns for a canary: create/terminate runs, abort or pause on their verdict."""
    ctx = canary.ctx
    assert ctx.new_rs is not None
    pod_hash = rsutil.rs_hash(ctx.new_rs)
    stable_hash = str(ctx.old.get("stableRS") or "")
    step = current_step(canary)
    progressing = (
        not ctx.pause.is_aborted() and bool(stable_hash) and stable_hash != pod_hash and not ctx.old.get("promoteFull")
    )
    verdict = rollout_analysis.canary_analysis(
        rollout_raw=ctx.raw,
        runs=ctx.observed.analysis_runs,
        lookup=ctx.template_lookup,
        pod_hash=pod_hash,
        stable_hash=stable_hash,
        revision=rsutil.revision(ctx.new_rs),
        step_index=old_step_index(canary),
        at_analysis_step=step is not None and step.analysis is not None,
        progressing=progressing,
        retrying=ctx.retrying(),
        history=ctx.history_limits(),
    )
    if verdict.error:
        raise InvalidValueError(f"spec.strategy.canary.analysis: {verdict.error}")
    ctx.actions.extend(verdict.actions)
    canary.analysis_verdict = verdict
    if verdict.abort_message and not ctx.pause.is_aborted():
        ctx.pause.add_abort = True
        ctx.pause.abort_message = verdict.abort_message
        return
    if verdict.inconclusive and not _inconclusive_resumed(ctx.old):
        ctx.pause.add_reasons.append(PAUSE_INCONCLUSIVE_ANALYSIS)


def _inconclusive_resumed(old: Status) -> bool:
    """A human promoted past an Inconclusive run: the pause was added and then cleared."""
    return bool(old.get("controllerPause")) and pause_condition(old, PAUSE_INCONCLUSIVE_ANALYSIS) is None


# ---------------------------------------------------------------------------- scaling


def _desired_weight(canary: CanaryReconcile) -> int:
    """Argo's GetCanaryReplicasOrWeight for a basic canary (read from the observed status)."""
    old = canary.ctx.old
    if old.get("promoteFull") or not old.get("stableRS") or old.get("currentPodHash") == old.get("stableRS"):
        return MAX_WEIGHT
    if old.get("abort"):
        return 0
    index = old_step_index(canary)
    if index is None or index >= canary.step_count:
        return MAX_WEIGHT
    for step in reversed(canary.steps[: index + 1]):
        if step.set_weight is not None:
            return step.set_weight
    return 0


def old_step_index(canary: CanaryReconcile) -> int | None:
    """status.currentStepIndex as observed (None without steps)."""
    if not canary.step_count:
        return None
    return int(canary.ctx.old.get("currentStepIndex") or 0)


def current_step(canary: CanaryReconcile) -> CanaryStep | None:
    """The step the observed status is at (None past the last one, or without steps)."""
    index = old_step_index(canary)
    if index is None or index >= canary.step_count:
        return None
    return canary.steps[index]


def _counts(canary: CanaryReconcile) -> canary_math.CanaryCounts:
    ctx = canary.ctx
    return canary_math.basic_canary_counts(
        replicas=ctx.replicas,
        weight=_desired_weight(canary),
        max_weight=MAX_WEIGHT,
        max_surge=canary.max_surge,
        max_unavailable=ctx.max_unavailable,
        new_rs=ctx.new_rs,
        stable_rs=ctx.stable_rs,
        old_rss=ctx.other_rss,
    )


def _reconcile_replicasets(canary: CanaryReconcile) -> bool:
    """Argo's reconcileCanaryReplicaSets: at most one RS changes size per reconcile."""
    ctx = canary.ctx
    if ctx.rollout.spec.paused or pause_condition(ctx.old, PAUSE_INCONCLUSIVE_ANALYSIS) is not None:
        return False
    for rs in rssync.unique([ctx.new_rs, ctx.stable_rs]):
        if rsutil.has_scale_down_deadline(rs):
            ctx.actions.append(
                PatchReplicaSet(
                    name=rsutil.rs_name(rs), patch={"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: None}}}
                )
            )
    counts = _counts(canary)
    stable_differs = ctx.stable_rs is not None and (
        ctx.new_rs is None or rsutil.rs_name(ctx.new_rs) != rsutil.rs_name(ctx.stable_rs)
    )
    if stable_differs and ctx.stable_rs is not None and rssync.scale(ctx, ctx.stable_rs, counts.stable):
        return True
    if ctx.new_rs is not None and rssync.scale(ctx, ctx.new_rs, counts.new):
        return True
    return _scale_down_others(ctx)


def _scale_down_others(ctx: RolloutContext) -> bool:
    active = [rs for rs in ctx.other_rss if rsutil.is_active(rs)]
    if rsutil.total_spec(active) == 0:
        return False
    targets = canary_math.scale_down_other_targets(
        other_rss=active, all_rss=ctx.all_rss, replicas=ctx.replicas, max_unavailable=ctx.max_unavailable
    )
    scaled = False
    for rs in active:
        if rsutil.rs_name(rs) in targets and targets[rsutil.rs_name(rs)] != rsutil.spec_replicas(rs):
            scaled = rssync.scale(ctx, rs, targets[rsutil.rs_name(rs)]) or scaled
    return scaled


# ---------------------------------------------------------------------------- steps and pauses


def _reconcile_pause(canary: CanaryReconcile) -> None:
    """Argo's reconcileCanaryPause: enter a pause step; wake up when its duration ends."""
    ctx = canary.ctx
    if ctx.rollout.spec.paused or ctx.old.get("promoteFull"):
        return
    step = current_step(canary)
    if step is None or step.pause is None:
        return
    existing = pause_condition(ctx.old, PAUSE_CANARY_STEP)
    duration = parse_duration(step.pause.duration)
    if existing is None:
        if not ctx.old.get("controllerPause"):
            ctx.pause.add_reasons.append(PAUSE_CANARY_STEP)
            if duration is not None:
                ctx.requeue_in(duration)
        return
    if duration is None:
        return
    started = parse_time(existing.get("startTime")) or ctx.now
    expires = started + timedelta(seconds=duration)
    if expires > ctx.now:
        ctx.requeue_in((expires - ctx.now).total_seconds())


def _completed_current_step(canary: CanaryReconcile) -> bool:
    """Argo's completedCurrentCanaryStep (basic canary)."""
    ctx = canary.ctx
    if ctx.rollout.spec.paused:
        return False
    step = current_step(canary)
    if step is None:
        return False
    if step.pause is not None:
        existing = pause_condition(ctx.old, PAUSE_CANARY_STEP)
        if ctx.old.get("controllerPause") and existing is None:
            return True
        duration = parse_duration(step.pause.duration)
        if duration is not None and existing is not None:
            started = parse_time(existing.get("startTime")) or ctx.now
            return ctx.now >= started + timedelta(seconds=duration)
        return False
    if step.set_canary_scale is not None or step.set_weight is not None:
        threshold = canary.strategy.replica_progress_threshold
        return canary_math.at_desired_counts(
            counts=_counts(canary),
            new_rs=ctx.new_rs,
            stable_rs=ctx.stable_rs,
            other_rss=ctx.other_rss,
            threshold_type=threshold.type if threshold else None,
            threshold_value=threshold.value if threshold else None,
        )
    if step.experiment is not None or step.analysis is not None:
        verdict = canary.analysis_verdict
        if step.analysis is None or verdict is None:
            return False  # experiment steps wait: experiments are not run by this controller yet
        # An analysis step completes when its run succeeded, or when promoted past an Inconclusive run.
        return verdict.step_completed or (verdict.inconclusive and _inconclusive_resumed(ctx.old))
    return step.set_header_route is not None or step.set_mirror_route is not None


def _should_full_promote(canary: CanaryReconcile) -> str:
    """Argo's shouldFullPromote for canary; the order of the checks matters."""
    ctx = canary.ctx
    if ctx.stable_rs is None:
        return "Initial deploy"
    if ctx.pause.is_aborted():
        return ""
    threshold = canary.strategy.replica_progress_threshold
    if ctx.new_rs is None or (
        rsutil.available_replicas(ctx.new_rs) < ctx.replicas
        and not canary_math.progress_threshold_met(
            threshold_type=threshold.type if threshold else None,
            threshold_value=threshold.value if threshold else None,
            rs=ctx.new_rs,
            desired=ctx.replicas,
        )
    ):
        return ""
    if ctx.old.get("promoteFull"):
        return "Full promotion requested"
    if rssync.is_rollback(ctx):
        within_window = rssync.rollback_within_window(ctx)
        if within_window or ctx.old.get("stableRS") == rsutil.rs_hash(ctx.new_rs):  # Argo's isFastRollback
            return "Rollback within window" if within_window else "Fast rollback"
    index = old_step_index(canary)
    if index is None or index == canary.step_count:
        return f"Completed all {canary.step_count} canary steps"
    return ""


# ---------------------------------------------------------------------------- status


def _sync_status(canary: CanaryReconcile) -> Plan:
    """Argo's syncRolloutStatusCanary."""
    ctx = canary.ctx
    assert ctx.new_rs is not None
    old_canary = copy.deepcopy(ctx.base.get("canary") or {})
    carried: CanaryStatus = {}
    for key in _CANARY_CARRIED:
        if key in old_canary:
            carried[key] = old_canary[key]
    verdict = canary.analysis_verdict
    if verdict is not None:
        for key, run_status in (
            ("currentStepAnalysisRunStatus", verdict.step_run_status),
            ("currentBackgroundAnalysisRunStatus", verdict.background_run_status),
        ):
            if run_status is not None:
                carried[key] = run_status
    status = sync.base_status(ctx, canary=carried)
    status["currentStepHash"] = canary.current_step_hash
    step_count = canary.step_count
    index = old_step_index(canary)
    if _template_or_steps_changed(canary):
        sync.reset_status(ctx, status, step_count=step_count)
        if step_count:
            if ctx.old.get("stableRS") == rsutil.rs_hash(ctx.new_rs):
                ctx.event(cond.SKIP_STEPS_REASON, "Rollback to stable ReplicaSets")
                status["currentStepIndex"] = step_count
            elif rssync.rollback_within_window(ctx) and rsutil.is_active(ctx.new_rs):
                ctx.event(cond.SKIP_STEPS_REASON, "Rollback to active ReplicaSets within RollbackWindow")
                status["currentStepIndex"] = step_count
        return sync.persist(ctx, status, canary)

    if ctx.old.get("promoteFull") or rssync.rollback_within_window(ctx):
        ctx.pause.clear = True
        ctx.pause.remove_abort = True
        if step_count:
            index = step_count

    reason = _should_full_promote(canary)
    if reason:
        sync.promote_stable(ctx, status, reason=reason, step_count=step_count)
        return sync.persist(ctx, status, canary)

    if ctx.pause.is_aborted():
        if step_count:
            status["currentStepIndex"] = step_count if status.get("stableRS") == status["currentPodHash"] else 0
        return sync.persist(ctx, status, canary)

    step = current_step(canary)
    if step is not None and _completed_current_step(canary):
        index = min((index or 0) + 1, step_count)
        status["canary"].pop("currentStepAnalysisRunStatus", None)
        ctx.event(
            cond.ROLLOUT_STEP_COMPLETED_REASON,
            cond.ROLLOUT_STEP_COMPLETED_MESSAGE.format(index, step_count, cond.step_string(step)),
        )
        ctx.pause.remove_reasons.append(PAUSE_CANARY_STEP)
    if index is not None:
        status["currentStepIndex"] = index
    return sync.persist(ctx, status, canary)
