"""The ReplicaSet/pod tree of `get rollout`: each revision's ReplicaSet, its tags and its pods.

A ReplicaSet is tagged "stable"/"canary"/"active"/"preview" by comparing its
pod-template hash with the hashes the Rollout's status names (Argo's rule).
Pod STATUS/READY/RESTARTS copy kubectl's columns, so a pod reads the same here
as in `kubectl get pods`. Objects are plain dicts; a missing field never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rollouts.api.constants import POD_TEMPLATE_HASH_LABEL, SCALE_DOWN_DEADLINE_ANNOTATION
from rollouts.api.timestamps import parse_time
from rollouts.cli.icons import ICON_BAD, ICON_NEUTRAL, ICON_OK, ICON_PROGRESSING, ICON_UNKNOWN, ICON_WARNING
from rollouts.cli.objects import Obj, age, dict_at, human_duration, int_of, metadata, owner_in, revision_of

TAG_CANARY = "canary"
TAG_STABLE = "stable"
TAG_ACTIVE = "active"
TAG_PREVIEW = "preview"


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


def replica_set_health(rs: Obj) -> str:
    spec = dict_at(rs, "spec")
    status = dict_at(rs, "status")
    replicas = spec.get("replicas")
    if int_of(metadata(rs).get("generation")) <= int_of(status.get("observedGeneration")):
        for condition in status.get("conditions") or []:
            if (
                isinstance(condition, dict)
                and condition.get("type") == "ReplicaFailure"
                and condition.get("status") == "True"
            ):
                return "ReplicaFailure"
        if replicas is not None and int_of(status.get("availableReplicas")) < int_of(replicas):
            return "Progressing"
    else:
        return "Progressing"
    if replicas is not None and int_of(replicas) == 0:
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
    spec = dict_at(pod, "spec")
    status = dict_at(pod, "status")
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
        restarts += int_of(container.get("restartCount"))
        state = container.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if isinstance(terminated, dict) and int_of(terminated.get("exitCode")) == 0:
            continue
        if isinstance(terminated, dict):
            if terminated.get("reason"):
                reason = f"Init:{terminated['reason']}"
            elif int_of(terminated.get("signal")):
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
            restarts += int_of(container.get("restartCount"))
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if isinstance(waiting, dict) and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif isinstance(terminated, dict) and terminated.get("reason"):
                reason = str(terminated["reason"])
            elif isinstance(terminated, dict):
                if int_of(terminated.get("signal")):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{terminated.get('exitCode')}"
            elif container.get("ready") is True and isinstance(state.get("running"), dict):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running"
    if metadata(pod).get("deletionTimestamp"):
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


def _scale_down_delay(rs: Obj, now: datetime) -> str:
    deadline = parse_time((metadata(rs).get("annotations") or {}).get(SCALE_DOWN_DEADLINE_ANNOTATION))
    if deadline is None:
        return ""
    if deadline < now:
        return "passed"
    return human_duration((deadline - now).total_seconds())


def _template_hash(rs: Obj) -> str:
    labels = metadata(rs).get("labels") or {}
    return str(labels.get(POD_TEMPLATE_HASH_LABEL, ""))


def _tag(view: ReplicaSetView, *, rs: Obj, rollout: Obj) -> None:
    """Mark the view stable/canary/active/preview from the hashes the Rollout's status names."""
    status = dict_at(rollout, "status")
    strategy = dict_at(rollout, "spec", "strategy")
    pod_hash = _template_hash(rs)
    if isinstance(strategy.get("canary"), dict):
        if pod_hash and status.get("stableRS") == pod_hash:
            view.stable = True
        elif pod_hash and status.get("currentPodHash") == pod_hash:
            view.canary = True
    if isinstance(strategy.get("blueGreen"), dict):
        blue_green = dict_at(status, "blueGreen")
        if pod_hash and status.get("stableRS") == pod_hash:
            view.stable = True
        if pod_hash and blue_green.get("activeSelector") == pod_hash:
            view.active = True
        elif pod_hash and blue_green.get("previewSelector") == pod_hash:
            view.preview = True


def _pod_view(pod: Obj, now: datetime) -> PodView:
    pod_state, ready, restarts = pod_status(pod)
    meta = metadata(pod)
    return PodView(
        name=str(meta.get("name", "")),
        status=pod_state,
        icon=pod_icon(pod_state),
        ready=ready,
        restarts=restarts,
        age=age(meta, now),
        created=str(meta.get("creationTimestamp", "")),
    )


def replica_set_views(rollout: Obj, *, replica_sets: list[Obj], pods: list[Obj], now: datetime) -> list[ReplicaSetView]:
    """The rollout's ReplicaSets (newest revision first), tagged, each with its pods (oldest first)."""
    uid = str(metadata(rollout).get("uid", ""))
    views: list[ReplicaSetView] = []
    for rs in replica_sets:
        if owner_in(rs, {uid}) is None:
            continue
        meta = metadata(rs)
        health = replica_set_health(rs)
        template_spec = dict_at(rs, "spec", "template", "spec")
        view = ReplicaSetView(
            name=str(meta.get("name", "")),
            uid=str(meta.get("uid", "")),
            revision=revision_of(rs),
            status=health,
            icon=_replica_set_icon(health),
            replicas=int_of(dict_at(rs, "status").get("replicas")),
            available=int_of(dict_at(rs, "status").get("availableReplicas")),
            age=age(meta, now),
            created=str(meta.get("creationTimestamp", "")),
            images=[str(c.get("image", "")) for c in template_spec.get("containers") or []],
            scale_down_delay=_scale_down_delay(rs, now),
        )
        _tag(view, rs=rs, rollout=rollout)
        views.append(view)
    views.sort(key=lambda v: (-v.revision, v.name))
    by_uid = {v.uid: v for v in views}
    for pod in pods:
        owner = owner_in(pod, set(by_uid))
        if owner is not None:
            by_uid[owner].pods.append(_pod_view(pod, now))
    for view in views:
        view.pods.sort(key=lambda p: (p.created, p.name))
    return views
