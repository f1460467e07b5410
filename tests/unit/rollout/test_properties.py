"""Hypothesis properties of decide(): the invariants of DESIGN.md §3 under any interleaving.

An update from a healthy revision runs through a random schedule of
controller reconciles, pod creations, partial readiness, clock ticks, promotes
and (sometimes) an abort. After every single event: available pods never drop
below replicas - maxUnavailable, and neither the ReplicaSets' desired pods nor
the pods that exist exceed replicas + maxSurge. At the end the rollout is on
the new revision (or, after an abort, entirely on the stable one).
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rollouts.rollout.canary_math import resolve_fenceposts
from rollouts.rollout.decide import decide
from tests.unit.rollout.sim import World, rollout

BOUNDS = st.sampled_from(["0%", "10%", "25%", "50%", "100%", 0, 1, 2, 3])
EVENTS = st.lists(
    st.one_of(
        st.just(("reconcile", 0)),
        st.just(("create_pods", 0)),
        st.tuples(st.just("ready"), st.integers(1, 3)),
        st.tuples(st.just("tick"), st.integers(1, 40)),
        st.just(("promote", 0)),
    ),
    min_size=10,
    max_size=120,
)


def steps_for(weights: list[int], timed: bool) -> list[dict[str, Any]]:
    pause: dict[str, Any] = {"duration": "20s"} if timed else {}
    return [step for weight in weights for step in ({"setWeight": weight}, {"pause": dict(pause)})]


class Checked:
    def __init__(self, world: World, replicas: int, surge: int, unavailable: int) -> None:
        self.world, self.replicas, self.surge, self.unavailable = world, replicas, surge, unavailable

    def check(self) -> None:
        world = self.world
        desired = sum(rs["spec"]["replicas"] for rs in world.replicasets.values())
        assert desired <= self.replicas + self.surge, f"ReplicaSets ask for {desired} pods: {world.counts()}"
        assert len(world.pods) <= self.replicas + self.surge, f"{len(world.pods)} pods exist: {world.counts()}"
        assert world.total_ready() >= self.replicas - self.unavailable, (
            f"only {world.total_ready()} available: {world.ready_pods()} (spec {world.counts()})"
        )

    def play(self, events: list[tuple[str, int]], *, abort_at: int | None = None) -> None:
        world = self.world
        for number, (kind, amount) in enumerate(events):
            if abort_at is not None and number == abort_at:
                world.patch_status(abort=True)
            if kind == "reconcile":
                world.reconcile()
            elif kind == "create_pods":
                world.create_pods()
            elif kind == "ready":
                world.ready(limit=amount)
            elif kind == "tick":
                world.tick(amount)
            elif kind == "promote" and world.status.get("pauseConditions"):
                world.patch_status(pauseConditions=None)
            self.check()

    def finish(self) -> None:
        """Let everything happen, promoting every pause, checking after each event."""
        world = self.world
        for _ in range(300):
            if world.status.get("pauseConditions") and not world.status.get("abort"):
                world.patch_status(pauseConditions=None)
            before = world.snapshot()
            plan = world.reconcile()
            self.check()
            world.create_pods()
            self.check()
            world.ready()
            self.check()
            if plan.requeue_after:
                world.tick(min(plan.requeue_after, 30))
            if world.snapshot() == before and not world.status.get("pauseConditions"):
                return
        raise AssertionError(f"never settled: {world.status}")


def healthy_world(replicas: int, surge: int | str, unavailable: int | str, steps: list[dict[str, Any]]) -> Checked:
    max_surge, max_unavailable = resolve_fenceposts(max_surge=surge, max_unavailable=unavailable, replicas=replicas)
    world = World(ro=rollout(replicas=replicas, steps=steps, maxSurge=surge, maxUnavailable=unavailable))
    world.run()
    assert world.status["phase"] == "Healthy"
    return Checked(world, replicas, max_surge, max_unavailable)


def valid_bounds(surge: int | str, unavailable: int | str) -> bool:
    # Both written as zero is rejected by validation (as in Argo); percentages rounding to zero are allowed.
    return not (str(surge).rstrip("%") == "0" and str(unavailable).rstrip("%") == "0")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(min_value=1, max_value=12),
    surge=BOUNDS,
    unavailable=BOUNDS,
    weights=st.lists(st.integers(min_value=0, max_value=100), max_size=3),
    timed=st.booleans(),
    events=EVENTS,
)
def test_update_keeps_availability_and_surge_bounds(
    replicas: int,
    surge: int | str,
    unavailable: int | str,
    weights: list[int],
    timed: bool,
    events: list[tuple[str, int]],
) -> None:
    assume(valid_bounds(surge, unavailable))
    checked = healthy_world(replicas, surge, unavailable, steps_for(weights, timed))
    world = checked.world
    old = world.status["stableRS"]
    world.set_image("app:v2")
    checked.play(events)
    checked.finish()
    new = world.status["currentPodHash"]
    assert new != old
    assert world.status["phase"] == "Healthy", world.status
    assert world.status["stableRS"] == new
    assert world.counts()[new] == replicas
    assert world.ready_pods() == {new: replicas}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(min_value=1, max_value=10),
    surge=BOUNDS,
    unavailable=BOUNDS,
    weights=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=3),
    events=EVENTS,
    abort_at=st.integers(min_value=0, max_value=60),
)
def test_an_aborted_update_ends_with_every_pod_on_the_stable_revision(
    replicas: int,
    surge: int | str,
    unavailable: int | str,
    weights: list[int],
    events: list[tuple[str, int]],
    abort_at: int,
) -> None:
    assume(valid_bounds(surge, unavailable))
    checked = healthy_world(replicas, surge, unavailable, steps_for(weights, timed=False))
    world = checked.world
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    checked.play(events, abort_at=min(abort_at, len(events) - 1))
    if world.status.get("stableRS") != stable:
        return  # the update completed before the abort arrived: nothing left to abort
    # An abort is about the revision the controller is rolling out: one sent before it noticed the new
    # template is cleared by the status reset of that new revision (as in Argo). Let it notice first.
    for _ in range(3):
        world.reconcile()
        checked.check()
    if world.status.get("stableRS") != stable:
        return
    world.patch_status(abort=True)
    checked.finish()
    assert world.status["phase"] == "Degraded"
    assert world.status["message"].startswith("RolloutAborted: ")
    assert world.counts()[stable] == replicas
    assert sum(world.counts().values()) == replicas
    assert world.ready_pods() == {stable: replicas}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(min_value=1, max_value=10),
    weights=st.lists(st.integers(min_value=0, max_value=100), max_size=3),
    events=EVENTS,
)
def test_the_same_observed_state_always_yields_the_same_plan(
    replicas: int, weights: list[int], events: list[tuple[str, int]]
) -> None:
    checked = healthy_world(replicas, "25%", "25%", steps_for(weights, timed=True))
    world = checked.world
    world.set_image("app:v2")
    checked.play(events)
    observed = world.observed()
    first = decide(observed, world.now)
    second = decide(copy.deepcopy(observed), world.now)
    assert first == second
    assert first.all_actions() == second.all_actions()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.sampled_from(["", "25%", "abc", "10s", "-1", "1h"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "setWeight", "pause"]), inner),
    max_leaves=6,
)
FIELDS = st.sampled_from(
    [
        ("spec", "replicas"),
        ("spec", "paused"),
        ("spec", "restartAt"),
        ("spec", "progressDeadlineSeconds"),
        ("spec", "revisionHistoryLimit"),
        ("spec", "template"),
        ("spec", "selector"),
        ("spec", "strategy"),
        ("canary", "steps"),
        ("canary", "maxSurge"),
        ("canary", "maxUnavailable"),
        ("canary", "canaryMetadata"),
        ("status", "currentStepIndex"),
        ("status", "pauseConditions"),
        ("status", "stableRS"),
        ("status", "abort"),
        ("status", "conditions"),
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(FIELDS, JSON), min_size=1, max_size=3))
def test_bad_input_never_crashes_decide(changes: list[tuple[tuple[str, str], Any]]) -> None:
    checked = healthy_world(3, "25%", "25%", [{"setWeight": 50}, {"pause": {"duration": 5}}])
    world = checked.world
    world.set_image("app:v2")
    world.reconcile()
    for (block, key), value in changes:
        if block == "canary":
            canary = (
                (world.ro["spec"].get("strategy") or {}).get("canary")
                if isinstance(world.ro["spec"].get("strategy"), dict)
                else None
            )
            if isinstance(canary, dict):
                canary[key] = value
        else:
            world.ro.setdefault(block, {})[key] = value
    plan = decide(world.observed(), world.now)  # must not raise
    assert plan.status.get("phase") in (None, "Healthy", "Progressing", "Paused", "Degraded")
    if plan.status.get("phase") == "Degraded" and "InvalidSpec" in plan.status.get("message", ""):
        assert all(type(action).__name__ == "RecordEvent" for action in plan.actions)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(min_value=1, max_value=10),
    unavailable=st.sampled_from(["0%", "25%", "50%", 1, 2]),
    events=EVENTS,
)
def test_a_restart_never_takes_down_more_than_max_unavailable(
    replicas: int, unavailable: int | str, events: list[tuple[str, int]]
) -> None:
    checked = healthy_world(replicas, 1, unavailable, [])
    world = checked.world
    checked.unavailable = max(checked.unavailable, 1)  # a restart always replaces at least one pod at a time
    world.tick(60)
    restart_at = "2026-01-01T12:00:30Z"
    world.set_spec(restartAt=restart_at)
    checked.play(events)
    checked.finish()
    assert world.status["restartedAt"] == restart_at
    assert world.status["phase"] == "Healthy"
    assert all(p["metadata"]["creationTimestamp"] >= restart_at for p in world.pods.values())
    assert len(world.pods) == replicas
