"""The rollout-level lines of `get rollout`, `list rollouts` and `status`: strategy, step, weights, phase.

The rules follow the Argo plugin's client-side computation, so both CLIs show
the same thing for the same Rollout: the phase the controller wrote in status
(unless the controller has not yet seen the latest spec, or an unpause is in
flight), else the phase derived from spec and status by the shared rule in
rollouts.api.phases; the set weight from the last setWeight step at or before
the current step. A missing field never raises.
"""

from __future__ import annotations

from rollouts.api.constants import WORKLOAD_GENERATION_ANNOTATION
from rollouts.api.phases import calculate_rollout_phase
from rollouts.cli.icons import (
    ICON_BAD,
    ICON_NEUTRAL,
    ICON_OK,
    ICON_PAUSED,
    ICON_PROGRESSING,
    ICON_UNKNOWN,
    ICON_WARNING,
)
from rollouts.cli.objects import Obj, dict_at, int_of, metadata


def canary_steps(rollout: Obj) -> list[Obj] | None:
    """The canary steps, or None for a non-canary rollout."""
    canary = dict_at(rollout, "spec", "strategy").get("canary")
    if not isinstance(canary, dict):
        return None
    steps = canary.get("steps")
    return [s if isinstance(s, dict) else {} for s in steps] if isinstance(steps, list) else []


def strategy_name(rollout: Obj) -> str:
    strategy = dict_at(rollout, "spec", "strategy")
    if isinstance(strategy.get("canary"), dict):
        return "Canary"
    if isinstance(strategy.get("blueGreen"), dict):
        return "BlueGreen"
    return "unknown"


def desired_replicas(rollout: Obj) -> int:
    """spec.replicas, 1 when unset (Kubernetes' default)."""
    spec = dict_at(rollout, "spec")
    return int_of(spec.get("replicas"), 1) if spec.get("replicas") is not None else 1


def current_step_index(rollout: Obj) -> int | None:
    """Argo's GetCurrentCanaryStep index: None without steps, 0 when status has none yet."""
    steps = canary_steps(rollout)
    if not steps:
        return None
    return int_of(dict_at(rollout, "status").get("currentStepIndex"), 0)


def step_label(rollout: Obj) -> str | None:
    """The STEP column, "index/count", or None when there are no steps or status has no index yet."""
    steps = canary_steps(rollout)
    current = dict_at(rollout, "status").get("currentStepIndex")
    if not steps or current is None:
        return None
    return f"{int_of(current)}/{len(steps)}"


def max_traffic_weight(rollout: Obj) -> int:
    routing = dict_at(rollout, "spec", "strategy", "canary", "trafficRouting")
    return int_of(routing.get("maxTrafficWeight"), 100) or 100


def current_set_weight(rollout: Obj) -> int:
    """The weight of the last setWeight step at or before the current step (Argo's rule)."""
    status = dict_at(rollout, "status")
    if status.get("abort") is True:
        return 0
    steps = canary_steps(rollout) or []
    index = current_step_index(rollout)
    if index is None or index >= len(steps):
        return max_traffic_weight(rollout)
    for step in reversed(steps[: index + 1]):
        if "setWeight" in step:
            return int_of(step.get("setWeight"))
    return 0


def _is_generation_observed(rollout: Obj) -> bool:
    observed = dict_at(rollout, "status").get("observedGeneration")
    try:
        observed_int = int(str(observed))
    except (TypeError, ValueError):
        return True  # v0.9-style hash or absent: cannot tell, trust status
    generation = int_of(metadata(rollout).get("generation"))
    return observed_int >= generation


def _is_unpausing(rollout: Obj) -> bool:
    status = dict_at(rollout, "status")
    return status.get("controllerPause") is True and not status.get("pauseConditions")


def _is_workload_generation_observed(rollout: Obj) -> bool:
    annotations = metadata(rollout).get("annotations") or {}
    wanted = annotations.get(WORKLOAD_GENERATION_ANNOTATION)
    observed = dict_at(rollout, "status").get("workloadObservedGeneration")
    try:
        return int(str(wanted)) == int(str(observed))
    except (TypeError, ValueError):
        return True


def rollout_phase(rollout: Obj) -> tuple[str, str]:
    """(phase, message) as Argo's clients compute it."""
    spec = dict_at(rollout, "spec")
    status = dict_at(rollout, "status")
    if not _is_generation_observed(rollout):
        return "Progressing", "waiting for rollout spec update to be observed"
    if _is_unpausing(rollout):
        return "Progressing", "waiting for rollout to unpause"
    if spec.get("templateResolvedFromRef") and not _is_workload_generation_observed(rollout):
        return (
            "Progressing",
            "waiting for rollout spec update to be observed for the reference workload",
        )
    if status.get("phase"):
        return str(status["phase"]), str(status.get("message") or "")
    return calculate_phase(rollout)


def calculate_phase(rollout: Obj) -> tuple[str, str]:
    """The phase from spec and status alone (for rollouts whose status has no phase)."""
    return calculate_rollout_phase(
        spec=dict_at(rollout, "spec"), status=dict_at(rollout, "status"), replicas=desired_replicas(rollout)
    )


def phase_icon(phase: str) -> str:
    return {
        "Progressing": ICON_PROGRESSING,
        "Error": ICON_WARNING,
        "InvalidSpec": ICON_WARNING,
        "Paused": ICON_PAUSED,
        "Healthy": ICON_OK,
        "Degraded": ICON_BAD,
        "Unknown": ICON_UNKNOWN,
        "ScaledDown": ICON_NEUTRAL,
    }.get(phase, " ")
