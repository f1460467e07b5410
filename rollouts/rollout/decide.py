"""decide(): observed world + now -> actions + new status. The one entry of the rollout's functional core.

The functional core of the rollout controller (DESIGN.md §3): it reads the
Rollout, the ReplicaSets it owns, the Services it names, its AnalysisRuns and
the templates they use, (for restarts and ephemeral metadata) the pods, and
(for a workloadRef) the referenced workload, and returns what should change,
without I/O and with time passed in. All state it needs lives in `.status`,
labels and annotations, so a controller restarted anywhere carries on.

Here the workloadRef is resolved, the spec is validated (an invalid one gets
InvalidSpec and no action on pods) and the strategy's reconcile is called:
canary.py (a canary without steps is the rolling update) or bluegreen.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pydantic import ValidationError

from rollouts.api.errors import validation_message
from rollouts.api.nesting import nesting_error, too_deep
from rollouts.api.rollout import Rollout
from rollouts.api.validation import validate_rollout
from rollouts.rollout import bluegreen, canary, sync
from rollouts.rollout import workload as workloads
from rollouts.rollout.context import Observed, Plan
from rollouts.rollout.services import missing_service
from rollouts.rollout.status import sanitized_status


def decide(observed: Observed, now: datetime) -> Plan:
    """Pure: the same observed state and `now` always give the same plan."""
    nested = _too_deep(observed)
    if nested:
        old = sanitized_status(observed.rollout.get("status"))
        return sync.invalid(observed, now, old=old, raw={**observed.rollout, "status": old}, error=nested)
    ref = workloads.workload_ref(observed.rollout)
    if ref is None:
        return _reconcile(observed, now, workload_generation=None, workload_error="")
    resolution = workloads.resolve(observed.rollout, observed.workload)
    if resolution.error:
        return _reconcile(observed, now, workload_generation=None, workload_error=resolution.error)
    resolved = replace(observed, rollout=resolution.rollout)
    plan = _reconcile(resolved, now, workload_generation=resolution.generation, workload_error="")
    plan.actions.extend(workloads.workload_actions(observed, plan, ref=ref, generation=resolution.generation))
    return plan


def _too_deep(observed: Observed) -> str:
    """The error for a rollout (outside its status) or workload nested too deeply to be read, else "".

    A status nested too deeply is not the user's spec: sanitized_status() drops
    the field, as it drops any malformed one.
    """
    spec = {key: value for key, value in observed.rollout.items() if key != "status"}
    path = too_deep(spec)
    if path is None and observed.workload is not None:
        nested_workload = too_deep(observed.workload)
        path = ("spec", "workloadRef", *nested_workload) if nested_workload else None
    return nesting_error(path) if path else ""


def _reconcile(observed: Observed, now: datetime, *, workload_generation: str | None, workload_error: str) -> Plan:
    """Validate, then the strategy's reconcile (Argo's rolloutContext.reconcile)."""
    old = sanitized_status(observed.rollout.get("status"))
    raw = {**observed.rollout, "status": old}
    try:
        rollout = Rollout.from_dict(raw)
    except ValidationError as error:
        return sync.invalid(observed, now, old=old, raw=raw, error=validation_message(error, raw))
    errors = [workload_error] if workload_error else validate_rollout(rollout)
    if not errors:
        missing = missing_service(rollout, observed)
        errors = [missing] if missing else []
    if errors:
        return sync.invalid(observed, now, old=old, raw=raw, error=errors[0])
    strategy = rollout.spec.strategy
    reconcile = canary.reconcile
    if strategy.blue_green is not None:
        if strategy.canary is not None:
            both = "spec.strategy: a rollout needs exactly one of canary and blueGreen"
            return sync.invalid(observed, now, old=old, raw=raw, error=both)
        reconcile = bluegreen.reconcile
    return reconcile(observed, now, old=old, raw=raw, rollout=rollout, workload_generation=workload_generation)
