"""Writing the new status: Argo's rollout/sync.go, shared by the canary and blue-green reconciles.

Every reconcile that gets past the early returns ends in `persist()`: the
progress-deadline abort, the pause bookkeeping, the conditions in Argo's order
(Healthy, aborted Progressing, Progressing, Available, ReplicaFailure,
Completed), the phase, and the events of a pause or resume. Where the two
strategies judge differently (is the rollout progressing, healthy, available,
at a step that waits forever) they answer through `StrategyRules`.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from rollouts.api.constants import (
    CONDITION_AVAILABLE,
    CONDITION_COMPLETED,
    CONDITION_HEALTHY,
    CONDITION_INVALID_SPEC,
    CONDITION_PAUSED,
    CONDITION_PROGRESSING,
    CONDITION_REPLICA_FAILURE,
)
from rollouts.api.numbers import parse_int64
from rollouts.api.phases import calculate_rollout_phase, restart_pending, rollout_completed
from rollouts.api.timestamps import parse_time
from rollouts.rollout import conditions as cond
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout.actions import Action, RecordEvent
from rollouts.rollout.context import Observed, Plan, RolloutContext, plan_for
from rollouts.rollout.replicasets import RS
from rollouts.rollout.status import CANARY_RESET_KEYS, COUNTER_KEYS, CanaryStatus, Condition, Status, int_or, wire

INVALID_SPEC_REQUEUE_SECONDS = 20.0


class StrategyRules(Protocol):
    """What the strategy decides for the shared status code."""

    def progressing(self, status: Status) -> bool: ...

    def healthy(self, status: Status) -> bool: ...

    def available(self, status: Status) -> bool: ...

    def indefinite_step(self) -> bool: ...


def invalid(
    observed: Observed,
    now: datetime,
    *,
    old: Status,
    raw: dict[str, Any],
    error: str,
    actions: list[Action] | None = None,
) -> Plan:
    """Argo's createInvalidRolloutCondition: InvalidSpec condition, phase Degraded, no action on pods."""
    # Nothing decided before the spec turned out invalid may touch the cluster.
    kept: list[Action] = [action for action in actions or [] if isinstance(action, RecordEvent)]
    name = str((raw.get("metadata") or {}).get("name", ""))
    message = cond.INVALID_SPEC_MESSAGE.format(name, error)
    previous = cond.get_condition(old, CONDITION_INVALID_SPEC)
    status = copy.deepcopy(old)
    if previous is None or previous.get("message") != message:
        cond.remove_condition(status, CONDITION_INVALID_SPEC)
        cond.set_condition(
            status, cond.new_condition(CONDITION_INVALID_SPEC, "True", cond.INVALID_SPEC_REASON, message, now)
        )
        kept.append(RecordEvent(reason=cond.INVALID_SPEC_REASON, message=message, type="Warning"))
    status["observedGeneration"] = str(parse_int64((raw.get("metadata") or {}).get("generation")) or 0)
    status["phase"], status["message"] = calculate_rollout_phase(
        spec=raw.get("spec") or {},
        status=wire(status),
        replicas=int_or((raw.get("spec") or {}).get("replicas"), 1),
        now_restart_pending=False,
    )
    return plan_for(observed, status, actions=kept, requeue=INVALID_SPEC_REQUEUE_SECONDS)


def phase(ctx: RolloutContext, status: Status) -> tuple[str, str]:
    return calculate_rollout_phase(
        spec=ctx.raw.get("spec") or {},
        status=wire(status),
        replicas=ctx.rollout.spec.effective_replicas(),
        now_restart_pending=restart_pending(ctx.raw.get("spec") or {}, wire(status)),
    )


