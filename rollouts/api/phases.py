"""Argo's phase rules, shared by the controller (which writes them) and the CLI (which shows them).

`calculate_rollout_phase` is Argo's CalculateRolloutPhase in its order; the
controller stores its result in status and the CLI recomputes it for a status
that has none, so both must be the same function. The finished analysis phases
and the phase of a raw AnalysisRun are read by the rollout core, the analysis
controller and the CLI alike. Everything here reads plain dicts as the API
returns them and never raises on a field of the wrong type: any writer of an
object can put anything in its status.
"""

from __future__ import annotations

from typing import Any

from rollouts.api.constants import (
    ANALYSIS_ERROR,
    ANALYSIS_FAILED,
    ANALYSIS_INCONCLUSIVE,
    ANALYSIS_PENDING,
    ANALYSIS_SUCCESSFUL,
    CONDITION_INVALID_SPEC,
    PHASE_DEGRADED,
    PHASE_HEALTHY,
    PHASE_PAUSED,
    PHASE_PROGRESSING,
)
from rollouts.api.timestamps import parse_time

COMPLETED_ANALYSIS_PHASES = frozenset({ANALYSIS_SUCCESSFUL, ANALYSIS_FAILED, ANALYSIS_ERROR, ANALYSIS_INCONCLUSIVE})
"""An AnalysisRun in one of these phases has finished (Argo's IsCompleted)."""

# Condition reasons that make a rollout Degraded (utils/conditions: RolloutAbortedReason, TimedOutReason).
DEGRADED_REASONS = ("RolloutAborted", "ProgressDeadlineExceeded")


def analysis_run_phase(run: dict[str, Any]) -> str:
    """The phase of a raw AnalysisRun object; Pending until its controller wrote one."""
    status = run.get("status")
    phase = status.get("phase") if isinstance(status, dict) else None
    return str(phase or ANALYSIS_PENDING)


def rollout_completed(status: dict[str, Any]) -> bool:
    """Argo's RolloutCompleted: the stable ReplicaSet is the current one."""
    return bool(status.get("stableRS")) and status.get("stableRS") == status.get("currentPodHash")


def restart_pending(spec: dict[str, Any], status: dict[str, Any]) -> bool:
    """spec.restartAt set and not yet recorded as status.restartedAt (CalculateRolloutPhase's check)."""
    restart_at = parse_time(spec.get("restartAt"))
    if restart_at is None:
        return False
    return restart_at != parse_time(status.get("restartedAt"))


def _count(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def calculate_rollout_phase(
    *, spec: dict[str, Any], status: dict[str, Any], replicas: int, now_restart_pending: bool | None = None
) -> tuple[str, str]:
    """Argo's CalculateRolloutPhase: (phase, message) from spec and status, in Argo's order.

    `now_restart_pending` defaults to `restart_pending(spec, status)`.
    """
    for condition in status.get("conditions") or []:
        if not isinstance(condition, dict):
            continue
        if condition.get("type") == CONDITION_INVALID_SPEC:
            return PHASE_DEGRADED, f"{CONDITION_INVALID_SPEC}: {condition.get('message', '')}"
        if condition.get("reason") in DEGRADED_REASONS:
            return PHASE_DEGRADED, f"{condition['reason']}: {condition.get('message', '')}"
    if spec.get("paused"):
        return PHASE_PAUSED, "manually paused"
    for pause in status.get("pauseConditions") or []:
        if isinstance(pause, dict):
            return PHASE_PAUSED, str(pause.get("reason", ""))
    if now_restart_pending is None:
        now_restart_pending = restart_pending(spec, status)
    if now_restart_pending:
        return PHASE_PROGRESSING, "rollout is restarting"
    updated = _count(status.get("updatedReplicas"))
    if updated < replicas:
        return PHASE_PROGRESSING, "more replicas need to be updated"
    if _count(status.get("availableReplicas")) < updated:
        return PHASE_PROGRESSING, "updated replicas are still becoming available"
    strategy = _dict(spec.get("strategy"))
    blue_green = strategy.get("blueGreen")
    canary = strategy.get("canary")
    if isinstance(blue_green, dict):
        active = _dict(status.get("blueGreen")).get("activeSelector")
        if not active or active != status.get("currentPodHash"):
            return PHASE_PROGRESSING, "active service cutover pending"
        if not rollout_completed(status):
            post = _dict(_dict(status.get("blueGreen")).get("postPromotionAnalysisRunStatus"))
            if (
                blue_green.get("postPromotionAnalysis") is not None
                and post.get("status") not in COMPLETED_ANALYSIS_PHASES
            ):
                return PHASE_PROGRESSING, "waiting for analysis to complete"
            return PHASE_PROGRESSING, "waiting for post-promotion verification to complete"
    elif isinstance(canary, dict):
        if canary.get("trafficRouting") is None and _count(status.get("replicas")) > updated:
            return PHASE_PROGRESSING, "old replicas are pending termination"
        if not rollout_completed(status):
            return PHASE_PROGRESSING, "waiting for all steps to complete"
    return PHASE_HEALTHY, ""
