"""The in-memory cluster decide() runs against, for the tests and for `rollouts plan`.

One simulator serves both, so what `rollouts plan` prints is exactly what the
controller does: it applies decide()'s actions the way the controller shell and
the API server would (create / scale / patch / delete ReplicaSets, patch
Service selectors, evict pods, create / terminate / delete AnalysisRuns, write
the status) and plays the ReplicaSet controller and the kubelet on demand:
`create_pods()` makes missing pods (not ready), `ready()` makes them ready,
`settle()` does both. The clock is explicit (`tick()`), nothing here performs
I/O, and the analysis controller is played by whoever drives it
(`finish_run()`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, assert_never

from rollouts.api.constants import MANAGED_BY_ROLLOUTS_ANNOTATION, POD_TEMPLATE_HASH_LABEL
from rollouts.api.timestamps import format_time as timestamp
from rollouts.rollout.actions import (
    Action,
    CreateAnalysisRun,
    CreateReplicaSet,
    DeleteAnalysisRun,
    DeletePod,
    DeleteReplicaSet,
    PatchPod,
    PatchReplicaSet,
    PatchRolloutMetadata,
    PatchServiceSelector,
    RecordEvent,
    RequeueAfter,
    ScaleDeployment,
    ScaleReplicaSet,
    TerminateAnalysisRun,
    UpdateStatus,
)
from rollouts.rollout.context import Observed, Plan
from rollouts.rollout.decide import decide

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
HASH_LABEL = POD_TEMPLATE_HASH_LABEL


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Apply a JSON merge patch in place (a None value removes the key)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            existing = target.get(key)
            if not isinstance(existing, dict):
                existing = target[key] = {}
            merge_patch(existing, value)
        else:
            target[key] = copy.deepcopy(value)


@dataclass
class SimulatedCluster:
    """One rollout's world: its ReplicaSets, pods, Services and AnalysisRuns, and a clock."""

    ro: dict[str, Any]
    now: datetime = START
    replicasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    never_ready: set[str] = field(default_factory=set)  # pod hashes whose pods never become ready
    history: list[Plan] = field(default_factory=list)
    evicted: list[str] = field(default_factory=list)
    observe_pods: bool = True
    analysis_runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    analysis_templates: dict[tuple[bool, str], dict[str, Any]] = field(default_factory=dict)
    workload: dict[str, Any] | None = None
    """The object spec.workloadRef names (a Deployment), when there is one; ScaleDeployment sets its replicas."""
    _serial: int = 0
    _last_created: datetime = START - timedelta(days=1)

    # ----------------------------------------------------------------- controller side

    def observed(self) -> Observed:
        return Observed(
            rollout=copy.deepcopy(self.ro),
            replicasets=copy.deepcopy(list(self.replicasets.values())),
            services=copy.deepcopy(self.services),
            pods=copy.deepcopy(list(self.pods.values())) if self.observe_pods else None,
            analysis_runs=copy.deepcopy(list(self.analysis_runs.values())),
            analysis_templates=copy.deepcopy(self.analysis_templates),
            workload=copy.deepcopy(self.workload),
        )

    def reconcile(self) -> Plan:
        plan = decide(self.observed(), self.now)
        self.history.append(plan)
        for action in plan.actions:
            self.apply(action)
        if plan.status != (self.ro.get("status") or {}):
            self.ro["status"] = copy.deepcopy(plan.status)
        return plan

    def _created_stamp(self) -> str:
        moment = max(self.now, self._last_created + timedelta(seconds=1))
        self._last_created = moment
        return timestamp(moment)

    def apply(self, action: Action) -> None:
        match action:
            case CreateReplicaSet():
                body = copy.deepcopy(action.body)
                name = body["metadata"]["name"]
                assert name not in self.replicasets, f"create of an existing ReplicaSet {name}"
                self._serial += 1
                body["metadata"]["uid"] = f"rs-uid-{self._serial}"
                body["metadata"]["creationTimestamp"] = self._created_stamp()
                body["status"] = {"replicas": 0}
                self.replicasets[name] = body
            case ScaleReplicaSet():
                rs = self.replicasets[action.name]
                rs["spec"]["replicas"] = action.replicas
                merge_patch(rs["metadata"].setdefault("annotations", {}), dict(action.annotations))
            case PatchReplicaSet():
                merge_patch(self.replicasets[action.name], action.patch)
            case DeleteReplicaSet():
                rs = self.replicasets.pop(action.name)
                assert rs["metadata"]["uid"] == action.uid
                for pod in self._pods_of(rs):
                    del self.pods[pod["metadata"]["name"]]
            case PatchServiceSelector():
                svc = self.services[action.service]
                assert svc is not None
                svc["spec"]["selector"][HASH_LABEL] = action.pod_hash
                annotations = svc["metadata"].setdefault("annotations", {})
                annotations[MANAGED_BY_ROLLOUTS_ANNOTATION] = self.ro["metadata"]["name"]
            case PatchRolloutMetadata():
                self.ro["metadata"].setdefault("annotations", {}).update(action.annotations)
            case DeletePod():
                assert self.pods[action.name]["metadata"]["uid"] == action.uid
                del self.pods[action.name]
                self.evicted.append(action.name)
            case PatchPod():
                merge_patch(self.pods[action.name], action.patch)
            case CreateAnalysisRun():
                body = copy.deepcopy(action.body)
                name = body["metadata"]["name"]
                assert name not in self.analysis_runs, f"create of an existing AnalysisRun {name}"
                body["metadata"]["creationTimestamp"] = self._created_stamp()
                body["metadata"]["uid"] = f"run-uid-{name}"
                self.analysis_runs[name] = body
            case TerminateAnalysisRun():
                self.analysis_runs[action.name].setdefault("spec", {})["terminate"] = True
            case DeleteAnalysisRun():
                assert self.analysis_runs.pop(action.name)["metadata"]["uid"] == action.uid
            case ScaleDeployment():
                if self.workload is not None:
                    self.workload.setdefault("spec", {})["replicas"] = action.replicas
            case RecordEvent() | UpdateStatus() | RequeueAfter():
                pass  # events are read from history; status and requeues travel in the Plan
            case _:
                assert_never(action)
        self._refresh_status()

    # ----------------------------------------------------------------- cluster side

    def _pods_of(self, rs: dict[str, Any]) -> list[dict[str, Any]]:
        uid = rs["metadata"]["uid"]
        return sorted(
            (p for p in self.pods.values() if p["metadata"]["ownerReferences"][0]["uid"] == uid),
            key=lambda p: p["metadata"]["name"],
        )

    def create_pods(self) -> None:
        """The ReplicaSet controller: create missing pods (not ready), delete extra ones (unready, newest first)."""
        for rs in self.replicasets.values():
            pods = self._pods_of(rs)
            wanted = rs["spec"]["replicas"]
            if len(pods) > wanted:
                doomed = sorted(pods, key=lambda p: (_ready(p), p["metadata"]["creationTimestamp"]), reverse=False)
                unready_first = [p for p in doomed if not _ready(p)] + sorted(
                    (p for p in doomed if _ready(p)), key=lambda p: p["metadata"]["creationTimestamp"], reverse=True
                )
                for pod in unready_first[: len(pods) - wanted]:
                    del self.pods[pod["metadata"]["name"]]
            for _ in range(wanted - len(pods)):
                self._serial += 1
                name = f"{rs['metadata']['name']}-p{self._serial}"
                template = copy.deepcopy(rs["spec"]["template"].get("metadata") or {})
                self.pods[name] = {
                    "metadata": {
                        "name": name,
                        "uid": f"pod-uid-{self._serial}",
                        "creationTimestamp": timestamp(self.now),
                        "labels": template.get("labels") or {},
                        "annotations": template.get("annotations") or {},
                        "ownerReferences": [{"kind": "ReplicaSet", "uid": rs["metadata"]["uid"], "controller": True}],
                    },
                    "status": {"conditions": [{"type": "Ready", "status": "False"}]},
                }
        self._refresh_status()

    def ready(self, limit: int | None = None) -> None:
        """The kubelet: up to `limit` pending pods (oldest first) become Ready."""
        done = 0
        by_age = sorted(self.pods.values(), key=lambda p: (p["metadata"]["creationTimestamp"], p["metadata"]["name"]))
        for pod in by_age:
            if _ready(pod) or pod["metadata"]["labels"].get(HASH_LABEL) in self.never_ready:
                continue
            if limit is not None and done >= limit:
                break
            pod["status"]["conditions"] = [
                {"type": "Ready", "status": "True", "lastTransitionTime": timestamp(self.now)}
            ]
            done += 1
        self._refresh_status()

    def settle(self) -> None:
        self.create_pods()
        self.ready()

    def _refresh_status(self) -> None:
        for rs in self.replicasets.values():
            pods = self._pods_of(rs)
            ready = sum(1 for p in pods if _ready(p))
            rs["status"] = {"replicas": len(pods), "readyReplicas": ready, "availableReplicas": ready}

    def run(self, rounds: int = 60) -> None:
        """Reconcile and settle until nothing changes (a requeue with a delay is not followed)."""
        for _ in range(rounds):
            before = self.snapshot()
            plan = self.reconcile()
            self.settle()
            if self.snapshot() == before and plan.requeue_after != 0:
                return
        raise AssertionError("the world did not settle")

    def snapshot(self) -> tuple[Any, ...]:
        return (
            copy.deepcopy(self.ro.get("status")),
            copy.deepcopy(self.ro["metadata"].get("annotations")),
            {n: copy.deepcopy(rs["spec"]) for n, rs in self.replicasets.items()},
            {n: copy.deepcopy(rs["metadata"].get("annotations")) for n, rs in self.replicasets.items()},
            {n: copy.deepcopy(rs.get("status")) for n, rs in self.replicasets.items()},
            sorted((name, _ready(pod)) for name, pod in self.pods.items()),
            copy.deepcopy(self.services),
        )

    def finish_run(self, name: str, phase: str, message: str = "") -> None:
        """The analysis controller: the run ends in `phase`."""
        self.analysis_runs[name]["status"] = {"phase": phase, **({"message": message} if message else {})}

    def service_hash(self, name: str) -> str:
        svc = self.services[name]
        assert svc is not None
        return str(svc["spec"]["selector"].get(HASH_LABEL, ""))

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    # ----------------------------------------------------------------- user side

    def set_image(self, image: str) -> None:
        self.ro["spec"]["template"]["spec"]["containers"][0]["image"] = image
        self.ro["metadata"]["generation"] += 1

    def set_spec(self, **changes: Any) -> None:
        self.ro["spec"].update(changes)
        self.ro["metadata"]["generation"] += 1

    def patch_status(self, **changes: Any) -> None:
        """What Argo's kubectl plugin does: a merge patch of the status (None removes)."""
        merge_patch(self.ro.setdefault("status", {}), changes)

    # ----------------------------------------------------------------- reading

    @property
    def status(self) -> dict[str, Any]:
        return self.ro.get("status") or {}

    def condition(self, kind: str) -> dict[str, Any] | None:
        return next((c for c in self.status.get("conditions") or [] if c["type"] == kind), None)

    def counts(self) -> dict[str, int]:
        """pod hash -> spec.replicas"""
        return {rs["metadata"]["labels"][HASH_LABEL]: rs["spec"]["replicas"] for rs in self.replicasets.values()}

    def ready_pods(self) -> dict[str, int]:
        """pod hash -> ready pods"""
        result: dict[str, int] = {}
        for pod in self.pods.values():
            if _ready(pod):
                key = pod["metadata"]["labels"][HASH_LABEL]
                result[key] = result.get(key, 0) + 1
        return result

    def total_ready(self) -> int:
        return sum(1 for p in self.pods.values() if _ready(p))

    def events(self, reason: str | None = None) -> list[str]:
        found = []
        for plan in self.history:
            for action in plan.actions:
                if isinstance(action, RecordEvent) and (reason is None or action.reason == reason):
                    found.append(f"{action.reason}: {action.message}")
        return found


def _ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])
