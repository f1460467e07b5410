"""The Rollout status as the reconcile reads and writes it, typed, and its sanitising.

The status is the compatibility contract with Argo's plugin and UI, and the
only memory the controller has (DESIGN.md §3), so its keys are spelled once,
here, as TypedDicts (total=False) over the plain dict rather than a pydantic
model: the dict is exactly what goes over the wire (no alias mapping, no
exclude-unset rules, keys we do not know yet pass through untouched), it costs
nothing at run time (the hot reconcile path builds and compares plain dicts),
and mypy --strict still rejects a misspelt key or a value of the wrong type.
(`.get()` of an unknown key only types as `object` in mypy; the unit test
tests/unit/rollout/test_status_keys.py checks those reads in the core.)
A hand edit or a foreign writer may leave a malformed field behind:
`sanitized_status()` is the one place where the wire dict becomes a
RolloutStatus; it drops what we cannot read, so that it is recomputed as if
absent instead of stopping the rollout.
"""

from __future__ import annotations

import copy
from typing import Any, Literal, TypedDict, cast

from rollouts.api.nesting import MAX_DEPTH, too_deep
from rollouts.api.numbers import INT32_MAX


class Condition(TypedDict, total=False):
    """One entry of status.conditions (Argo's RolloutCondition)."""

    type: str
    status: str
    lastUpdateTime: str | None
    lastTransitionTime: str | None
    reason: str | None
    message: str | None


class PauseCondition(TypedDict, total=False):
    """One entry of status.pauseConditions."""

    reason: str
    startTime: str


class CanaryStatus(TypedDict, total=False):
    """status.canary. Only the analysis code writes the run statuses; the rest is carried over verbatim."""

    currentStepAnalysisRunStatus: dict[str, Any]
    currentBackgroundAnalysisRunStatus: dict[str, Any]
    currentExperiment: Any
    weights: Any
    stablePingPong: Any
    stepPluginStatuses: Any


class BlueGreenStatus(TypedDict, total=False):
    """status.blueGreen."""

    activeSelector: str
    previewSelector: str
    scaleUpPreviewCheckPoint: bool
    prePromotionAnalysisRunStatus: dict[str, Any]
    postPromotionAnalysisRunStatus: dict[str, Any]


class RolloutStatus(TypedDict, total=False):
    """A Rollout's .status, with Argo's field names."""

    abort: bool
    abortedAt: str
    controllerPause: bool
    promoteFull: bool
    pauseConditions: list[PauseCondition]
    conditions: list[Condition]
    currentPodHash: str
    currentStepHash: str
    currentStepIndex: int
    collisionCount: int
    observedGeneration: str
    stableRS: str
    restartedAt: str
    phase: str
    message: str
    selector: str
    canary: CanaryStatus
    blueGreen: BlueGreenStatus
    workloadObservedGeneration: str
    replicas: int
    updatedReplicas: int
    readyReplicas: int
    availableReplicas: int
    HPAReplicas: int


Status = RolloutStatus

CounterKey = Literal["replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "HPAReplicas"]
COUNTER_KEYS: tuple[CounterKey, ...] = (
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "HPAReplicas",
)
"""The replica counters, left out of the status when zero (Go's omitempty)."""

PauseKey = Literal["abort", "abortedAt", "pauseConditions", "controllerPause"]
PAUSE_KEYS: tuple[PauseKey, ...] = ("abort", "abortedAt", "pauseConditions", "controllerPause")
"""The fields pause.PauseContext owns."""

CanaryKey = Literal[
    "currentStepAnalysisRunStatus",
    "currentBackgroundAnalysisRunStatus",
    "currentExperiment",
    "weights",
    "stablePingPong",
    "stepPluginStatuses",
]
CANARY_RESET_KEYS: tuple[CanaryKey, ...] = (
    "currentStepAnalysisRunStatus",
    "currentBackgroundAnalysisRunStatus",
    "stepPluginStatuses",
)
"""What a new revision clears from status.canary (Argo's resetRolloutStatus)."""


def wire(status: RolloutStatus) -> dict[str, Any]:
    """The same dict, for code that takes any JSON object (api/phases.py): a typing view, no copy."""
    return cast(dict[str, Any], status)


_STATUS_TYPES: dict[str, type | tuple[type, ...]] = {
    "abort": bool,
    "abortedAt": str,
    "controllerPause": bool,
    "promoteFull": bool,
    "currentPodHash": str,
    "currentStepHash": str,
    "currentStepIndex": int,
    "collisionCount": int,
    "observedGeneration": str,
    "stableRS": str,
    "restartedAt": str,
    "phase": str,
    "message": str,
    "selector": str,
    "canary": dict,
    "blueGreen": dict,
    "workloadObservedGeneration": str,
    "replicas": int,
    "updatedReplicas": int,
    "readyReplicas": int,
    "availableReplicas": int,
    "HPAReplicas": int,
}
# The key every item of a list field must carry (as a string) to be kept.
_ITEM_KEY = {"conditions": "type", "pauseConditions": "reason"}


def sanitized_status(raw: Any) -> RolloutStatus:
    """The observed status with malformed fields dropped: a corrupt status must not stop a rollout."""
    if not isinstance(raw, dict):
        return {}
    status: dict[str, Any] = {}
    for key, value in raw.items():
        if too_deep(value, limit=MAX_DEPTH - 2) is not None:
            continue  # nested deeper than anything we write: unreadable, like any malformed field
        wanted = _STATUS_TYPES.get(key)
        if wanted is not None:
            if wanted is int:
                if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= INT32_MAX:
                    # Argo's status integers are int32 counts and indexes: a negative or larger one
                    # is unreadable (a negative currentStepIndex would index the steps from the end).
                    status[key] = value
            elif isinstance(value, wanted):
                status[key] = copy.deepcopy(value)
        elif key in _ITEM_KEY:
            if isinstance(value, list):
                items = [
                    dict(item) for item in value if isinstance(item, dict) and isinstance(item.get(_ITEM_KEY[key]), str)
                ]
                if items:
                    status[key] = items
        else:
            status[key] = copy.deepcopy(value)
    return cast(RolloutStatus, status)


def int_or(value: Any, default: int) -> int:
    """`value` when it is a JSON integer (not a bool), else `default`."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default
