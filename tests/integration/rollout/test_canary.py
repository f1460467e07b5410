"""The rollout controller drives canary and rolling updates on a real cluster with kwok pods."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.kinds import ROLLOUTS
from rollouts.devcluster import NEVER_READY_LABEL
from rollouts.kube.resources import PODS, REPLICASETS, SERVICES
from tests.kubetest import (
    ControllerProcess,
    Kube,
    counts,
    healthy_on_new_revision,
    history,
    paused_at,
    replicaset_counts,
    rollout_manifest,
    service_manifest,
    status,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("controller")]

STEPS: list[dict[str, Any]] = [
    {"setWeight": 20},
    {"pause": {}},
    {"setWeight": 60},
    {"pause": {"duration": "5s"}},
]


async def start_canary(kube: Kube, name: str = "web", steps: list[dict[str, Any]] | None = None) -> str:
    """A Healthy canary rollout with services; returns its stable hash."""
    await kube.create(SERVICES, service_manifest(f"{name}-canary", name))
    await kube.create(SERVICES, service_manifest(f"{name}-stable", name))
    manifest = rollout_manifest(
        name,
        steps=STEPS if steps is None else steps,
        canary={"canaryService": f"{name}-canary", "stableService": f"{name}-stable"},
    )
    await kube.create(ROLLOUTS, manifest)
    ready = await kube.wait(name, healthy_on_new_revision, what="initial deploy Healthy")
    assert status(ready)["currentStepIndex"] == len(STEPS if steps is None else steps), "initial deploy skips steps"
    return str(status(ready)["stableRS"])


async def test_canary_steps_with_promote_and_timed_pause(kube: Kube) -> None:
    stable = await start_canary(kube)
    assert await kube.service_hash("web-stable") == stable
    await kube.set_image("web", "app:v2")
    paused = await kube.wait("web", paused_at(1), what="paused at step 1")
    assert status(paused)["message"] == "CanaryPauseStep"
    canary = status(paused)["currentPodHash"]
    assert canary != stable
    assert counts(await kube.replicasets("web")) == {canary: (1, 1), stable: (4, 4)}, "20% of 5"
    assert await kube.service_hash("web-canary") == canary
    assert await kube.service_hash("web-stable") == stable

    await kube.patch_status("web", {"pauseConditions": None})  # what `promote` does
    at_timed_pause = await kube.wait("web", paused_at(3), what="timed pause at step 3")
    assert counts(await kube.replicasets("web")) == {canary: (3, 3), stable: (2, 2)}, "60% of 5"
    assert status(at_timed_pause)["currentStepIndex"] == 3, "promote moved exactly past the pause"

    done = await kube.wait("web", healthy_on_new_revision, what="Healthy after the 5s pause", timeout=60)
    assert status(done)["stableRS"] == canary
    final = counts(await kube.replicasets("web"))
    assert final[canary] == (5, 5) and final[stable][0] == 0
    assert await kube.service_hash("web-stable") == canary
    conditions = {c["type"]: c for c in status(done)["conditions"]}
    assert conditions["Completed"]["status"] == "True"
    assert conditions["Healthy"]["status"] == "True"
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"


async def test_abort_then_retry(kube: Kube) -> None:
    stable = await start_canary(kube)
    await kube.set_image("web", "app:v2")
    paused = await kube.wait("web", paused_at(1), what="paused at step 1")
    canary = status(paused)["currentPodHash"]
    await kube.patch_status("web", {"abort": True})
    aborted = await kube.wait(
        "web",
        lambda o: status(o).get("phase") == "Degraded" and status(o).get("availableReplicas") == 5,
        what="Degraded and back at full stable availability",
    )
    assert status(aborted)["message"].startswith("RolloutAborted: Rollout aborted update to revision 2")
    assert counts(await kube.replicasets("web")) == {canary: (0, 0), stable: (5, 5)}
    assert await kube.service_hash("web-canary") == stable, "canary service back on stable"
    assert status(aborted)["stableRS"] == stable

    await kube.patch_status("web", {"abort": False})  # what `retry` does
    retried = await kube.wait("web", paused_at(1), what="steps restart after retry")
    assert counts(await kube.replicasets("web")) == {canary: (1, 1), stable: (4, 4)}
    assert status(retried)["currentPodHash"] == canary


async def test_full_promote_skips_remaining_steps(kube: Kube) -> None:
    await start_canary(kube)
    await kube.set_image("web", "app:v2")
    paused = await kube.wait("web", paused_at(1), what="paused at step 1")
    canary = status(paused)["currentPodHash"]
    await kube.patch_status("web", {"promoteFull": True})
    done = await kube.wait("web", healthy_on_new_revision, what="Healthy after full promote")
    assert status(done)["stableRS"] == canary
    assert status(done)["currentStepIndex"] == len(STEPS)
    assert not status(done).get("promoteFull"), "the request is consumed"


async def test_fast_rollback_to_stable_skips_steps(kube: Kube) -> None:
    stable = await start_canary(kube)
    await kube.set_image("web", "app:v2")
    paused = await kube.wait("web", paused_at(1), what="paused at step 1")
    canary = status(paused)["currentPodHash"]
    await kube.set_image("web", "app:v1")
    back = await kube.wait("web", healthy_on_new_revision, what="Healthy on the old template without steps")
    assert status(back)["stableRS"] == stable
    assert status(back)["currentPodHash"] == stable
    assert not status(back).get("pauseConditions")
    assert counts(await kube.replicasets("web"))[canary][0] == 0


async def test_rolling_update_of_ten_replicas_respects_surge_and_unavailable(kube: Kube) -> None:
    manifest = rollout_manifest("roll", replicas=10, steps=None, canary={"maxSurge": "25%", "maxUnavailable": "25%"})
    await kube.create(ROLLOUTS, manifest)
    ready = await kube.wait("roll", healthy_on_new_revision, what="initial deploy")
    old = status(ready)["stableRS"]
    # Every state the ReplicaSets went through, from the API server's watch: the bounds hold at each one.
    async with history(kube, REPLICASETS, replicaset_counts, label_selector="app=roll") as replica_sets:
        await kube.set_image("roll", "app:v2")
        done = await kube.wait("roll", healthy_on_new_revision, what="rolling update done")
        states = [state.value for state in await replica_sets.caught_up()]
    new = status(done)["stableRS"]
    totals = [sum(spec for spec, _ in state.values()) for state in states]
    available = [sum(ready for _, ready in state.values()) for state in states]
    assert max(totals) <= 10 + 3, f"surge above 25% (rounded up): {max(totals)}"
    assert min(available) >= 10 - 2, f"availability below 75% (rounded down): {min(available)}"
    assert any(state.get(old, (0, 0))[1] > 0 and state.get(new, (0, 0))[1] > 0 for state in states), (
        "the update went through a state where both revisions had available pods (rolling, not all at once)"
    )
    assert states[-1][new] == (10, 10) and states[-1].get(old, (0, 0))[0] == 0, states[-1]
    assert status(done)["updatedReplicas"] == 10


async def test_canary_that_never_becomes_ready_hits_the_progress_deadline(kube: Kube) -> None:
    manifest = rollout_manifest("stuck", steps=[{"setWeight": 40}, {"pause": {}}], spec={"progressDeadlineSeconds": 5})
    await kube.create(ROLLOUTS, manifest)
    await kube.wait("stuck", healthy_on_new_revision, what="initial deploy")
    patch = {
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "stuck", NEVER_READY_LABEL: "true"}},
                "spec": {"containers": [{"name": "app", "image": "app:broken"}]},
            }
        }
    }
    await kube.client.patch(ROLLOUTS, kube.namespace, "stuck", patch)
    degraded = await kube.wait(
        "stuck", lambda o: status(o).get("phase") == "Degraded", what="Degraded by the deadline", timeout=60
    )
    assert status(degraded)["message"].startswith("ProgressDeadlineExceeded: ")
    progressing = next(c for c in status(degraded)["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    stable = status(degraded)["stableRS"]
    replica_sets = counts(await kube.replicasets("stuck"))
    # The canary never becomes available, so the stable RS may only lose maxUnavailable (1) pod.
    assert replica_sets[stable] == (4, 4), replica_sets
    canary = status(degraded)["currentPodHash"]
    assert replica_sets[canary] == (2, 0), replica_sets


async def test_progress_deadline_abort_returns_to_stable(kube: Kube) -> None:
    manifest = rollout_manifest(
        "stuck2",
        steps=[{"setWeight": 40}, {"pause": {}}],
        spec={"progressDeadlineSeconds": 5, "progressDeadlineAbort": True},
    )
    await kube.create(ROLLOUTS, manifest)
    ready = await kube.wait("stuck2", healthy_on_new_revision, what="initial deploy")
    stable = status(ready)["stableRS"]
    patch = {"spec": {"template": {"metadata": {"labels": {"app": "stuck2", NEVER_READY_LABEL: "true"}}}}}
    await kube.client.patch(ROLLOUTS, kube.namespace, "stuck2", patch)
    aborted = await kube.wait(
        "stuck2",
        lambda o: bool(status(o).get("abort")) and status(o).get("availableReplicas") == 5,
        what="aborted by the deadline, stable back to full",
        timeout=60,
    )
    assert status(aborted)["phase"] == "Degraded"
    assert counts(await kube.replicasets("stuck2"))[stable] == (5, 5)


async def test_invalid_rollout_next_to_a_valid_one(kube: Kube) -> None:
    bad = rollout_manifest("bad", steps=[{"setWeight": 20, "pause": {}}])
    await kube.create(ROLLOUTS, bad)
    await kube.create(ROLLOUTS, rollout_manifest("good", steps=[{"setWeight": 50}]))
    invalid = await kube.wait("bad", lambda o: status(o).get("phase") == "Degraded", what="InvalidSpec")
    assert status(invalid)["message"].startswith("InvalidSpec: ")
    assert "spec.strategy.canary.steps[0]" in status(invalid)["message"]
    condition = next(c for c in status(invalid)["conditions"] if c["type"] == "InvalidSpec")
    assert condition["status"] == "True"
    assert await kube.replicasets("bad") == {}, "no pods for an invalid rollout"
    await kube.wait("good", healthy_on_new_revision, what="the valid rollout is unaffected")


async def test_rollout_with_instance_id_is_left_to_its_own_controller(kube: Kube) -> None:
    manifest = rollout_manifest("other", labels={INSTANCE_ID_LABEL: "elsewhere"})
    created = await kube.create(ROLLOUTS, manifest)
    # A deterministic point instead of a sleep: a rollout created after "other" was fully reconciled,
    # so the controller has been watching rollouts since before "other" and had every chance to act on it.
    await kube.create(ROLLOUTS, rollout_manifest("mine"))
    await kube.wait("mine", healthy_on_new_revision, what="a later rollout of this controller reconciled")
    other = await kube.rollout("other")
    assert status(other) == {}
    assert other["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"], "never written to"
    assert await kube.replicasets("other") == {}


def test_controller_fixture_type(controller: ControllerProcess) -> None:
    assert controller.popen is not None and controller.popen.poll() is None, controller.log()[-2000:]


async def test_restart_replaces_every_pod_in_batches(kube: Kube) -> None:
    await kube.create(ROLLOUTS, rollout_manifest("restart", replicas=4, steps=[{"setWeight": 50}]))
    await kube.wait("restart", healthy_on_new_revision, what="initial deploy")
    before = {
        p["metadata"]["uid"]
        for p in (await kube.client.list(PODS, kube.namespace, label_selector="app=restart"))["items"]
    }
    await asyncio.sleep(1.1)  # restartAt has second precision: the pods must be strictly older
    restart_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    await kube.client.patch(ROLLOUTS, kube.namespace, "restart", {"spec": {"restartAt": restart_at}})
    done = await kube.wait(
        "restart", lambda o: status(o).get("restartedAt") == restart_at, what="restart finished", timeout=90
    )
    assert status(done)["phase"] in ("Healthy", "Progressing")
    pods = (await kube.client.list(PODS, kube.namespace, label_selector="app=restart"))["items"]
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert {p["metadata"]["uid"] for p in live}.isdisjoint(before), "every pod was replaced"
    await kube.wait("restart", lambda o: status(o).get("availableReplicas") == 4, what="back at 4 available")
