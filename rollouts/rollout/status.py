"""The Rollout status as the reconcile reads and writes it, and its sanitising.

The status is the compatibility contract with Argo's plugin and UI, and the
only memory the controller has (DESIGN.md §3), so its keys are spelled once,
here. A hand edit or a foreign writer may leave a malformed field behind:
`sanitized_status()` drops what we cannot read, so that it is recomputed as if
absent instead of stopping the rollout.
"""

from __future__ import annotations

import copy
from typing import Any

Status = dict[str, Any]

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


def sanitized_status(raw: Any) -> Status:
    """The observed status with malformed fields dropped: a corrupt status must not stop a rollout."""
    if not isinstance(raw, dict):
        return {}
    status: Status = {}
    for key, value in raw.items():
        wanted = _STATUS_TYPES.get(key)
        if wanted is not None:
            if isinstance(value, wanted) and not (wanted is int and isinstance(value, bool)):
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
    return status


def int_or(value: Any, default: int) -> int:
    """`value` when it is a JSON integer (not a bool), else `default`."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default
