"""What `get rollout`, `list rollouts` and `status` show, computed from raw objects.

A pure function of (Rollout, ReplicaSets, Pods, AnalysisRuns, referenced
Deployment, now) -> a view model, so the exact numbers and labels are unit
tested without a cluster and the renderer only formats. The rules follow the
Argo plugin's client-side computation, so both CLIs show the same thing for the
same objects: the phase the controller wrote in status (unless the controller
has not yet seen the latest spec, or an unpause is in flight), else the phase
derived from spec and status; "stable"/"canary"/"active"/"preview" tags from
the pod-template hash of each ReplicaSet; ActualWeight from available canary
pods when there is no traffic router. Objects are plain dicts as the API
returns them; a missing field never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rollouts.api.constants import (
    POD_TEMPLATE_HASH_LABEL,
    REVISION_ANNOTATION,
    SCALE_DOWN_DEADLINE_ANNOTATION,
    WORKLOAD_GENERATION_ANNOTATION,
)
from rollouts.api.phases import calculate_rollout_phase
from rollouts.api.timestamps import parse_time

Obj = dict[str, Any]

ICON_WAITING = "◷"
ICON_PROGRESSING = "◌"
ICON_WARNING = "⚠"
ICON_UNKNOWN = "?"
ICON_OK = "✔"
ICON_BAD = "✖"
ICON_PAUSED = "॥"
ICON_NEUTRAL = "•"

TAG_CANARY = "canary"
TAG_STABLE = "stable"
TAG_ACTIVE = "active"
TAG_PREVIEW = "preview"

# Condition reasons that make a rollout Degraded (Argo's conditions package).


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _dict(obj: Obj, *keys: str) -> Obj:
    current: Any = obj
    for key in keys:
        current = current.get(key) if isinstance(current, dict) else None
    return current if isinstance(current, dict) else {}


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def human_duration(seconds: float) -> str:
    """Kubernetes' HumanDuration (the AGE column of kubectl)."""
    total = int(seconds)
    if total < -1:
        return "<invalid>"
    if total < 0:
        return "0s"
    if total < 120:
        return f"{total}s"
    minutes = total // 60
    if minutes < 10:
        rest = total % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = total // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def age(obj_meta: Obj, now: datetime) -> str:
    created = parse_time(obj_meta.get("creationTimestamp"))
    return human_duration((now - created).total_seconds()) if created else ""


# ---------------------------------------------------------------- rollout-level rules


def canary_steps(rollout: Obj) -> list[Obj] | None:
    """The canary steps, or None for a non-canary rollout."""
    canary = _dict(rollout, "spec", "strategy").get("canary")
    if not isinstance(canary, dict):
        return None
    steps = canary.get("steps")
    return [s if isinstance(s, dict) else {} for s in steps] if isinstance(steps, list) else []


def strategy_name(rollout: Obj) -> str:
    strategy = _dict(rollout, "spec", "strategy")
    if isinstance(strategy.get("canary"), dict):
        return "Canary"
    if isinstance(strategy.get("blueGreen"), dict):
        return "BlueGreen"
    return "unknown"


def current_step_index(rollout: Obj) -> int | None:
    """Argo's GetCurrentCanaryStep index: None without steps, 0 when status has none yet."""
    steps = canary_steps(rollout)
    if not steps:
        return None
    return _int(_dict(rollout, "status").get("currentStepIndex"), 0)


def max_traffic_weight(rollout: Obj) -> int:
    routing = _dict(rollout, "spec", "strategy", "canary", "trafficRouting")
    return _int(routing.get("maxTrafficWeight"), 100) or 100


def current_set_weight(rollout: Obj) -> int:
    """The weight of the last setWeight step at or before the current step (Argo's rule)."""
    status = _dict(rollout, "status")
    if status.get("abort") is True:
        return 0
    steps = canary_steps(rollout) or []
    index = current_step_index(rollout)
    if index is None or index >= len(steps):
        return max_traffic_weight(rollout)
    for step in reversed(steps[: index + 1]):
        if "setWeight" in step:
            return _int(step.get("setWeight"))
    return 0