def check_paused_conditions(ctx: RolloutContext) -> Plan | None:
    """Argo's checkPausedConditions: Progressing/Paused follow pause and abort before anything else."""
    old, now = ctx.old, ctx.now
    if str(ctx.generation) != old.get("observedGeneration"):
        return None
    progressing = cond.get_condition(old, CONDITION_PROGRESSING)
    progressing_paused = progressing is not None and progressing.get("reason") == cond.ROLLOUT_PAUSED_REASON
    paused = bool(old.get("pauseConditions")) or bool(ctx.rollout.spec.paused)
    abort_exists = progressing is not None and progressing.get("reason") == cond.ROLLOUT_ABORTED_REASON
    updates: list[Condition] = []
    if paused != progressing_paused and not abort_exists and not rollout_completed(wire(old)):
        if paused:
            reason, message = cond.ROLLOUT_PAUSED_REASON, cond.ROLLOUT_PAUSED_MESSAGE
        else:
            reason, message = cond.ROLLOUT_RESUMED_REASON, cond.ROLLOUT_RESUMED_MESSAGE
        updates.append(cond.new_condition(CONDITION_PROGRESSING, "Unknown", reason, message, now))
    if not old.get("abort") and abort_exists:
        updates.append(
            cond.new_condition(
                CONDITION_PROGRESSING, "Unknown", cond.ROLLOUT_RETRY_REASON, cond.ROLLOUT_RETRY_MESSAGE, now
            )
        )
    paused_condition = cond.get_condition(old, CONDITION_PAUSED)
    paused_true = paused_condition is not None and paused_condition.get("status") == "True"
    if paused != paused_true and not abort_exists:
        updates.append(
            cond.new_condition(
                CONDITION_PAUSED,
                "True" if paused else "False",
                cond.ROLLOUT_PAUSED_REASON,
                cond.ROLLOUT_PAUSED_MESSAGE,
                now,
            )
        )
    if not updates:
        return None
    status = copy.deepcopy(old)
    for update in updates:
        cond.set_condition(status, update)
    status["observedGeneration"] = str(ctx.generation)
    status["phase"], status["message"] = phase(ctx, status)
    return ctx.plan(status)


def base_status(ctx: RolloutContext, *, canary: CanaryStatus) -> Status:
    """Argo's calculateBaseStatus: counters and carried fields, with the strategy's `canary` block."""
    assert ctx.new_rs is not None
    previous = copy.deepcopy(ctx.base)
    if cond.get_condition(previous, CONDITION_INVALID_SPEC) is not None:
        cond.remove_condition(previous, CONDITION_INVALID_SPEC)
    status: Status = {}
    status["currentPodHash"] = rsutil.rs_hash(ctx.new_rs)
    status["replicas"] = rsutil.total_status(ctx.all_rss)
    status["updatedReplicas"] = rsutil.status_replicas(ctx.new_rs)
    status["readyReplicas"] = rsutil.total_ready(ctx.all_rss)
    if previous.get("collisionCount") is not None:
        status["collisionCount"] = previous["collisionCount"]
    if previous.get("conditions"):
        status["conditions"] = previous["conditions"]
    if ctx.restarted_at:
        status["restartedAt"] = ctx.restarted_at
    if previous.get("promoteFull") and status["currentPodHash"]:
        status["promoteFull"] = True
    status["availableReplicas"] = rsutil.total_available(ctx.all_rss)
    status["HPAReplicas"] = rsutil.total_status(ctx.all_rss)
    status["selector"] = rsutil.format_selector((ctx.raw.get("spec") or {}).get("selector"))
    status["canary"] = canary
    status["blueGreen"] = {}
    if previous.get("stableRS"):
        status["stableRS"] = previous["stableRS"]
    return status


def reset_status(ctx: RolloutContext, status: Status, *, step_count: int) -> None:
    """Argo's resetRolloutStatus: a new revision (or new steps) starts from the first step."""
    ctx.pause.clear = True
    ctx.pause.remove_abort = True
    restart_at = ctx.rollout.spec.restart_at
    if restart_at:
        status["restartedAt"] = restart_at
    else:
        status.pop("restartedAt", None)
    status.pop("promoteFull", None)
    for key in CANARY_RESET_KEYS:
        status["canary"].pop(key, None)
    if step_count:
        status["currentStepIndex"] = 0
    else:
        status.pop("currentStepIndex", None)


def promote_stable(ctx: RolloutContext, status: Status, *, reason: str, step_count: int) -> None:
    """Argo's promoteStable: the current ReplicaSet becomes the stable one."""
    ctx.pause.clear = True
    ctx.pause.remove_abort = True
    status.pop("promoteFull", None)
    if step_count:
        status["currentStepIndex"] = step_count
    else:
        status.pop("currentStepIndex", None)
    if status.get("stableRS") != status.get("currentPodHash"):
        status["stableRS"] = status["currentPodHash"]
        ctx.event(
            cond.ROLLOUT_COMPLETED_REASON,
            cond.ROLLOUT_COMPLETED_MESSAGE.format(ctx.rollout_revision, status["currentPodHash"], reason),
        )


def persist(ctx: RolloutContext, status: Status, rules: StrategyRules) -> Plan:
    """Argo's persistRolloutStatus: deadline abort, pause fields, conditions, phase; events on change."""
    status["observedGeneration"] = str(ctx.generation)
    if ctx.workload_generation is not None:
        status["workloadObservedGeneration"] = ctx.workload_generation
    else:
        status.pop("workloadObservedGeneration", None)
    _progress_deadline_abort(ctx, status, rules)
    ctx.pause.apply(status, ctx.now)
    _calculate_conditions(ctx, status, rules)
    status["phase"], status["message"] = phase(ctx, status)
    for key in COUNTER_KEYS:
        if not status.get(key):
            status.pop(key, None)
    if not status.get("message"):
        status.pop("message", None)
    changed = status != (ctx.observed.rollout.get("status") or {})
    if changed:
        _state_change_events(ctx, status)
    else:
        _requeue_stuck(ctx, status, rules)
    return ctx.plan(status)


