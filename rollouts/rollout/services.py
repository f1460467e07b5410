"""Service selectors: which ReplicaSet each Service the strategy names sends traffic to (Argo's service.go).

Both strategies point a Service at pods by setting its
`rollouts-pod-template-hash` selector and marking it managed by the rollout;
`switch_selector()` is the one place that emits that patch and its
SwitchService event. The canary keeps `stableService` on the stable pods and
`canaryService` on the new ones (both on the stable pods after an abort);
blue-green tracks the selectors it decides within the reconcile, because a
later step of the same reconcile reads them.
"""

from __future__ import annotations

from typing import Any

from rollouts.api.constants import MANAGED_BY_ROLLOUTS_ANNOTATION, POD_TEMPLATE_HASH_LABEL
from rollouts.api.rollout import CanaryStrategy, Rollout
from rollouts.rollout import conditions as cond
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout.actions import PatchServiceSelector
from rollouts.rollout.context import Observed, RolloutContext
from rollouts.rollout.replicasets import RS


def selector_hash(service: dict[str, Any]) -> str:
    """The pod hash a Service selects ("" when it selects no particular ReplicaSet)."""
    return str(((service.get("spec") or {}).get("selector") or {}).get(POD_TEMPLATE_HASH_LABEL, ""))


def is_managed(service: dict[str, Any]) -> bool:
    """The Service carries the annotation a rollout puts on a Service it switched."""
    return MANAGED_BY_ROLLOUTS_ANNOTATION in ((service.get("metadata") or {}).get("annotations") or {})


def missing_service(rollout: Rollout, observed: Observed) -> str:
    """Argo's ValidateRolloutReferencedResources for Services: a named Service must exist."""
    canary, blue_green = rollout.spec.strategy.canary, rollout.spec.strategy.blue_green
    named: list[tuple[str, str | None]] = []
    if canary is not None:
        named = [("canary.canaryService", canary.canary_service), ("canary.stableService", canary.stable_service)]
    elif blue_green is not None:
        named = [
            ("blueGreen.activeService", blue_green.active_service),
            ("blueGreen.previewService", blue_green.preview_service),
        ]
    for field_name, service in named:
        if service and service in observed.services and observed.services[service] is None:
            return f'spec.strategy.{field_name}: Invalid value: "{service}": services "{service}" not found'
    return ""


def switch_selector(ctx: RolloutContext, name: str, *, current: str, pod_hash: str) -> None:
    """Argo's switchServiceSelector: point the Service at `pod_hash` (marking it managed); an event on a change."""
    ctx.actions.append(PatchServiceSelector(service=name, pod_hash=pod_hash))
    if current != pod_hash:
        ctx.event(cond.SWITCH_SERVICE_REASON, cond.SWITCH_SERVICE_MESSAGE.format(name, current, pod_hash))


def reconcile_canary_services(ctx: RolloutContext, strategy: CanaryStrategy) -> None:
    """Argo's reconcileStableAndCanaryService (no traffic routing)."""
    _ensure_service(ctx, strategy.stable_service, ctx.stable_rs)
    if ctx.pause.is_aborted():
        _ensure_service(ctx, strategy.canary_service, ctx.stable_rs)
        return
    _ensure_service(ctx, strategy.canary_service, ctx.new_rs)


def _ensure_service(ctx: RolloutContext, name: str | None, rs: RS | None) -> None:
    if rs is None or not name:
        return
    service = ctx.observed.services.get(name)
    if service is None:
        return
    current = selector_hash(service)
    desired = rsutil.rs_hash(rs)
    if current == desired:
        return
    if not is_managed(service) and not rsutil.is_fully_available(rs):
        return  # adopting a Service: only onto a fully available ReplicaSet
    if rsutil.available_replicas(rs) <= 0:
        return  # never point a Service at no pods
    switch_selector(ctx, name, current=current, pod_hash=desired)


def observed_selectors(observed: Observed, names: list[str | None]) -> dict[str, str]:
    """Service name -> the pod hash it selects, for the named Services that exist."""
    selectors: dict[str, str] = {}
    for name in names:
        service = observed.services.get(name or "")
        if name and service is not None:
            selectors[name] = selector_hash(service)
    return selectors


def switch_tracked(ctx: RolloutContext, selectors: dict[str, str], name: str | None, pod_hash: str) -> None:
    """Switch a Service whose selector `selectors` tracks, and record the switch there (blue-green)."""
    if not name or not pod_hash or name not in selectors:
        return
    service = ctx.observed.services.get(name) or {}
    current = selectors[name]
    if current == pod_hash and is_managed(service):
        return
    switch_selector(ctx, name, current=current, pod_hash=pod_hash)
    selectors[name] = pod_hash