def _is_generation_observed(rollout: Obj) -> bool:
    observed = _dict(rollout, "status").get("observedGeneration")
    try:
        observed_int = int(str(observed))
    except (TypeError, ValueError):
        return True  # v0.9-style hash or absent: cannot tell, trust status
    generation = _int(_meta(rollout).get("generation"))
    return observed_int >= generation


def _is_unpausing(rollout: Obj) -> bool:
    status = _dict(rollout, "status")
    return status.get("controllerPause") is True and not status.get("pauseConditions")


def _is_workload_generation_observed(rollout: Obj) -> bool:
    annotations = _meta(rollout).get("annotations") or {}
    wanted = annotations.get(WORKLOAD_GENERATION_ANNOTATION)
    observed = _dict(rollout, "status").get("workloadObservedGeneration")
    try:
        return int(str(wanted)) == int(str(observed))
    except (TypeError, ValueError):
        return True


def rollout_phase(rollout: Obj) -> tuple[str, str]:
    """(phase, message) as Argo's clients compute it."""
    spec = _dict(rollout, "spec")
    status = _dict(rollout, "status")
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
    spec = _dict(rollout, "spec")
    desired = _int(spec.get("replicas"), 1) if spec.get("replicas") is not None else 1
    return calculate_rollout_phase(spec=spec, status=_dict(rollout, "status"), replicas=desired)


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


# ---------------------------------------------------------------- view model


@dataclass
class PodView:
    name: str
    status: str
    icon: str
    ready: str
    restarts: int
    age: str
    created: str


@dataclass
class ReplicaSetView:
    name: str
    uid: str
    revision: int
    status: str
    icon: str
    replicas: int
    available: int
    age: str
    created: str
    images: list[str]
    stable: bool = False
    canary: bool = False
    active: bool = False
    preview: bool = False
    scale_down_delay: str = ""
    pods: list[PodView] = field(default_factory=list)

    @property
    def tags(self) -> list[str]:
        tags = []
        if self.stable:
            tags.append(TAG_STABLE)
        if self.canary:
            tags.append(TAG_CANARY)
        elif self.active:
            tags.append(TAG_ACTIVE)
        elif self.preview:
            tags.append(TAG_PREVIEW)
        return tags


@dataclass
class JobView:
    name: str
    status: str
    icon: str
    age: str


@dataclass
class AnalysisRunView:
    name: str
    revision: int
    status: str
    icon: str
    age: str
    created: str
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    jobs: list[JobView] = field(default_factory=list)


@dataclass
class ImageView:
    image: str
    tags: list[str]


@dataclass
class RolloutView:
    name: str
    namespace: str
    status: str
    message: str
    icon: str
    strategy: str
    age: str
    step: str = ""
    set_weight: str = ""
    actual_weight: str = ""
    desired: int = 0
    current: int = 0
    updated: int = 0
    ready: int = 0
    available: int = 0
    replica_sets: list[ReplicaSetView] = field(default_factory=list)
    analysis_runs: list[AnalysisRunView] = field(default_factory=list)

    def images(self) -> list[ImageView]:
        """Images of ReplicaSets that have pods, with merged tags, sorted by image."""
        merged: dict[str, set[str]] = {}
        for rs in self.replica_sets:
            if rs.replicas <= 0:
                continue
            for image in rs.images:
                merged.setdefault(image, set()).update(rs.tags)
        return [ImageView(image, sorted(tags)) for image, tags in sorted(merged.items())]

    def revisions(self) -> list[int]:
        revisions = {rs.revision for rs in self.replica_sets}
        revisions |= {run.revision for run in self.analysis_runs}
        return sorted(revisions, reverse=True)


def _owned_by(obj: Obj, uids: set[str]) -> str | None:
    for ref in _meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("uid") in uids:
            return str(ref["uid"])
    return None


