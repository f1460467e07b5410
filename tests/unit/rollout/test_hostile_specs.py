"""The hostile values an adversarial review found, one by one: each gets InvalidSpec naming the field, or is
read as absent, and never makes decide() raise (issue #13). test_fuzz_decide.py looks for more."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.api.constants import CONDITION_INVALID_SPEC, REVISION_ANNOTATION
from rollouts.rollout.context import Observed
from rollouts.rollout.decide import decide
from tests.unit.rollout.sim import START, World, rollout


def invalid_message(world: World) -> str | None:
    world.reconcile()
    condition = world.condition(CONDITION_INVALID_SPEC)
    return None if condition is None else str(condition["message"])


def invalid_spec(status: Any) -> str | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == CONDITION_INVALID_SPEC:
            return str(condition.get("message"))
    return None


def deep(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"replicas": 10**30}, "spec.replicas: Input should be less than or equal to 2147483647"),
        ({"progressDeadlineSeconds": 2**63}, "spec.progressDeadlineSeconds: Input should be less than"),
        ({"minReadySeconds": -(2**40)}, "spec.minReadySeconds: Input should be greater than"),
        ({"revisionHistoryLimit": 2**31}, "spec.revisionHistoryLimit"),
    ],
)
def test_out_of_range_integers_are_invalid_spec_naming_the_field(spec: dict[str, Any], field: str) -> None:
    message = invalid_message(World(rollout(replicas=None, steps=[{"setWeight": 50}], spec=spec)))
    assert message is not None and field in message


@pytest.mark.parametrize(
    ("canary", "field"),
    [
        ({"maxSurge": "1" * 5000 + "%"}, "spec.strategy.canary.maxSurge"),
        ({"maxUnavailable": 2**40}, "spec.strategy.canary.maxUnavailable"),
        ({"steps": [{"pause": {"duration": "999999999h"}}]}, "spec.strategy.canary.steps[0].pause.duration"),
        ({"steps": [{"pause": {"duration": "9" * 400 + "h"}}]}, "spec.strategy.canary.steps[0].pause.duration"),
        ({"steps": [{"setWeight": 10**30}]}, "spec.strategy.canary.steps[0].setWeight"),
    ],
)
def test_hostile_canary_values_are_invalid_spec_naming_the_field(canary: dict[str, Any], field: str) -> None:
    message = invalid_message(World(rollout(**canary)))
    assert message is not None and field in message
    assert len(message) < 400  # the value is not echoed in full


def test_a_long_percentage_does_not_end_up_in_the_message_whole() -> None:
    message = invalid_message(World(rollout(maxSurge="1" * 5000 + "%")))
    assert message is not None and "1" * 100 not in message


def test_deep_nesting_in_a_free_form_field_is_invalid_spec_naming_it() -> None:
    body = rollout(steps=[{"setWeight": 50}])
    body["spec"]["template"]["spec"]["affinity"] = deep(10_000)
    plan = decide(Observed(rollout=body, replicasets=[]), START)  # built without a deep copy
    assert plan.actions and all(action.__class__.__name__ == "RecordEvent" for action in plan.actions)
    message = invalid_spec(plan.status)
    assert message is not None and "spec.template.spec.affinity" in message and "nested more than" in message


def test_deep_nesting_in_the_status_is_dropped_like_any_malformed_field() -> None:
    world = World(rollout(steps=[{"setWeight": 50}]))
    world.run()
    observed = world.observed()
    observed.rollout["status"]["unknown"] = deep(5_000)
    plan = decide(observed, world.now)
    assert "unknown" not in plan.status
    assert invalid_spec(plan.status) is None


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-13-45T99:00:00Z", "x"])
def test_malformed_or_extreme_timestamps_in_status_read_as_absent(stamp: str) -> None:
    world = World(rollout(steps=[{"setWeight": 50}, {"pause": {"duration": "30s"}}]))
    world.run()
    world.set_image("app:v2")
    world.reconcile()
    status = world.ro["status"]
    for condition in status.get("conditions", []):
        condition["lastUpdateTime"] = condition["lastTransitionTime"] = stamp
    for pause in status.get("pauseConditions", []):
        pause["startTime"] = stamp
    status["abortedAt"] = stamp
    world.run()  # no exception, and the rollout carries on
    assert world.condition(CONDITION_INVALID_SPEC) is None


def test_a_replicaset_revision_of_thousands_of_digits_reads_as_no_revision() -> None:
    world = World(rollout(steps=[{"setWeight": 50}]))
    world.run()
    for rs in world.replicasets.values():
        rs["metadata"]["annotations"][REVISION_ANNOTATION] = "9" * 5000
    world.set_image("app:v2")
    world.run()
    revisions = {rs["metadata"]["annotations"][REVISION_ANNOTATION] for rs in world.replicasets.values()}
    assert "1" in revisions  # the garbled revision counts as none: the new ReplicaSet is revision 1
    assert world.condition(CONDITION_INVALID_SPEC) is None


@pytest.mark.parametrize("count", [10**30, -5, "7", None, [1]])
def test_foreign_replicaset_counts_read_as_zero(count: Any) -> None:
    world = World(rollout(steps=[{"setWeight": 50}]))
    world.run()
    for rs in world.replicasets.values():
        rs["status"]["readyReplicas"] = count
        rs["status"]["availableReplicas"] = count
    plan = decide(world.observed(), world.now)
    assert plan.status.get("availableReplicas", 0) == 0


@pytest.mark.parametrize("value", [10**30, -1, -5])
@pytest.mark.parametrize("key", ["currentStepIndex", "collisionCount", "replicas", "HPAReplicas"])
def test_status_integers_negative_or_beyond_int32_read_as_absent(key: str, value: int) -> None:
    world = World(rollout(steps=[{"setWeight": 50}, {"pause": {}}, {"setWeight": 80}, {"pause": {}}]))
    world.run()
    world.set_image("app:v2")
    observed = world.observed()
    observed.rollout["status"][key] = value
    plan = decide(observed, world.now)
    assert invalid_spec(plan.status) is None
    assert plan.status.get(key) != value
