"""decide() transitions with a fake clock, and hypothesis properties of the invariants."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rollouts.api.common import scaled_value
from rollouts.rollout.actions import CreateReplicaSet, PatchServiceSelector, RecordEvent, ScaleReplicaSet
from rollouts.rollout.plan import Observed, decide
from tests.unit.rollout.sim import START, World, rollout

STEPS: list[dict[str, Any]] = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "30s"}}]


def deployed(**kwargs: Any) -> World:
    world = World(ro=rollout(**kwargs))
    world.run()
    assert world.status["phase"] == "Healthy"
    return world


def test_initial_deploy_is_stable_at_once_and_skips_steps() -> None:
    world = World(ro=rollout(steps=STEPS))
    plan = world.reconcile()
    creates = [a for a in plan.actions if isinstance(a, CreateReplicaSet)]
    assert len(creates) == 1
    body = creates[0].body
    pod_hash = world.status["currentPodHash"]
    assert body["metadata"]["name"] == f"app-{pod_hash}"
    assert body["spec"]["replicas"] == 5
    assert body["spec"]["selector"]["matchLabels"]["rollouts-pod-template-hash"] == pod_hash
    assert body["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"] == pod_hash
    assert body["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert body["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "1"
    assert world.status["stableRS"] == pod_hash
    assert world.status["currentStepIndex"] == 4
    assert world.status["phase"] == "Progressing"
    world.run()
    assert world.status["phase"] == "Healthy"
    assert world.status["observedGeneration"] == "1"
    assert world.status["selector"] == "app=app"


def test_canary_walks_the_steps_with_promote_and_timed_pause() -> None:
    world = deployed(steps=STEPS)
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    world.run()
    canary = world.status["currentPodHash"]
    assert world.counts() == {stable: 4, canary: 1}
    assert world.status["phase"] == "Paused"
    assert world.status["message"] == "CanaryPauseStep"
    assert world.status["currentStepIndex"] == 1
    assert world.status["pauseConditions"][0]["reason"] == "CanaryPauseStep"
    assert world.status["controllerPause"] is True
    world.run()
    assert world.status["currentStepIndex"] == 1, "an indefinite pause waits"

    world.ro["status"]["pauseConditions"] = None  # promote
    world.run()
    assert world.status["currentStepIndex"] == 3
    assert world.counts() == {stable: 2, canary: 3}
    plan = world.reconcile()
    assert plan.requeue_after is not None and 29 <= plan.requeue_after <= 30, "requeue at the pause's end"
    world.tick(29)
    world.run()
    assert world.status["currentStepIndex"] == 3
    world.tick(1)
    world.run()
    assert world.status["phase"] == "Healthy"
    assert world.status["stableRS"] == canary
    assert world.counts() == {stable: 0, canary: 5}


def test_abort_goes_back_to_stable_and_retry_restarts_steps() -> None:
    world = deployed(steps=STEPS)
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    world.run()
    canary = world.status["currentPodHash"]
    world.ro["status"]["abort"] = True
    world.run()
    assert world.counts() == {stable: 5, canary: 0}
    assert world.status["phase"] == "Degraded"
    assert world.status["message"] == "RolloutAborted: Rollout aborted update to revision 2"
    assert world.status["abortedAt"] == "2026-01-01T12:00:00Z"
    assert world.status["currentStepIndex"] == 0
    assert world.status["stableRS"] == stable
    world.ro["status"]["abort"] = False
    world.run()
    assert world.status["phase"] == "Paused" and world.status["currentStepIndex"] == 1
    assert world.counts() == {stable: 4, canary: 1}


def test_full_promotion() -> None:
    world = deployed(steps=STEPS)
    world.set_image("app:v2")
    world.run()
    world.ro["status"]["promoteFull"] = True
    world.run()
    assert world.status["phase"] == "Healthy"
    assert "promoteFull" not in world.status
    assert world.status["stableRS"] == world.status["currentPodHash"]


def test_fast_rollback_to_the_stable_template() -> None:
    world = deployed(steps=STEPS)
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    world.run()
    world.set_image("app:v1")
    plan = world.reconcile()
    assert any(isinstance(a, RecordEvent) and a.reason == "SkipSteps" for a in plan.actions)
    world.settle()
    world.run()
    assert world.status["phase"] == "Healthy"
    assert world.status["currentPodHash"] == stable
    assert world.status["currentStepIndex"] == 4


def test_manual_pause_holds_the_steps() -> None:
    world = deployed(steps=[{"setWeight": 20}, {"setWeight": 40}])
    world.ro["spec"]["paused"] = True
    world.set_image("app:v2")
    world.run()
    assert world.status["phase"] == "Paused"
    assert world.status["message"] == "manually paused"
    assert world.status["currentStepIndex"] == 0


def test_progress_deadline_exceeded_then_abort() -> None:
    world = World(ro=rollout(steps=STEPS))
    world.ro["spec"]["progressDeadlineSeconds"] = 60
    world.ro["spec"]["progressDeadlineAbort"] = True
    world.run()
    world.set_image("app:v2")
    world.reconcile()
    canary_rs = next(
        n
        for n, rs in world.replicasets.items()
        if rs["metadata"]["labels"]["rollouts-pod-template-hash"] == world.status["currentPodHash"]
    )
    world.never_ready.add(canary_rs)
    world.settle()
    world.run()
    assert world.status["phase"] == "Progressing"
    world.tick(61)
    world.run()
    assert world.status["abort"] is True
    assert world.status["phase"] == "Degraded"
    progressing = next(c for c in world.status["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] in ("ProgressDeadlineExceeded", "RolloutAborted")


def test_invalid_spec_touches_nothing() -> None:
    bad = rollout(steps=[{"setWeight": 20, "pause": {}}])
    plan = decide(Observed(rollout=bad, replicasets=[]), START)
    assert not [a for a in plan.actions if not isinstance(a, RecordEvent)]
    assert plan.status["phase"] == "Degraded"
    assert plan.status["message"].startswith("InvalidSpec: spec.strategy.canary.steps[0]")


def test_services_follow_new_and_stable() -> None:
    world = World(ro=rollout(steps=STEPS, canaryService="c", stableService="s"))
    world.services = {name: {"spec": {"selector": {"app": "app"}}} for name in ("c", "s")}
    world.run()
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    world.run()
    canary = world.status["currentPodHash"]
    selectors = {n: s["spec"]["selector"]["rollouts-pod-template-hash"] for n, s in world.services.items() if s}
    assert selectors == {"c": canary, "s": stable}


def test_missing_service_is_a_clear_condition() -> None:
    world = World(ro=rollout(steps=STEPS, canaryService="nope"))
    world.services = {"nope": None}
    plan = world.reconcile()
    assert plan.status["phase"] == "Degraded"
    assert "service 'nope' not found" in plan.status["message"]
    assert not [a for a in plan.actions if isinstance(a, CreateReplicaSet | ScaleReplicaSet | PatchServiceSelector)]


def test_revision_history_limit_deletes_only_idle_old_replicasets() -> None:
    world = deployed(steps=None)
    world.ro["spec"]["revisionHistoryLimit"] = 1
    for version in range(2, 6):
        world.set_image(f"app:v{version}")
        world.run()
    assert len(world.replicasets) == 2, "the current RS and one idle old one"


# ------------------------------------------------------------------ properties


def run_update_checking_invariants(
    replicas: int, surge: str, unavailable: str, steps: list[dict[str, Any]], abort_at: int | None
) -> World:
    world = World(ro=rollout(replicas=replicas, steps=steps, maxSurge=surge, maxUnavailable=unavailable))
    world.run()
    max_surge = scaled_value(surge, replicas, round_up=True)
    max_unavailable = scaled_value(unavailable, replicas, round_up=False)
    world.set_image("app:v2")
    for round_number in range(400):
        if world.status.get("phase") == "Healthy" and world.status.get("stableRS") == world.status.get(
            "currentPodHash"
        ):
            break
        if abort_at is not None and round_number == abort_at:
            world.ro["status"]["abort"] = True
        world.reconcile()
        total = sum(rs["spec"]["replicas"] for rs in world.replicasets.values())
        assert total <= replicas + max_surge, f"surge exceeded: {total}"
        world.settle()
        available = sum(rs["status"]["availableReplicas"] for rs in world.replicasets.values())
        assert available >= replicas - max_unavailable, f"availability dropped: {available}"
        if world.status.get("pauseConditions"):
            world.ro["status"]["pauseConditions"] = None
    return world


weights = st.lists(st.integers(min_value=0, max_value=100), min_size=0, max_size=4)
percents = st.sampled_from(["0%", "10%", "25%", "50%", "100%", "0", "1", "2"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replicas=st.integers(min_value=1, max_value=12), surge=percents, unavailable=percents, weights=weights)
def test_invariants_hold_during_an_update(replicas: int, surge: str, unavailable: str, weights: list[int]) -> None:
    both_zero = (
        scaled_value(surge, replicas, round_up=True) == 0 and scaled_value(unavailable, replicas, round_up=False) == 0
    )
    assume(not both_zero)  # rejected by validation, as in Argo
    steps = [step for w in weights for step in ({"setWeight": w}, {"pause": {}})]
    world = run_update_checking_invariants(replicas, surge, unavailable, steps, abort_at=None)
    assert world.status["phase"] == "Healthy"
    assert world.counts()[world.status["currentPodHash"]] == replicas


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(min_value=1, max_value=10),
    weights=st.lists(st.integers(1, 100), min_size=1, max_size=3),
    abort_at=st.integers(1, 6),
)
def test_aborted_rollout_ends_on_the_stable_revision(replicas: int, weights: list[int], abort_at: int) -> None:
    world = World(ro=rollout(replicas=replicas, steps=[s for w in weights for s in ({"setWeight": w}, {"pause": {}})]))
    world.run()
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    for _ in range(abort_at):
        world.reconcile()
        world.settle()
    if world.status.get("stableRS") != stable:
        return  # finished before the abort: nothing to abort
    world.ro["status"]["abort"] = True
    world.run()
    counts = world.counts()
    assert counts[stable] == replicas
    assert sum(counts.values()) == replicas, counts


@settings(max_examples=30, deadline=None)
@given(replicas=st.integers(min_value=1, max_value=10), weight=st.integers(0, 100), rounds=st.integers(0, 5))
def test_decide_is_deterministic(replicas: int, weight: int, rounds: int) -> None:
    world = World(ro=rollout(replicas=replicas, steps=[{"setWeight": weight}, {"pause": {}}]))
    world.run()
    world.set_image("app:v2")
    for _ in range(rounds):
        world.reconcile()
        world.settle()
    observed = Observed(rollout=copy.deepcopy(world.ro), replicasets=copy.deepcopy(list(world.replicasets.values())))
    first = decide(observed, world.now)
    second = decide(copy.deepcopy(observed), world.now)
    assert first.actions == second.actions
    assert first.status == second.status