def _revision(obj: Obj) -> int:
    return _int((_meta(obj).get("annotations") or {}).get(REVISION_ANNOTATION), 0)


def replica_set_health(rs: Obj) -> str:
    spec = _dict(rs, "spec")
    status = _dict(rs, "status")
    replicas = spec.get("replicas")
    if _int(_meta(rs).get("generation")) <= _int(status.get("observedGeneration")):
        for condition in status.get("conditions") or []:
            if (
                isinstance(condition, dict)
                and condition.get("type") == "ReplicaFailure"
                and condition.get("status") == "True"
            ):
                return "ReplicaFailure"
        if replicas is not None and _int(status.get("availableReplicas")) < _int(replicas):
            return "Progressing"
    else:
        return "Progressing"
    if replicas is not None and _int(replicas) == 0:
        return "ScaledDown"
    return "Healthy"


def _replica_set_icon(status: str) -> str:
    return {
        "Progressing": ICON_PROGRESSING,
        "Healthy": ICON_OK,
        "ReplicaFailure": ICON_BAD,
        "ScaledDown": ICON_NEUTRAL,
    }.get(status, " ")


def pod_status(pod: Obj) -> tuple[str, str, int]:
    """(status, ready "n/m", restarts) the way kubectl's STATUS column computes them."""
    spec = _dict(pod, "spec")
    status = _dict(pod, "status")
    containers = spec.get("containers") or []
    sidecars = {
        c.get("name"): c.get("restartPolicy") == "Always"
        for c in spec.get("initContainers") or []
        if isinstance(c, dict)
    }
    reason = str(status.get("reason") or status.get("phase") or "")
    restarts = 0
    ready = 0
    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for index, container in enumerate(init_statuses):
        restarts += _int(container.get("restartCount"))
        state = container.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if isinstance(terminated, dict) and _int(terminated.get("exitCode")) == 0:
            continue
        if isinstance(terminated, dict):
            if terminated.get("reason"):
                reason = f"Init:{terminated['reason']}"
            elif _int(terminated.get("signal")):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode')}"
            initializing = True
        elif sidecars.get(container.get("name")) and container.get("started") is True:
            if container.get("ready") is True:
                continue
        elif isinstance(waiting, dict) and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
            initializing = True
        else:
            reason = f"Init:{index}/{len(spec.get('initContainers') or [])}"
            initializing = True
        break
    if not initializing:
        restarts = 0
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            restarts += _int(container.get("restartCount"))
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if isinstance(waiting, dict) and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif isinstance(terminated, dict) and terminated.get("reason"):
                reason = str(terminated["reason"])
            elif isinstance(terminated, dict):
                if _int(terminated.get("signal")):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{terminated.get('exitCode')}"
            elif container.get("ready") is True and isinstance(state.get("running"), dict):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running"
    if _meta(pod).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason, f"{ready}/{len(containers)}", restarts


def pod_icon(status: str) -> str:
    if status.startswith("Init:"):
        return ICON_PROGRESSING
    if status.startswith(("Signal:", "ExitCode:")):
        return ICON_BAD
    if status.endswith("Error") or status.startswith("Err"):
        return ICON_WARNING
    return {
        "Pending": ICON_PROGRESSING,
        "Terminating": ICON_PROGRESSING,
        "ContainerCreating": ICON_PROGRESSING,
        "Running": ICON_OK,
        "Completed": ICON_OK,
        "Failed": ICON_BAD,
        "InvalidImageName": ICON_BAD,
        "CrashLoopBackOff": ICON_BAD,
        "ImagePullBackOff": ICON_WARNING,
        "RegistryUnavailable": ICON_WARNING,
        "Unknown": ICON_UNKNOWN,
    }.get(status, " ")


def analysis_icon(phase: str) -> str:
    return {
        "Successful": ICON_OK,
        "Inconclusive": ICON_UNKNOWN,
        "Pending": ICON_WAITING,
        "Running": ICON_PROGRESSING,
        "Failed": ICON_BAD,
        "Error": ICON_WARNING,
    }.get(phase, " ")


