"""A tiny in-memory world for decide(): ReplicaSets that become ready on settle().

It applies decide()'s actions the way the controller shell and the cluster
would (create, scale, delete RS; patch selectors; write status), so unit
tests can drive a rollout through its life with a fake clock.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.rollout.actions import (
    CreateReplicaSet,
    DeleteReplicaSet,
    PatchReplicaSet,
    PatchRolloutMetadata,
    PatchServiceSelector,
    ScaleReplicaSet,
)
from rollouts.rollout.plan import Observed, Plan, decide

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def rollout(
    *, replicas: int = 5, steps: list[dict[str, Any]] | None = None, image: str = "app:v1", **canary: Any
) -> dict[str, Any]:
    strategy: dict[str, Any] = dict(canary)
    if steps is not None:
        strategy["steps"] = steps
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "app", "namespace": "ns", "uid": "uid-1", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            "strategy": {"canary": strategy},
        },
    }


@dataclass
class World:
    ro: dict[str, Any]
    now: datetime = START
    replicasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    never_ready: set[str] = field(default_factory=set)
    created: int = 0
    history: list[Plan] = field(default_factory=list)

    def reconcile(self) -> Plan:
        observed = Observed(
            rollout=copy.deepcopy(self.ro),
            replicasets=copy.deepcopy(list(self.replicasets.values())),
            services=copy.deepcopy(self.services),
        )
        plan = decide(observed, self.now)
        self.history.append(plan)
        for action in plan.actions:
            if isinstance(action, CreateReplicaSet):
                body = copy.deepcopy(action.body)
                self.created += 1
                body["metadata"]["uid"] = f"rs-{self.created}"
                body["metadata"]["creationTimestamp"] = f"2026-01-01T00:00:{self.created:02d}Z"
                body["status"] = {}
                self.replicasets[body["metadata"]["name"]] = body
            elif isinstance(action, ScaleReplicaSet):
                self.replicasets[action.name]["spec"]["replicas"] = action.replicas
            elif isinstance(action, PatchReplicaSet):
                pass
            elif isinstance(action, DeleteReplicaSet):
                self.replicasets.pop(action.name, None)
            elif isinstance(action, PatchServiceSelector):
                service = self.services[action.service]
                assert service is not None
                service["spec"]["selector"]["rollouts-pod-template-hash"] = action.pod_hash
            elif isinstance(action, PatchRolloutMetadata):
                self.ro["metadata"].setdefault("annotations", {}).update(action.annotations)
        self.ro["status"] = copy.deepcopy(plan.status)
        return plan

    def settle(self) -> None:
        """Pods catch up with spec.replicas (except never-ready RSs: pods exist, not available)."""
        for name, rs in self.replicasets.items():
            count = rs["spec"]["replicas"]
            ready = 0 if name in self.never_ready else count
            rs["status"] = {"replicas": count, "readyReplicas": ready, "availableReplicas": ready}

    def run(self, rounds: int = 30) -> None:
        """Reconcile and settle until nothing changes."""
        for _ in range(rounds):
            before = copy.deepcopy((self.ro.get("status"), self.replicasets))
            self.reconcile()
            self.settle()
            if before == (self.ro.get("status"), self.replicasets):
                return

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def set_image(self, image: str) -> None:
        self.ro["spec"]["template"]["spec"]["containers"][0]["image"] = image
        self.ro["metadata"]["generation"] += 1

    @property
    def status(self) -> dict[str, Any]:
        return self.ro.get("status") or {}

    def counts(self) -> dict[str, int]:
        """pod hash -> spec.replicas"""
        return {
            rs["metadata"]["labels"]["rollouts-pod-template-hash"]: rs["spec"]["replicas"]
            for rs in self.replicasets.values()
        }