def _state_change_events(ctx: RolloutContext, status: Status) -> None:
    """Argo's sendStateChangeEvents."""
    was_paused = bool(ctx.old.get("pauseConditions"))
    now_paused = bool(status.get("pauseConditions"))
    if was_paused == now_paused:
        return
    if now_paused:
        reason = status["pauseConditions"][0].get("reason")
        ctx.event(cond.ROLLOUT_PAUSED_REASON, f"{cond.ROLLOUT_PAUSED_MESSAGE} ({reason})")
    elif not status.get("abortedAt"):
        ctx.event(cond.ROLLOUT_RESUMED_REASON, cond.ROLLOUT_RESUMED_MESSAGE)


def waiting_for_scale_down(ctx: RolloutContext) -> bool:
    return any(rsutil.has_scale_down_deadline(rs) for rs in ctx.other_rss)


def _progress_deadline_abort(ctx: RolloutContext, status: Status, rules: StrategyRules) -> None:
    """Argo's evaluateProgressDeadlineAbort (spec.progressDeadlineAbort)."""
    if not ctx.rollout.spec.progress_deadline_abort or ctx.pause.is_aborted():
        return
    if rollout_completed(wire(status)) or rules.progressing(status):
        return
    if rules.indefinite_step() or waiting_for_scale_down(ctx):
        return
    deadline = ctx.rollout.spec.effective_progress_deadline_seconds()
    if not cond.rollout_timed_out(status=ctx.old, deadline_seconds=deadline, now=ctx.now):
        return
    assert ctx.new_rs is not None
    message = cond.REPLICA_SET_TIMED_OUT_MESSAGE.format(rsutil.rs_name(ctx.new_rs))
    ctx.pause.add_abort = True
    ctx.pause.abort_message = message
    ctx.event(cond.ROLLOUT_ABORTED_REASON, message, "Warning")


def _calculate_conditions(ctx: RolloutContext, status: Status, rules: StrategyRules) -> None:
    """Argo's calculateRolloutConditions."""
    assert ctx.new_rs is not None
    now = ctx.now
    paused = bool(status.get("pauseConditions")) or bool(ctx.rollout.spec.paused)
    aborted = ctx.pause.is_aborted()

    became_unhealthy = False
    if not paused and rules.healthy(status):
        cond.set_condition(
            status,
            cond.new_condition(
                CONDITION_HEALTHY, "True", cond.ROLLOUT_HEALTHY_REASON, cond.ROLLOUT_HEALTHY_MESSAGE, now
            ),
        )
    elif cond.get_condition(ctx.old, CONDITION_HEALTHY) is not None:
        became_unhealthy = cond.set_condition(
            status,
            cond.new_condition(
                CONDITION_HEALTHY, "False", cond.ROLLOUT_HEALTHY_REASON, cond.ROLLOUT_NOT_HEALTHY_MESSAGE, now
            ),
        )

    if aborted:
        message = cond.ROLLOUT_ABORTED_MESSAGE.format(ctx.rollout_revision)
        if ctx.pause.abort_message:
            message = f"{message}: {ctx.pause.abort_message}"
        aborted_condition = cond.new_condition(
            CONDITION_PROGRESSING, "False", cond.ROLLOUT_ABORTED_REASON, message, now
        )
        if cond.set_condition(status, aborted_condition):
            ctx.event(cond.ROLLOUT_ABORTED_REASON, message, "Warning")

    if not aborted:
        _progressing_condition(ctx, status, rules, became_unhealthy=became_unhealthy)

    available = rules.available(status)
    cond.set_condition(
        status,
        cond.new_condition(
            CONDITION_AVAILABLE,
            "True" if available else "False",
            cond.AVAILABLE_REASON,
            cond.AVAILABLE_MESSAGE if available else cond.NOT_AVAILABLE_MESSAGE,
            now,
        ),
    )

    failure = _replica_failure(ctx.new_rs, ctx.all_rss)
    if failure is not None:
        cond.set_condition(status, failure)
    else:
        cond.remove_condition(status, CONDITION_REPLICA_FAILURE)

    if rollout_completed(wire(status)):
        cond.set_condition(
            status,
            cond.new_condition(
                CONDITION_COMPLETED, "True", cond.ROLLOUT_COMPLETED_REASON, cond.ROLLOUT_COMPLETED_REASON, now
            ),
        )
    elif cond.set_condition(
        status,
        cond.new_condition(
            CONDITION_COMPLETED, "False", cond.ROLLOUT_COMPLETED_REASON, cond.ROLLOUT_COMPLETED_REASON, now
        ),
    ):
        ctx.event(
            cond.ROLLOUT_NOT_COMPLETED_REASON,
            cond.ROLLOUT_NOT_COMPLETED_MESSAGE.format(ctx.rollout_revision, status.get("currentPodHash", "")),
        )