def _scale_down_delay(rs: Obj, now: datetime) -> str:
    deadline = parse_time((_meta(rs).get("annotations") or {}).get(SCALE_DOWN_DEADLINE_ANNOTATION))
    if deadline is None:
        return ""
    if deadline < now:
        return "passed"
    return human_duration((deadline - now).total_seconds())


def _template_hash(rs: Obj) -> str:
    labels = _meta(rs).get("labels") or {}
    return str(labels.get(POD_TEMPLATE_HASH_LABEL, ""))


def replica_set_views(rollout: Obj, replica_sets: list[Obj], pods: list[Obj], now: datetime) -> list[ReplicaSetView]:
    uid = str(_meta(rollout).get("uid", ""))
    status = _dict(rollout, "status")
    strategy = _dict(rollout, "spec", "strategy")
    views: list[ReplicaSetView] = []
    for rs in replica_sets:
        if _owned_by(rs, {uid}) is None:
            continue
        meta = _meta(rs)
        health = replica_set_health(rs)
        template_spec = _dict(rs, "spec", "template", "spec")
        view = ReplicaSetView(
            name=str(meta.get("name", "")),
            uid=str(meta.get("uid", "")),
            revision=_revision(rs),
            status=health,
            icon=_replica_set_icon(health),
            replicas=_int(_dict(rs, "status").get("replicas")),
            available=_int(_dict(rs, "status").get("availableReplicas")),
            age=age(meta, now),
            created=str(meta.get("creationTimestamp", "")),
            images=[str(c.get("image", "")) for c in template_spec.get("containers") or []],
            scale_down_delay=_scale_down_delay(rs, now),
        )
        pod_hash = _template_hash(rs)
        if isinstance(strategy.get("canary"), dict):
            if pod_hash and status.get("stableRS") == pod_hash:
                view.stable = True
            elif pod_hash and status.get("currentPodHash") == pod_hash:
                view.canary = True
        if isinstance(strategy.get("blueGreen"), dict):
            blue_green = _dict(status, "blueGreen")
            if pod_hash and status.get("stableRS") == pod_hash:
                view.stable = True
            if pod_hash and blue_green.get("activeSelector") == pod_hash:
                view.active = True
            elif pod_hash and blue_green.get("previewSelector") == pod_hash:
                view.preview = True
        views.append(view)
    views.sort(key=lambda v: (-v.revision, v.name))
    by_uid = {v.uid: v for v in views}
    for pod in pods:
        owner = _owned_by(pod, set(by_uid))
        if owner is None:
            continue
        pod_state, ready, restarts = pod_status(pod)
        meta = _meta(pod)
        by_uid[owner].pods.append(
            PodView(
                name=str(meta.get("name", "")),
                status=pod_state,
                icon=pod_icon(pod_state),
                ready=ready,
                restarts=restarts,
                age=age(meta, now),
                created=str(meta.get("creationTimestamp", "")),
            )
        )
    for view in views:
        view.pods.sort(key=lambda p: (p.created, p.name))
    return views


def analysis_run_views(rollout: Obj, runs: list[Obj], now: datetime) -> list[AnalysisRunView]:
    uid = str(_meta(rollout).get("uid", ""))
    views: list[AnalysisRunView] = []
    for run in runs:
        if _owned_by(run, {uid}) is None:
            continue
        meta = _meta(run)
        phase = str(_dict(run, "status").get("phase") or "")
        view = AnalysisRunView(
            name=str(meta.get("name", "")),
            revision=_revision(run),
            status=phase,
            icon=analysis_icon(phase),
            age=age(meta, now),
            created=str(meta.get("creationTimestamp", "")),
        )
        for result in _dict(run, "status").get("metricResults") or []:
            if not isinstance(result, dict):
                continue
            view.successful += _int(result.get("successful"))
            view.failed += _int(result.get("failed"))
            view.inconclusive += _int(result.get("inconclusive"))
            view.error += _int(result.get("error"))
            for measurement in result.get("measurements") or []:
                metadata = measurement.get("metadata") if isinstance(measurement, dict) else None
                if isinstance(metadata, dict) and metadata.get("job-name"):
                    measured = str(measurement.get("phase") or "")
                    started = parse_time(measurement.get("startedAt"))
                    view.jobs.append(
                        JobView(
                            name=str(metadata["job-name"]),
                            status=measured,
                            icon=analysis_icon(measured),
                            age=human_duration((now - started).total_seconds()) if started else "",
                        )
                    )
        views.append(view)
    # Newest revision first; within one revision, oldest first (Argo's order).
    views.sort(key=lambda v: (-v.revision, v.created, v.name))
    return views


