"""Health of each applied object and of the whole GitSync, as Argo CD computes it.

Argo CD (gitops-engine pkg/health) gives each kind a rule; objects without
one are Healthy once they exist. An object still missing from the cluster is
Missing. A Rollout maps from its status.phase (Paused becomes Suspended, as
Argo CD's Lua health check for argoproj.io/Rollout does). The GitSync's
health is the worst of its resources, in Argo CD's order
Healthy < Suspended < Progressing < Missing < Degraded < Unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HEALTHY = "Healthy"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
SUSPENDED = "Suspended"
MISSING = "Missing"
UNKNOWN = "Unknown"

# gitops-engine's health order: a later status is worse.
_SEVERITY = (HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN)


@dataclass(frozen=True)
class Health:
    status: str
    message: str | None = None


def _conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(c.get("type")): c for c in status.get("conditions") or [] if isinstance(c, dict)}


def _generation_observed(obj: dict[str, Any], status: dict[str, Any]) -> bool:
    generation = (obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if generation is None or observed is None:
        return True
    try:  # a Rollout writes observedGeneration as a string, a Deployment as an int
        return int(observed) >= int(generation)
    except (TypeError, ValueError):
        return str(observed) == str(generation)


def _rollout(obj: dict[str, Any], status: dict[str, Any]) -> Health:
    phase = status.get("phase")
    message = status.get("message")
    if not phase:
        return Health(PROGRESSING, "waiting for the rollout controller")
    if phase == "Paused":
        return Health(SUSPENDED, message or "Rollout is paused")
    if phase in (HEALTHY, PROGRESSING, DEGRADED):
        if phase == HEALTHY and not _generation_observed(obj, status):
            return Health(PROGRESSING, "waiting for rollout spec update to be observed")
        return Health(phase, message)
    return Health(UNKNOWN, f"unknown Rollout phase {phase!r}")


def _deployment(obj: dict[str, Any], status: dict[str, Any]) -> Health:
    spec = obj.get("spec") or {}
    if spec.get("paused"):
        return Health(SUSPENDED, "Deployment is paused")
    if not _generation_observed(obj, status):
        return Health(PROGRESSING, "waiting for rollout to finish: observed deployment generation less than desired")
    progressing = _conditions(status).get("Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Health(DEGRADED, f"Deployment {obj['metadata'].get('name')!r} exceeded its progress deadline")
    replicas = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    if updated < replicas:
        return Health(PROGRESSING, f"{updated} of {replicas} updated replicas are available")
    if total > updated:
        return Health(PROGRESSING, f"{total - updated} old replicas are pending termination")
    if available < updated:
        return Health(PROGRESSING, f"{available} of {updated} updated replicas are available")
    return Health(HEALTHY)


def _job(status: dict[str, Any]) -> Health:
    conditions = _conditions(status)
    failed = conditions.get("Failed")
    if failed and failed.get("status") == "True":
        return Health(DEGRADED, failed.get("message") or "Job failed")
    complete = conditions.get("Complete")
    if complete and complete.get("status") == "True":
        return Health(HEALTHY, complete.get("message"))
    suspended = conditions.get("Suspended")
    if suspended and suspended.get("status") == "True":
        return Health(SUSPENDED, suspended.get("message") or "Job is suspended")
    return Health(PROGRESSING, "Job is running")


def _service(obj: dict[str, Any], status: dict[str, Any]) -> Health:
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return Health(HEALTHY)
    if ((status.get("loadBalancer") or {}).get("ingress")) or []:
        return Health(HEALTHY)
    return Health(PROGRESSING, "waiting for the load balancer's ingress address")


def _pvc(status: dict[str, Any]) -> Health:
    phase = status.get("phase")
    if phase == "Bound":
        return Health(HEALTHY)
    if phase == "Lost":
        return Health(DEGRADED, "PersistentVolumeClaim lost its volume")
    return Health(PROGRESSING, f"PersistentVolumeClaim is {phase or 'Pending'}")


def resource_health(obj: dict[str, Any] | None) -> Health:
    """Health of one live object (None: it does not exist)."""
    if obj is None:
        return Health(MISSING)
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return Health(PROGRESSING, "pending deletion")
    kind = obj.get("kind")
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    status = obj.get("status") or {}
    if kind == "Rollout" and group == "argoproj.io":
        return _rollout(obj, status)
    if kind == "Deployment" and group == "apps":
        return _deployment(obj, status)
    if kind == "Job" and group == "batch":
        return _job(status)
    if kind == "Service" and group == "":
        return _service(obj, status)
    if kind == "PersistentVolumeClaim" and group == "":
        return _pvc(status)
    return Health(HEALTHY)


def worst(statuses: list[str]) -> str:
    """The aggregate health: the worst of `statuses` (Healthy for none)."""
    result = HEALTHY
    for status in statuses:
        rank = _SEVERITY.index(status) if status in _SEVERITY else len(_SEVERITY) - 1
        if rank > _SEVERITY.index(result):
            result = _SEVERITY[rank]
    return result