def _progressing_condition(
    ctx: RolloutContext, status: Status, rules: StrategyRules, *, became_unhealthy: bool
) -> None:
    """The Progressing condition of a rollout that is not aborted: completed, progressing or timed out."""
    assert ctx.new_rs is not None
    now = ctx.now
    name = rsutil.rs_name(ctx.new_rs)
    current = cond.get_condition(ctx.old, CONDITION_PROGRESSING)
    if rules.healthy(status):
        cond.set_condition(
            status,
            cond.new_condition(
                CONDITION_PROGRESSING,
                "True",
                cond.NEW_RS_AVAILABLE_REASON,
                cond.REPLICA_SET_COMPLETED_MESSAGE.format(name),
                now,
            ),
        )
    elif rules.progressing(status) or became_unhealthy:
        message = cond.REPLICA_SET_PROGRESSING_MESSAGE.format(name)
        reason = cond.REPLICA_SET_UPDATED_REASON
        if status.get("stableRS") == status.get("currentPodHash") and became_unhealthy:
            reason, message = cond.REPLICA_SET_NOT_AVAILABLE_REASON, cond.NOT_AVAILABLE_MESSAGE
        progressing = cond.new_condition(CONDITION_PROGRESSING, "True", reason, message, now)
        if current is not None:
            if current.get("status") == "True":
                progressing["lastTransitionTime"] = current.get("lastTransitionTime")
            cond.remove_condition(status, CONDITION_PROGRESSING)
        cond.set_condition(status, progressing)
    elif (
        not rules.indefinite_step()
        and not waiting_for_scale_down(ctx)
        and cond.rollout_timed_out(
            status=status, deadline_seconds=ctx.rollout.spec.effective_progress_deadline_seconds(), now=now
        )
    ):
        cond.set_condition(
            status,
            cond.new_condition(
                CONDITION_PROGRESSING,
                "False",
                cond.TIMED_OUT_REASON,
                cond.REPLICA_SET_TIMED_OUT_MESSAGE.format(name),
                now,
            ),
        )


def _requeue_stuck(ctx: RolloutContext, status: Status, rules: StrategyRules) -> None:
    """Argo's requeueStuckRollout: come back when the progress deadline would pass."""
    current = cond.get_condition(ctx.old, CONDITION_PROGRESSING)
    if current is None:
        return
    paused = bool(ctx.old.get("pauseConditions")) or bool(ctx.rollout.spec.paused)
    if (
        rules.healthy(status)
        or current.get("reason") == cond.TIMED_OUT_REASON
        or paused
        or ctx.old.get("abort")
        or rules.indefinite_step()
    ):
        return
    last = parse_time(current.get("lastUpdateTime"))
    if last is None:
        return
    deadline = ctx.rollout.spec.effective_progress_deadline_seconds()
    after = (last + timedelta(seconds=deadline) - ctx.now).total_seconds()
    # Argo requeues at once under a second; a second later costs nothing and avoids a hot loop.
    ctx.requeue_in(1.0 if after < 1 else after + 1)


def is_indefinite(ctx: RolloutContext) -> bool:
    """The Paused condition is True: the rollout waits for a human (part of Argo's isIndefiniteStep)."""
    paused = cond.get_condition(ctx.old, CONDITION_PAUSED)
    return paused is not None and paused.get("status") == "True"


def _replica_failure(new_rs: RS, all_rss: list[RS]) -> Condition | None:
    """Argo's getReplicaFailures: a ReplicaFailure condition of the new RS first, else of any RS."""
    for rs in [new_rs, *all_rss]:
        for condition in rsutil.conditions_of(rs):
            if condition.get("type") == CONDITION_REPLICA_FAILURE:
                failure = {
                    "type": CONDITION_REPLICA_FAILURE,
                    "status": condition.get("status"),
                    "lastTransitionTime": condition.get("lastTransitionTime"),
                    "lastUpdateTime": condition.get("lastTransitionTime"),
                    "reason": condition.get("reason"),
                    "message": condition.get("message"),
                }
                return cast(Condition, failure)  # copied as the ReplicaSet controller wrote it
    return None