def rollout_view(
    rollout: Obj,
    *,
    replica_sets: list[Obj],
    pods: list[Obj],
    analysis_runs: list[Obj],
    now: datetime,
    workload: Obj | None = None,
) -> RolloutView:
    meta = _meta(rollout)
    spec = _dict(rollout, "spec")
    status = _dict(rollout, "status")
    phase, message = rollout_phase(rollout)
    view = RolloutView(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        status=phase,
        message=message,
        icon=phase_icon(phase),
        strategy=strategy_name(rollout),
        age=age(meta, now),
        replica_sets=replica_set_views(rollout, replica_sets, pods, now),
        analysis_runs=analysis_run_views(rollout, analysis_runs, now),
        desired=_int(spec.get("replicas"), 1) if spec.get("replicas") is not None else 1,
        current=_int(status.get("replicas")),
        updated=_int(status.get("updatedReplicas")),
        ready=_int(status.get("readyReplicas")),
        available=_int(status.get("availableReplicas")),
    )
    _ = workload  # images come from ReplicaSets; the workload only matters for set image/undo
    steps = canary_steps(rollout)
    if steps is not None:
        if status.get("currentStepIndex") is not None and steps:
            view.step = f"{_int(status.get('currentStepIndex'))}/{len(steps)}"
        view.set_weight = str(current_set_weight(rollout))
        index = current_step_index(rollout)
        available = _int(status.get("availableReplicas"))
        if index is None or index >= len(steps):
            view.actual_weight = str(max_traffic_weight(rollout))
        elif available > 0:
            view.actual_weight = "0"
            if _dict(spec, "strategy", "canary").get("trafficRouting") is None:
                for rs in view.replica_sets:
                    if rs.canary:
                        view.actual_weight = str(rs.available * max_traffic_weight(rollout) // available)
            else:
                weights = _dict(status, "canary", "weights", "canary")
                view.actual_weight = str(_int(weights.get("weight"))) if weights else view.set_weight
        else:
            view.actual_weight = "0"
    return view


@dataclass(frozen=True)
class ListRow:
    """One line of `list rollouts` (Argo's columns)."""

    namespace: str
    name: str
    strategy: str
    status: str
    step: str
    set_weight: str
    ready: str
    desired: int
    up_to_date: int
    available: int


def list_row(rollout: Obj) -> ListRow:
    meta = _meta(rollout)
    spec = _dict(rollout, "spec")
    status = _dict(rollout, "status")
    steps = canary_steps(rollout)
    step, set_weight = "-", "-"
    if steps is not None:
        if status.get("currentStepIndex") is not None and steps:
            step = f"{_int(status.get('currentStepIndex'))}/{len(steps)}"
        set_weight = str(current_set_weight(rollout))
    return ListRow(
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        strategy=strategy_name(rollout),
        status=rollout_phase(rollout)[0],
        step=step,
        set_weight=set_weight,
        ready=f"{_int(status.get('readyReplicas'))}/{_int(status.get('replicas'))}",
        desired=_int(spec.get("replicas"), 1) if spec.get("replicas") is not None else 1,
        up_to_date=_int(status.get("updatedReplicas")),
        available=_int(status.get("availableReplicas")),
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
