"""Rollout conditions and step bookkeeping, with Argo Rollouts' exact strings and rules, for both strategies.

Argo's plugin, UI and notification triggers match on these reasons and
messages, so they are the compatibility contract and are spelled once, here.
The helpers mirror utils/conditions and utils/rollout (SetRolloutCondition's
"only a status or reason change counts" rule, RolloutProgressing and
RolloutHealthy for canary and for blue-green, RolloutTimedOut, ComputeStepHash
over Go's JSON of the steps). The phase is api/phases.py's, shared with the
CLI. Pure functions over the status dict; time is passed in.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.constants import (
    CONDITION_PROGRESSING,
)
from rollouts.api.phases import rollout_completed
from rollouts.api.podhash import fnv32a, safe_encode
from rollouts.api.rollout import CanaryStep
from rollouts.api.timestamps import format_time, parse_time
from rollouts.rollout.status import Condition, Status, wire

# Reasons and messages (utils/conditions/conditions.go)
INVALID_SPEC_REASON = "InvalidSpec"
INVALID_SPEC_MESSAGE = 'The Rollout "{}" is invalid: {}'
AVAILABLE_REASON = "AvailableReason"
NOT_AVAILABLE_MESSAGE = "Rollout does not have minimum availability"
AVAILABLE_MESSAGE = "Rollout has minimum availability"
REPLICA_SET_UPDATED_REASON = "ReplicaSetUpdated"
ROLLOUT_PROGRESSING_MESSAGE = 'Rollout "{}" is progressing.'
REPLICA_SET_PROGRESSING_MESSAGE = 'ReplicaSet "{}" is progressing.'
NEW_REPLICA_SET_REASON = "NewReplicaSetCreated"
NEW_REPLICA_SET_MESSAGE = 'Created new replica set "{}"'
NEW_REPLICA_SET_DETAILED_MESSAGE = "Created ReplicaSet {} (revision {})"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
FOUND_NEW_RS_MESSAGE = 'Found new replica set "{}"'
ROLLOUT_UPDATED_REASON = "RolloutUpdated"
ROLLOUT_UPDATED_MESSAGE = "Rollout updated to revision {}"
ROLLOUT_COMPLETED_REASON = "RolloutCompleted"
ROLLOUT_COMPLETED_MESSAGE = "Rollout completed update to revision {} ({}): {}"
ROLLOUT_NOT_COMPLETED_REASON = "RolloutNotCompleted"
ROLLOUT_NOT_COMPLETED_MESSAGE = "Rollout not completed, started update to revision {} ({})"
ROLLOUT_HEALTHY_REASON = "RolloutHealthy"
ROLLOUT_HEALTHY_MESSAGE = "Rollout is healthy"
ROLLOUT_NOT_HEALTHY_MESSAGE = "Rollout is not healthy"
ROLLOUT_ABORTED_REASON = "RolloutAborted"
ROLLOUT_ABORTED_MESSAGE = "Rollout aborted update to revision {}"
ROLLOUT_RETRY_REASON = "RolloutRetry"
ROLLOUT_RETRY_MESSAGE = "Retrying Rollout after abort"
ROLLOUT_PAUSED_REASON = "RolloutPaused"
ROLLOUT_PAUSED_MESSAGE = "Rollout is paused"
ROLLOUT_RESUMED_REASON = "RolloutResumed"
ROLLOUT_RESUMED_MESSAGE = "Rollout is resumed"
REPLICA_SET_NOT_AVAILABLE_REASON = "ReplicaSetNotAvailable"
ROLLOUT_STEP_COMPLETED_REASON = "RolloutStepCompleted"
ROLLOUT_STEP_COMPLETED_MESSAGE = "Rollout step {}/{} completed ({})"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
ROLLOUT_TIMED_OUT_MESSAGE = 'Rollout "{}" has timed out progressing.'
REPLICA_SET_TIMED_OUT_MESSAGE = 'ReplicaSet "{}" has timed out progressing.'
REPLICA_SET_COMPLETED_MESSAGE = 'ReplicaSet "{}" has successfully progressed.'
SCALING_REPLICA_SET_REASON = "ScalingReplicaSet"
SCALING_REPLICA_SET_MESSAGE = "Scaled {} ReplicaSet {} (revision {}) from {} to {}"
SWITCH_SERVICE_REASON = "SwitchService"
SWITCH_SERVICE_MESSAGE = "Switched selector for service '{}' from '{}' to '{}'"
SKIP_STEPS_REASON = "SkipSteps"


def new_condition(kind: str, status: str, reason: str, message: str, now: datetime) -> Condition:
    stamp = format_time(now)
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def get_condition(status: Status, kind: str) -> Condition | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind:
            return condition.copy()
    return None


def set_condition(status: Status, condition: Condition) -> bool:
    """Argo's SetRolloutCondition: a change of status or reason replaces the condition (appended last).

    The same status and reason keep the old condition untouched (message and
    times included); the same status keeps lastTransitionTime.
    """
    current = get_condition(status, condition["type"])
    if current is not None and current.get("status") == condition["status"]:
        if current.get("reason") == condition["reason"]:
            return False
        condition = condition.copy()
        condition["lastTransitionTime"] = current.get("lastTransitionTime")
    remove_condition(status, condition["type"])
    status["conditions"] = [*(status.get("conditions") or []), condition]
    return True


def remove_condition(status: Status, kind: str) -> None:
    remaining = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    if remaining:
        status["conditions"] = remaining
    else:
        status.pop("conditions", None)


def rollout_progressing(*, old: Status, new: Status) -> bool:
    """Argo's RolloutProgressing for canary: any counter or step movement since `old`."""
    old_index, new_index = old.get("currentStepIndex"), new.get("currentStepIndex")
    step_moved = old_index is not None and new_index is not None and old_index != new_index
    strategy_progress = (
        new.get("stableRS", "") != old.get("stableRS", "")
        or step_moved
        or new.get("currentStepHash", "") != old.get("currentStepHash", "")
    )
    return _replicas_progressed(old=old, new=new) or strategy_progress


