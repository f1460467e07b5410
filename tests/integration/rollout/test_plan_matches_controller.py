"""`rollouts plan` against the real thing: the controller on the local control plane passes the plan's boundaries.

The plan is computed first (offline, on the product simulator), then the same
Rollout and update are applied to the cluster with the controller running, and
a human promotes at each pause the plan says needs one. Histories of the
Rollout and its ReplicaSets (every state the API server stored, ordered by the
global resourceVersion) are then compared with the plan's rows at the points
both must pass through: each change of step index, each pause, and the end.
Pods become ready at kwok's and kube-controller-manager's pace, so the rows in
between (how many pods were available when) are not compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from rollouts.api.kinds import ROLLOUTS
from rollouts.cli.patches import promote_patches
from rollouts.cli.plan_rows import plan_update
from rollouts.cli.plan_walk import AnalysisOutcome, Manifests
from rollouts.kube.resources import REPLICASETS, SERVICES
from tests.kubetest import (
    Kube,
    State,
    healthy_on_new_revision,
    history,
    paused_at,
    replicaset_counts,
    rollout_manifest,
    service_manifest,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("controller")]

NAME = "planned"
STEPS: list[dict[str, Any]] = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]
CANARY = {"canaryService": f"{NAME}-canary", "stableService": f"{NAME}-stable"}


@dataclass(frozen=True)
class Point:
    """What both the plan and the controller pass through: step, desired stable/canary pods, paused, done."""

    step: int | None
    stable: int
    canary: int
    paused: bool
    done: bool


@dataclass(frozen=True)
class RolloutState:
    step: int | None
    paused: bool
    stable: str
    current: str
    healthy: bool


def rollout_state(objects: dict[str, dict[str, Any]]) -> RolloutState | None:
    obj = objects.get(NAME)
    if obj is None:
        return None
    status = obj.get("status") or {}
    return RolloutState(
        step=status.get("currentStepIndex"),
        paused=bool(status.get("pauseConditions")),
        stable=str(status.get("stableRS") or ""),
        current=str(status.get("currentPodHash") or ""),
        healthy=healthy_on_new_revision(obj),
    )


def boundaries(points: list[Point]) -> list[Point]:
    """The last point of each step, each point that pauses, and the final point, in order."""
    kept: list[Point] = []
    for index, point in enumerate(points):
        following = points[index + 1] if index + 1 < len(points) else None
        if following is None or following.step != point.step or (point.paused and not following.paused):
            kept.append(point)
    return kept


def plan_points(rows: list[dict[str, Any]]) -> list[Point]:
    last = rows[-1]
    return [
        Point(
            step=row["step"],
            stable=row["stablePods"],
            canary=row["canaryPods"],
            paused=row["pause"] is not None,
            done=row is last and row["note"] == "completed",
        )
        for row in rows
    ]


def cluster_points(
    rollouts: list[State[RolloutState | None]],
    replica_sets: list[State[dict[str, tuple[int, int]]]],
    *,
    new_hash: str,
) -> list[Point]:
    """One point per stored Rollout state, with the ReplicaSets' desired pods as they stood at that write."""
    points: list[Point] = []
    for state in rollouts:
        ro = state.value
        if ro is None:
            continue
        counts = [rs.value for rs in replica_sets if rs.revision <= state.revision][-1]
        stable = counts.get(ro.stable, (0, 0))[0]
        canary = counts.get(ro.current, (0, 0))[0] if ro.current != ro.stable else 0
        point = Point(
            step=ro.step, stable=stable, canary=canary, paused=ro.paused, done=ro.healthy and ro.stable == new_hash
        )
        if not points or point != points[-1]:
            points.append(point)
    return points


def planned_rows() -> list[dict[str, Any]]:
    services = {name: service_manifest(name, NAME) for name in CANARY.values()}
    old = rollout_manifest(NAME, steps=STEPS, canary=CANARY)
    new = rollout_manifest(NAME, steps=STEPS, canary=CANARY, image="app:v2")
    return plan_update(
        new=Manifests(rollout=new, services=services),
        old=Manifests(rollout=old, services=services),
        replicas=None,
        outcome=AnalysisOutcome(),
    )


async def promote(kube: Kube, obj: dict[str, Any]) -> None:
    """What `rollouts promote` sends (the plan's simulated human applies the same patches)."""
    patches = promote_patches(obj)
    if patches.spec:
        await kube.client.patch(ROLLOUTS, kube.namespace, NAME, patches.spec)
    if patches.status:
        await kube.client.patch(ROLLOUTS, kube.namespace, NAME, patches.status, subresource="status")


async def test_the_controller_passes_the_plans_boundaries(kube: Kube) -> None:
    rows = planned_rows()
    assert rows[-1]["note"] == "completed"
    human_steps = [row["step"] for row in rows if row["needsHuman"]]
    assert human_steps == [1, 3]

    for service in CANARY.values():
        await kube.create(SERVICES, service_manifest(service, NAME))
    await kube.create(ROLLOUTS, rollout_manifest(NAME, steps=STEPS, canary=CANARY))
    await kube.wait(NAME, healthy_on_new_revision, what="initial deploy Healthy")

    async with (
        history(kube, REPLICASETS, replicaset_counts, label_selector=f"app={NAME}") as replica_sets,
        history(kube, ROLLOUTS, rollout_state) as rollouts,
    ):
        await kube.set_image(NAME, "app:v2")
        for step in human_steps:
            paused = await kube.wait(NAME, paused_at(step), what=f"paused for a human at step {step}")
            await promote(kube, paused)
        done = await kube.wait(NAME, healthy_on_new_revision, what="Healthy on the new revision")
        rs_states = await replica_sets.caught_up()
        ro_states = await rollouts.caught_up()

    planned = boundaries(plan_points(rows))
    points = cluster_points(ro_states, rs_states, new_hash=str(done["status"]["stableRS"]))
    # The controller may write conditions again after it is Healthy: stop at the first completed state.
    observed = boundaries(points[: next(i for i, point in enumerate(points) if point.done) + 1])
    assert [point.step for point in observed] == [point.step for point in planned], (planned, observed)
    assert observed == planned
    assert planned[-1] == Point(step=len(STEPS), stable=5, canary=0, paused=False, done=True)
