"""The exact patches the operator commands send, as pure functions.

Compatibility with Argo's plugin means sending the same fields the same way
(DESIGN.md §1): a controller reacts to `status.pauseConditions: null`,
`status.abort`, `status.promoteFull`, `status.currentStepIndex`,
`spec.paused` and `spec.restartAt`, whichever CLI wrote them. Keeping the
decisions here, away from I/O, makes each of them unit-testable.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.common import InvalidValueError, parse_duration
from rollouts.api.constants import POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION
from rollouts.cli.summary import canary_steps, current_step_index, rollout_phase

Obj = dict[str, Any]

ABORT_PATCH: Obj = {"status": {"abort": True}}
RETRY_PATCH: Obj = {"status": {"abort": False}}
PAUSE_PATCH: Obj = {"spec": {"paused": True}}
TERMINATE_PATCH: Obj = {"spec": {"terminate": True}}


class WrongStateError(ValueError):
    """The object is not in a state the command applies to."""


@dataclass(frozen=True)
class PromotePatches:
    """spec patch, status-subresource patch, and the unified patch for CRDs without one."""

    spec: Obj | None
    status: Obj | None
    unified: Obj


def _next_step(rollout: Obj) -> int | None:
    index = current_step_index(rollout)
    if index is None:
        return None
    steps = canary_steps(rollout) or []
    return index + 1 if index < len(steps) else index


def promote_patches(
    rollout: Obj,
    *,
    full: bool = False,
    skip_current_step: bool = False,
    skip_all_steps: bool = False,
) -> PromotePatches:
    """What `promote` sends, decided from the rollout as read (Argo's getPatches).

    Raises WrongStateError where promoting cannot do anything: a Healthy
    rollout (nothing paused, nothing in progress) or flags that do not apply.
    """
    spec = rollout.get("spec") or {}
    status = rollout.get("status") or {}
    strategy = spec.get("strategy") or {}
    name = (rollout.get("metadata") or {}).get("name", "")
    if skip_current_step and skip_all_steps:
        raise WrongStateError("Cannot use skip-current-step and skip-all-steps flags at the same time")
    if skip_current_step or skip_all_steps:
        if strategy.get("blueGreen") is not None:
            raise WrongStateError("Cannot skip steps of a bluegreen rollout. Run without a flags")
        if strategy.get("canary") is not None and not canary_steps(rollout):
            raise WrongStateError("Cannot skip steps of a rollout without steps")
    phase, _ = rollout_phase(rollout)
    if phase == "Healthy" and not spec.get("paused") and not status.get("pauseConditions"):
        raise WrongStateError(f"rollout '{name}' is Healthy and not paused: there is nothing to promote")
    paused = spec.get("paused") is True
    pause_conditions = bool(status.get("pauseConditions"))
    if skip_current_step:
        step = _next_step(rollout)
        patch = {"status": {"currentStepIndex": step}} if step is not None else None
        return PromotePatches(spec=None, status=patch, unified=patch or {})
    if skip_all_steps:
        patch = {"status": {"currentStepIndex": len(canary_steps(rollout) or [])}}
        return PromotePatches(spec=None, status=patch, unified=patch)
    if full:
        return PromotePatches(
            spec={"spec": {"paused": False}} if paused else None,
            status=(
                {"status": {"promoteFull": True}} if status.get("currentPodHash") != status.get("stableRS") else None
            ),
            unified={"spec": {"paused": False}, "status": {"promoteFull": True}},
        )
    spec_patch = {"spec": {"paused": False}} if paused else None
    unified: Obj = {"spec": {"paused": False}, "status": {"pauseConditions": None}}
    inconclusive = (
        strategy.get("canary") is not None
        and ((status.get("canary") or {}).get("currentStepAnalysisRunStatus") or {}).get("status") == "Inconclusive"
    )
    status_patch: Obj | None = None
    if inconclusive and pause_conditions and status.get("controllerPause") is True:
        # Past an inconclusive analysis: clear the pause and move on, else a pause step
        # right after would leave the rollout stuck (Argo's behaviour).
        step = _next_step(rollout)
        if step is not None:
            status_patch = {"status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": step}}
    elif pause_conditions:
        status_patch = {"status": {"pauseConditions": None}}
    elif strategy.get("canary") is not None:
        # Not paused: skip the step in progress (an analysis or experiment step).
        step = _next_step(rollout)
        if step is not None:
            status_patch = {"status": {"pauseConditions": None, "currentStepIndex": step}}
            unified = {
                "spec": {"paused": False},
                "status": {"pauseConditions": None, "currentStepIndex": step},
            }
    return PromotePatches(spec=spec_patch, status=status_patch, unified=unified)


def restart_patch(now: datetime, delay: str | None) -> tuple[Obj, str]:
    """({"spec": {"restartAt": RFC3339}}, the delay as shown), like Argo's `restart --in`."""
    shown = delay or "0s"
    at = now
    if delay:
        try:
            seconds = parse_duration(delay)
        except InvalidValueError as error:
            raise ValueError(f"invalid --in duration {delay!r}: {error}") from None
        if seconds is None or seconds < 0:
            raise ValueError(f"invalid --in duration {delay!r}: must not be negative")
        at = now + timedelta(seconds=seconds)
    return {"spec": {"restartAt": at.strftime("%Y-%m-%dT%H:%M:%SZ")}}, shown


def parse_image_spec(text: str) -> tuple[str, str]:
    """CONTAINER=IMAGE (CONTAINER may be '*')."""
    parts = text.split("=")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise ValueError(f"invalid image spec {text!r}: expected CONTAINER=IMAGE (or *=IMAGE)")
    return parts[0], parts[1]


def with_image(obj: Obj, *, container: str, image: str) -> Obj:
    """A copy of a Rollout or Deployment with the image set in spec.template.spec."""
    updated = copy.deepcopy(obj)
    pod_spec = ((updated.get("spec") or {}).get("template") or {}).get("spec") or {}
    found = False
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for entry in pod_spec.get(field) or []:
            if isinstance(entry, dict) and (container == "*" or entry.get("name") == container):
                entry["image"] = image
                found = True
    if not found:
        raise ValueError(f'unable to find container named "{container}"')
    return updated


def _revision(rs: Obj) -> int | None:
    value = ((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION)
    if value is None:
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def controlled_by(obj: Obj, uid: str) -> bool:
    return any(
        isinstance(ref, dict) and ref.get("uid") == uid and ref.get("controller") is True
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []
    )


def revision_replica_set(replica_sets: list[Obj], *, rollout_name: str, to_revision: int) -> Obj:
    """The ReplicaSet to roll back to: that revision, or (0) the second newest."""
    newest: tuple[int, Obj] | None = None
    previous: tuple[int, Obj] | None = None
    for rs in replica_sets:
        revision = _revision(rs)
        if revision is None:
            continue
        if to_revision == 0:
            if newest is None or newest[0] < revision:
                previous, newest = newest, (revision, rs)
            elif previous is None or previous[0] < revision:
                previous = (revision, rs)
        elif revision == to_revision:
            return rs
    if to_revision > 0:
        raise ValueError(f"unable to find specified revision {to_revision} in history")
    if previous is None:
        raise ValueError(f'no revision found for rollout "{rollout_name}"')
    return previous[1]


def template_without_hash(rs: Obj) -> Obj:
    template = copy.deepcopy(((rs.get("spec") or {}).get("template")) or {})
    labels = (template.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    return template


def is_derivative(partial: Any, full: Any) -> bool:
    """apimachinery's Semantic.DeepDerivative on JSON: unset/empty in `partial` matches anything."""
    if partial is None:
        return True
    if isinstance(partial, dict):
        if not partial:
            return True
        if not isinstance(full, dict):
            return False
        return all(is_derivative(value, full.get(key)) for key, value in partial.items())
    if isinstance(partial, list):
        if not partial:
            return True
        if not isinstance(full, list) or len(full) != len(partial):
            return False
        return all(is_derivative(a, b) for a, b in zip(partial, full, strict=True))
    if isinstance(partial, str) and partial == "":
        return True
    return bool(partial == full)


def undo_patch(template: Obj) -> list[Obj]:
    """The JSON patch Argo sends: replace /spec/template with the old revision's template."""
    return [{"op": "replace", "path": "/spec/template", "value": template}]