def _replicas_progressed(*, old: Status, new: Status) -> bool:
    """The counter half of Argo's RolloutProgressing, shared by both strategies."""
    old_old_replicas = int(old.get("replicas") or 0) - int(old.get("updatedReplicas") or 0)
    new_old_replicas = int(new.get("replicas") or 0) - int(new.get("updatedReplicas") or 0)
    return (
        int(new.get("updatedReplicas") or 0) != int(old.get("updatedReplicas") or 0)
        or new_old_replicas < old_old_replicas
        or int(new.get("readyReplicas") or 0) > int(old.get("readyReplicas") or 0)
        or int(new.get("availableReplicas") or 0) > int(old.get("availableReplicas") or 0)
    )


def rollout_healthy(*, replicas: int, step_count: int, generation: int, old: Status, new: Status) -> bool:
    """Argo's RolloutHealthy for canary (note: the *old* observedGeneration must be current)."""
    executed_all_steps = True
    if step_count > 0 and new.get("currentStepIndex") is not None:
        executed_all_steps = new.get("currentStepIndex") == step_count
    completed_strategy = (
        executed_all_steps and rollout_completed(wire(new)) and int(new.get("replicas") or 0) == replicas
    )
    return (
        int(new.get("updatedReplicas") or 0) == replicas
        and int(new.get("availableReplicas") or 0) == replicas
        and old.get("observedGeneration") == str(generation)
        and completed_strategy
    )


def blue_green_progressing(*, old: Status, new: Status) -> bool:
    """Argo's RolloutProgressing for blue-green: counters, or a preview / active selector switch."""
    old_bg, new_bg = old.get("blueGreen") or {}, new.get("blueGreen") or {}
    selector_moved = old_bg.get("activeSelector", "") != new_bg.get("activeSelector", "") or old_bg.get(
        "previewSelector", ""
    ) != new_bg.get("previewSelector", "")
    return _replicas_progressed(old=old, new=new) or selector_moved


def blue_green_healthy(*, replicas: int, has_preview: bool, generation: int, old: Status, new: Status) -> bool:
    """Argo's RolloutHealthy for blue-green: all updated and available, and both Services on the new pods."""
    bg = new.get("blueGreen") or {}
    current = new.get("currentPodHash", "")
    completed_strategy = bg.get("activeSelector", "") == current and (
        not has_preview or bg.get("previewSelector", "") == current
    )
    return (
        int(new.get("updatedReplicas") or 0) == replicas
        and int(new.get("availableReplicas") or 0) == replicas
        and old.get("observedGeneration") == str(generation)
        and completed_strategy
    )


def rollout_timed_out(*, status: Status, deadline_seconds: int, now: datetime) -> bool:
    """Argo's RolloutTimedOut: the Progressing condition was last updated more than the deadline ago."""
    condition = get_condition(status, CONDITION_PROGRESSING)
    if condition is None or condition.get("reason") in (ROLLOUT_ABORTED_REASON, ROLLOUT_PAUSED_REASON):
        return False
    if condition.get("reason") == TIMED_OUT_REASON:
        return True
    last = parse_time(condition.get("lastUpdateTime"))
    if last is None:
        return False
    return last + timedelta(seconds=deadline_seconds) < now


def _go_json(value: Any) -> str:
    """encoding/json's output for plain JSON values: compact, HTML characters escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028")):
        text = text.replace(char, escaped)
    return text.replace("\u2029", "\\u2029")


def step_hash(steps: list[CanaryStep] | None) -> str:
    """Argo's ComputeStepHash: FNV-32a of Go's JSON of spec.strategy.canary.steps.

    The steps are dumped through the API model, whose fields follow the Go
    struct order, so the JSON (and hash) is the one Argo computes whatever key
    order the manifest used.
    """
    encoded = "null" if steps is None else _go_json([step.to_dict() for step in steps])
    return safe_encode(str(fnv32a(encoded.encode())))


def step_string(step: CanaryStep) -> str:
    """Argo's CanaryStepString (used in the RolloutStepCompleted event)."""
    if step.set_weight is not None:
        return f"setWeight: {step.set_weight}"
    if step.pause is not None:
        if step.pause.duration is not None:
            return f"pause: {step.pause.duration}"
        return "pause"
    if step.experiment is not None:
        return "experiment"
    if step.analysis is not None:
        return "analysis"
    if step.set_canary_scale is not None:
        scale = step.set_canary_scale
        if scale.weight is not None:
            return f"setCanaryScale{{weight: {scale.weight}}}"
        if scale.match_traffic_weight:
            return "setCanaryScale{matchTrafficWeight: true}"
        if scale.replicas is not None:
            return f"setCanaryScale{{replicas: {scale.replicas}}}"
    if step.plugin is not None:
        return f"plugin: {step.plugin.name}"
    if step.set_header_route is not None:
        return f"setHeaderRoute: {step.set_header_route.name or ''}"
    if step.set_mirror_route is not None:
        return f"setMirrorRoute: {step.set_mirror_route.name}"
    return "invalid"
