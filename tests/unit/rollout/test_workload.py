"""workloadRef: resolution of the referenced template, and scaleDown of the Deployment, without a cluster.

The migration tests run the simulator with a Deployment beside it whose pods
vanish the moment it is scaled down (the worst case for availability) while
the Rollout's pods become ready a few at a time.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.api.constants import WORKLOAD_GENERATION_ANNOTATION
from rollouts.rollout.actions import CreateReplicaSet, PatchRolloutMetadata, ScaleDeployment
from rollouts.rollout.context import Observed, Plan
from rollouts.rollout.decide import decide
from rollouts.rollout.workload import (
    deployment_replicas_target,
    object_key,
    progressive_deployment_replicas,
    referenced_keys,
    resolve,
)
from tests.unit.rollout.sim import START, World


def deployment(*, replicas: int = 4, image: str = "app:v1", generation: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app-deploy", "namespace": "ns", "generation": generation},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"creationTimestamp": None, "labels": {"app": "app"}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
    }


def ref_rollout(*, replicas: int | None = 4, scale_down: str | None = None, kind: str = "Deployment") -> dict[str, Any]:
    ref: dict[str, Any] = {"apiVersion": "apps/v1", "kind": kind, "name": "app-deploy"}
    if scale_down:
        ref["scaleDown"] = scale_down
    body: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "app", "namespace": "ns", "uid": "uid-1", "generation": 1},
        "spec": {"workloadRef": ref, "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}},
    }
    if replicas is not None:
        body["spec"]["replicas"] = replicas
    return body


# ---------------------------------------------------------------------------- resolve


def test_resolve_takes_template_and_selector_without_touching_the_rollout() -> None:
    rollout = ref_rollout()
    before = copy.deepcopy(rollout)
    resolution = resolve(rollout, deployment(generation=3))
    assert rollout == before, "the stored Rollout is never changed"
    spec = resolution.rollout["spec"]
    assert "workloadRef" not in spec
    assert spec["template"] == {
        "metadata": {"labels": {"app": "app"}},
        "spec": {"containers": [{"name": "c", "image": "app:v1"}]},
    }
    assert spec["selector"] == {"matchLabels": {"app": "app"}}
    assert resolution.generation == "3"
    assert resolution.rollout["metadata"]["annotations"][WORKLOAD_GENERATION_ANNOTATION] == "3"


def test_resolve_keeps_the_rollouts_own_selector() -> None:
    rollout = ref_rollout()
    rollout["spec"]["selector"] = {"matchLabels": {"app": "app", "tier": "web"}}
    assert resolve(rollout, deployment()).rollout["spec"]["selector"] == {"matchLabels": {"app": "app", "tier": "web"}}


def test_resolve_pod_template_kind() -> None:
    rollout = ref_rollout()
    rollout["spec"]["workloadRef"] = {"apiVersion": "v1", "kind": "PodTemplate", "name": "tpl"}
    template = {"metadata": {"labels": {"app": "app"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    resolution = resolve(rollout, {"kind": "PodTemplate", "metadata": {"name": "tpl"}, "template": template})
    assert resolution.rollout["spec"]["template"] == template
    assert "selector" not in resolution.rollout["spec"]


def test_resolve_errors_name_the_reference() -> None:
    assert resolve(ref_rollout(), None).error == (
        'spec.workloadRef: Invalid value: "app-deploy": deployments.apps "app-deploy" not found'
    )
    unsupported = ref_rollout(kind="StatefulSet")
    assert "workload of type apps/StatefulSet is not supported" in resolve(unsupported, None).error
    both = ref_rollout()
    both["spec"]["template"] = deployment()["spec"]["template"]
    assert resolve(both, deployment()).error == "spec.template: template must be empty for workload reference rollout"


# ---------------------------------------------------------------------------- scaleDown math


def test_progressive_keeps_what_the_rollout_cannot_serve_yet() -> None:
    target = progressive_deployment_replicas
    assert (
        target(
            rollout_replicas=4, rollout_available=0, healthy=False, new_rs_replicas_before=0, new_rs_replicas_after=4
        )
        is None
    )
    assert (
        target(
            rollout_replicas=4, rollout_available=1, healthy=False, new_rs_replicas_before=4, new_rs_replicas_after=4
        )
        == 3
    )
    assert (
        target(
            rollout_replicas=4, rollout_available=4, healthy=False, new_rs_replicas_before=4, new_rs_replicas_after=4
        )
        == 0
    )
    assert (
        target(
            rollout_replicas=4, rollout_available=6, healthy=False, new_rs_replicas_before=6, new_rs_replicas_after=6
        )
        == 0
    )
    assert (
        target(rollout_replicas=4, rollout_available=2, healthy=True, new_rs_replicas_before=4, new_rs_replicas_after=4)
        == 0
    )
    # The new ReplicaSet shrinking hands pods back to the Deployment even before any is available.
    assert (
        target(
            rollout_replicas=4, rollout_available=0, healthy=False, new_rs_replicas_before=4, new_rs_replicas_after=0
        )
        == 4
    )


def test_scale_down_modes_only_on_the_first_revision() -> None:
    common: dict[str, Any] = {
        "rollout_replicas": 4,
        "rollout_available": 2,
        "new_rs_replicas_before": 4,
        "new_rs_replicas_after": 4,
    }
    target = deployment_replicas_target
    assert target(scale_down="never", revision=1, healthy=True, **common) is None
    assert target(scale_down=None, revision=1, healthy=True, **common) is None
    assert target(scale_down="onsuccess", revision=1, healthy=False, **common) is None
    assert target(scale_down="onsuccess", revision=1, healthy=True, **common) == 0
    assert target(scale_down="progressively", revision=1, healthy=False, **common) == 2
    assert target(scale_down="progressively", revision=2, healthy=True, **common) is None
    assert target(scale_down="onsuccess", revision=2, healthy=True, **common) is None
    assert target(scale_down="progressively", revision=1, healthy=False, **{**common, "rollout_replicas": None}) is None


# ---------------------------------------------------------------------------- decide with a workloadRef


def test_missing_workload_is_invalid_spec_and_touches_nothing() -> None:
    plan = decide(Observed(rollout=ref_rollout(), replicasets=[], workload=None), START)
    assert [type(a).__name__ for a in plan.actions] == ["RecordEvent"]
    condition = next(c for c in plan.status["conditions"] if c["type"] == "InvalidSpec")
    assert 'deployments.apps "app-deploy" not found' in condition["message"]
    assert plan.status["phase"] == "Degraded"


def test_first_reconcile_creates_the_replicaset_from_the_deployment_template() -> None:
    plan = decide(Observed(rollout=ref_rollout(), replicasets=[], workload=deployment()), START)
    created = next(a for a in plan.actions if isinstance(a, CreateReplicaSet))
    assert created.body["spec"]["template"]["spec"]["containers"][0]["image"] == "app:v1"
    assert created.body["spec"]["selector"]["matchLabels"]["app"] == "app"
    assert PatchRolloutMetadata(annotations={WORKLOAD_GENERATION_ANNOTATION: "1"}) in plan.actions


@dataclass
class Migration:
    """The simulator plus a Deployment whose ready pods follow its spec.replicas down at once."""

    world: World
    deploy: dict[str, Any]
    deploy_ready: int
    lowest: int = 1_000_000
    history: list[Plan] = field(default_factory=list)

    @classmethod
    def start(cls, *, replicas: int, scale_down: str) -> Migration:
        deploy = deployment(replicas=replicas)
        return cls(
            world=World(ro=ref_rollout(replicas=replicas, scale_down=scale_down)), deploy=deploy, deploy_ready=replicas
        )

    def reconcile(self) -> Plan:
        world = self.world
        plan = decide(replace(world.observed(), workload=copy.deepcopy(self.deploy)), world.now)
        for action in plan.actions:
            if isinstance(action, ScaleDeployment):
                self.deploy["spec"]["replicas"] = action.replicas
                self.deploy_ready = min(self.deploy_ready, action.replicas)
            else:
                world.apply(action)
        if plan.status != (world.ro.get("status") or {}):
            world.ro["status"] = copy.deepcopy(plan.status)
        self.history.append(plan)
        self.observe()
        return plan

    def observe(self) -> None:
        self.lowest = min(self.lowest, self.deploy_ready + self.world.total_ready())

    def step(self, ready: int) -> None:
        self.reconcile()
        self.world.create_pods()
        self.world.ready(limit=ready)
        self.observe()


def test_progressive_migration_keeps_every_pod_needed_and_ends_at_zero() -> None:
    migration = Migration.start(replicas=4, scale_down="progressively")
    for _ in range(40):
        migration.step(ready=1)
    assert migration.world.status.get("phase") == "Healthy"
    assert migration.deploy["spec"]["replicas"] == 0
    assert migration.lowest >= 4
    assert migration.world.status["workloadObservedGeneration"] == "1"


def test_onsuccess_scales_the_deployment_only_when_healthy() -> None:
    migration = Migration.start(replicas=3, scale_down="onsuccess")
    seen_before_healthy = []
    for _ in range(30):
        migration.step(ready=1)
        if migration.world.status.get("phase") != "Healthy":
            seen_before_healthy.append(migration.deploy["spec"]["replicas"])
    assert set(seen_before_healthy) == {3}
    assert migration.deploy["spec"]["replicas"] == 0


def test_never_leaves_the_deployment() -> None:
    migration = Migration.start(replicas=3, scale_down="never")
    for _ in range(30):
        migration.step(ready=2)
    assert migration.world.status.get("phase") == "Healthy"
    assert migration.deploy["spec"]["replicas"] == 3


def test_a_new_deployment_template_is_a_new_revision() -> None:
    migration = Migration.start(replicas=2, scale_down="never")
    for _ in range(20):
        migration.step(ready=2)
    first = migration.world.status["stableRS"]
    migration.deploy = deployment(replicas=2, image="app:v2", generation=2)
    migration.step(ready=2)
    migration.step(ready=2)
    assert migration.world.status["currentPodHash"] != first
    assert migration.world.ro["metadata"]["annotations"][WORKLOAD_GENERATION_ANNOTATION] == "2"
    assert migration.world.ro["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    assert migration.world.status["workloadObservedGeneration"] == "2"


@settings(max_examples=60, deadline=None)
@given(
    replicas=st.integers(min_value=1, max_value=8), pace=st.lists(st.integers(min_value=0, max_value=3), max_size=40)
)
def test_progressive_migration_never_drops_below_the_deployments_replicas(replicas: int, pace: list[int]) -> None:
    migration = Migration.start(replicas=replicas, scale_down="progressively")
    for ready in pace:
        migration.step(ready=ready)
    for _ in range(3 * replicas + 10):
        migration.step(ready=1)
    assert migration.lowest >= replicas
    assert migration.deploy["spec"]["replicas"] == 0


def test_index_keys_match_the_referenced_object() -> None:
    rollout = ref_rollout()
    assert referenced_keys(rollout) == [object_key(deployment())] == ["Deployment/ns/app-deploy"]
    assert referenced_keys(ref_rollout(kind="StatefulSet")) == []
    assert referenced_keys({"metadata": {"name": "x"}, "spec": {}}) == []
