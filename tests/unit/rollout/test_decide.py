"""decide() through every transition of a canary rollout, in a simulated cluster with a fake clock.

Each test drives the in-memory world (tests/unit/rollout/sim.py) the way the
controller shell and the cluster would, and checks what Argo Rollouts would
show at that point: ReplicaSet sizes, Service selectors, status fields,
conditions, phase and message, events and requeues.
"""

from __future__ import annotations

import copy
from typing import Any

from rollouts.rollout.actions import (
    CreateReplicaSet,
    DeletePod,
    PatchPod,
    PatchReplicaSet,
    PatchRolloutMetadata,
    RecordEvent,
    RequeueAfter,
    ScaleReplicaSet,
    UpdateStatus,
)
from rollouts.rollout.context import Observed
from rollouts.rollout.decide import decide
from tests.unit.rollout.sim import START, World, rollout, service

STEPS: list[dict[str, Any]] = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "30s"}}]


def deployed(**kwargs: Any) -> World:
    world = World(ro=rollout(**kwargs))
    if kwargs.get("canaryService") or kwargs.get("stableService"):
        world.services = {
            name: service(name) for name in (kwargs.get("canaryService"), kwargs.get("stableService")) if name
        }
    world.run()
    assert world.status["phase"] == "Healthy", world.status
    return world


def conditions(world: World) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in world.status.get("conditions") or []}


def size_changes(plan_actions: list[Any], world: World) -> list[ScaleReplicaSet]:
    return [a for a in plan_actions if isinstance(a, ScaleReplicaSet)]


# --------------------------------------------------------------------------- first deploy


def test_first_reconcile_creates_the_replicaset_at_zero_like_argo() -> None:
    world = World(ro=rollout(steps=STEPS))
    plan = world.reconcile()
    creates = [a for a in plan.actions if isinstance(a, CreateReplicaSet)]
    assert len(creates) == 1
    body = creates[0].body
    pod_hash = body["metadata"]["labels"]["rollouts-pod-template-hash"]
    assert body["metadata"]["name"] == f"app-{pod_hash}"
    assert body["spec"]["replicas"] == 0
    assert body["spec"]["selector"]["matchLabels"] == {"app": "app", "rollouts-pod-template-hash": pod_hash}
    assert body["spec"]["template"]["metadata"]["labels"] == {"app": "app", "rollouts-pod-template-hash": pod_hash}
    assert body["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "name": "app",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert body["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "1"
    assert PatchRolloutMetadata(annotations={"rollout.argoproj.io/revision": "1"}) in plan.actions
    assert [e for e in world.events()] == [
        "RolloutUpdated: Rollout updated to revision 1",
        f"NewReplicaSetCreated: Created ReplicaSet app-{pod_hash} (revision 1)",
    ]
    assert conditions(world) == {"Progressing": ("True", "NewReplicaSetCreated")}
    assert world.condition("Progressing")["message"] == f'Created new replica set "app-{pod_hash}"'  # type: ignore[index]


def test_initial_deploy_is_stable_at_once_and_skips_steps() -> None:
    world = World(ro=rollout(steps=STEPS))
    world.run()
    pod_hash = world.status["currentPodHash"]
    assert world.counts() == {pod_hash: 5}
    assert world.status["stableRS"] == pod_hash
    assert world.status["currentStepIndex"] == 4
    assert world.status["phase"] == "Healthy"
    assert "message" not in world.status
    assert world.status["observedGeneration"] == "1"
    assert world.status["selector"] == "app=app"
    assert world.status["replicas"] == world.status["updatedReplicas"] == world.status["availableReplicas"] == 5
    assert world.status["readyReplicas"] == world.status["HPAReplicas"] == 5
    assert world.status["canary"] == {} and world.status["blueGreen"] == {}
    assert conditions(world) == {
        "Progressing": ("True", "NewReplicaSetAvailable"),
        "Available": ("True", "AvailableReason"),
        "Completed": ("True", "RolloutCompleted"),
        "Healthy": ("True", "RolloutHealthy"),
    }
    assert f"RolloutCompleted: Rollout completed update to revision 1 ({pod_hash}): Initial deploy" in world.events()
    # Settled: another reconcile changes nothing and asks for nothing.
    plan = world.reconcile()
    assert plan.actions == [] and not plan.status_changed and plan.requeue_after is None


def test_step_hash_is_argos() -> None:
    world = deployed(steps=[{"pause": {}}])
    assert world.status["currentStepHash"] == "6b9b86fbd5"
    assert deployed(steps=[{"pause": {}}, {"pause": {}}]).status["currentStepHash"] == "79c9b9f6bf"
    assert deployed().status["currentStepHash"] == "5ffbfbbd64"


def test_spec_replicas_defaults_to_one() -> None:
    world = deployed(replicas=None)
    assert world.counts() == {world.status["stableRS"]: 1}


# --------------------------------------------------------------------------- canary steps


def test_canary_walks_its_steps_with_promote_and_a_timed_pause() -> None:
    world = deployed(steps=STEPS, canaryService="canary", stableService="stable")
    stable = world.status["stableRS"]
    world.set_image("app:v2")

    plan = world.reconcile()  # a new revision: the ReplicaSet first
    assert [type(a).__name__ for a in plan.actions if not isinstance(a, RecordEvent)] == [
        "CreateReplicaSet",
        "PatchRolloutMetadata",
    ]
    canary = next(h for h in world.counts() if h != stable)
    plan = world.reconcile()  # then only the status is reset to the first step
    assert not [a for a in plan.actions if not isinstance(a, RecordEvent)]
    assert world.status["currentPodHash"] == canary
    assert world.status["currentStepIndex"] == 0
    assert world.status["message"] == "more replicas need to be updated"

    world.run()
    assert world.counts() == {stable: 4, canary: 1}
    assert world.status["phase"] == "Paused"
    assert world.status["message"] == "CanaryPauseStep"
    assert world.status["currentStepIndex"] == 1
    assert world.status["pauseConditions"] == [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T12:00:00Z"}]
    assert world.status["controllerPause"] is True
    assert conditions(world)["Paused"] == ("True", "RolloutPaused")
    assert conditions(world)["Progressing"] == ("Unknown", "RolloutPaused")
    assert world.services["canary"]["spec"]["selector"]["rollouts-pod-template-hash"] == canary  # type: ignore[index]
    assert world.services["stable"]["spec"]["selector"]["rollouts-pod-template-hash"] == stable  # type: ignore[index]
    assert "RolloutStepCompleted: Rollout step 1/4 completed (setWeight: 20)" in world.events()
    assert "RolloutPaused: Rollout is paused (CanaryPauseStep)" in world.events()

    world.tick(3600)
    world.run()
    assert world.status["currentStepIndex"] == 1, "an indefinite pause waits for promote"

    world.patch_status(pauseConditions=None)  # `kubectl argo rollouts promote`
    world.run()
    assert world.status["currentStepIndex"] == 3
    assert world.counts() == {stable: 2, canary: 3}
    assert world.status["message"] == "CanaryPauseStep"
    started = world.status["pauseConditions"][0]["startTime"]
    plan = world.reconcile()
    assert plan.requeue_after == 30.0, "requeue at the instant the pause ends"
    assert RequeueAfter(seconds=30.0) in plan.all_actions()

    world.tick(29)
    world.run()
    assert world.status["currentStepIndex"] == 3
    assert world.status["pauseConditions"][0]["startTime"] == started
    world.tick(1)
    world.run()
    assert world.status["phase"] == "Healthy"
    assert world.status["stableRS"] == canary
    assert world.counts() == {stable: 0, canary: 5}
    assert world.services["stable"]["spec"]["selector"]["rollouts-pod-template-hash"] == canary  # type: ignore[index]
    assert "RolloutStepCompleted: Rollout step 4/4 completed (pause: 30s)" in world.events()
    assert "RolloutResumed: Rollout is resumed" in world.events()
    assert (
        f"RolloutCompleted: Rollout completed update to revision 2 ({canary}): Completed all 4 canary steps"
        in world.events()
    )
    assert conditions(world)["Paused"] == ("False", "RolloutPaused")
    assert conditions(world)["Healthy"] == ("True", "RolloutHealthy")


def test_at_most_one_replicaset_changes_size_per_reconcile() -> None:
    world = deployed(replicas=10, steps=[{"setWeight": 50}])
    world.set_image("app:v2")
    for _ in range(40):
        plan = world.reconcile()
        resized = [a for a in plan.actions if isinstance(a, ScaleReplicaSet)]
        before = {rs["metadata"]["name"]: rs for rs in world.replicasets.values()}
        assert len([a for a in resized if a.name in before]) <= 1
        world.settle()
    assert world.status["phase"] == "Healthy"


def test_canary_without_steps_is_a_rolling_update() -> None:
    world = deployed(replicas=10)
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    world.reconcile()
    world.reconcile()
    canary = world.status["currentPodHash"]
    history = []
    for _ in range(30):
        world.reconcile()
        world.settle()
        history.append(dict(world.counts()))
        if world.status.get("phase") == "Healthy":
            break
    assert world.counts() == {stable: 0, canary: 10}
    # maxSurge 25% of 10 rounds up to 3, maxUnavailable rounds down to 2.
    assert all(sum(counts.values()) <= 13 for counts in history)
    assert history[0] == {stable: 8, canary: 0}, "stable gives up maxUnavailable first (Argo scales stable first)"


def test_steps_changed_mid_update_start_again() -> None:
    world = deployed(steps=STEPS)
    world.set_image("app:v2")
    world.run()
    assert world.status["currentStepIndex"] == 1
    world.ro["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 40}, {"pause": {}}]
    world.ro["metadata"]["generation"] += 1
    world.reconcile()
    assert world.status["currentStepIndex"] == 0
    assert "pauseConditions" not in world.status
    world.run()
    assert world.status["currentStepIndex"] == 1
    assert sorted(world.counts().values()) == [2, 3]


def test_spec_paused_holds_everything() -> None:
    world = deployed(steps=[{"setWeight": 20}, {"setWeight": 40}])
    world.set_spec(paused=True)
    world.set_image("app:v2")
    world.run()
    assert world.status["phase"] == "Paused"
    assert world.status["message"] == "manually paused"
    assert world.status["currentStepIndex"] == 0
    assert sorted(world.counts().values()) == [0, 5], "no scaling while paused"
    assert conditions(world)["Progressing"] == ("Unknown", "RolloutPaused")
    assert conditions(world)["Paused"] == ("True", "RolloutPaused")
    world.set_spec(paused=False)
    world.run()
    assert world.status["phase"] == "Healthy"
    assert conditions(world)["Paused"] == ("False", "RolloutPaused")


# --------------------------------------------------------------------------- operator actions


def test_abort_goes_back_to_stable_and_retry_restarts_the_steps() -> None:
    world = deployed(steps=STEPS, canaryService="canary", stableService="stable")
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    world.run()
    canary = world.status["currentPodHash"]
    world.tick(10)
    world.patch_status(abort=True)  # `kubectl argo rollouts abort`
    world.run()
    assert world.counts() == {stable: 5, canary: 0}
    assert world.status["phase"] == "Degraded"
    assert world.status["message"] == "RolloutAborted: Rollout aborted update to revision 2"
    assert world.status["abortedAt"] == "2026-01-01T12:00:10Z"
    assert world.status["currentStepIndex"] == 0
    assert world.status["stableRS"] == stable
    assert "pauseConditions" not in world.status
    assert conditions(world)["Progressing"] == ("False", "RolloutAborted")
    assert world.services["canary"]["spec"]["selector"]["rollouts-pod-template-hash"] == stable  # type: ignore[index]
    assert "RolloutAborted: Rollout aborted update to revision 2" in world.events("RolloutAborted")
    assert not world.events("RolloutResumed"), "an abort clearing the pause is not a resume"

    world.patch_status(abort=False)  # `kubectl argo rollouts retry`
    plan = world.reconcile()
    assert conditions(world)["Progressing"] == ("Unknown", "RolloutRetry")
    assert not [a for a in plan.actions if isinstance(a, ScaleReplicaSet)]
    world.run()
    assert "abortedAt" not in world.status
    assert world.status["phase"] == "Paused" and world.status["currentStepIndex"] == 1
    assert world.counts() == {stable: 4, canary: 1}


def test_full_promotion_skips_the_remaining_steps() -> None:
    world = deployed(steps=STEPS)
    world.set_image("app:v2")
    world.run()
    world.patch_status(promoteFull=True)  # `kubectl argo rollouts promote --full`
    world.run()
    assert world.status["phase"] == "Healthy"
    assert "promoteFull" not in world.status
    assert world.status["stableRS"] == world.status["currentPodHash"]
    assert world.status["currentStepIndex"] == 4
    assert any("Full promotion requested" in e for e in world.events("RolloutCompleted"))


def test_fast_rollback_to_the_stable_template_skips_steps() -> None:
    world = deployed(steps=STEPS)
    stable = world.status["stableRS"]
    stable_rs = next(n for n, rs in world.replicasets.items() if n.endswith(stable))
    world.set_image("app:v2")
    world.run()
    world.set_image("app:v1")
    world.run()
    assert "SkipSteps: Rollback to stable ReplicaSets" in world.events()
    assert world.status["phase"] == "Healthy"
    assert world.status["currentPodHash"] == stable
    assert world.status["currentStepIndex"] == 4
    assert sorted(world.counts().values()) == [0, 5]
    assert len(world.replicasets) == 2, "no new ReplicaSet for a template we already run"
    annotations = world.replicasets[stable_rs]["metadata"]["annotations"]
    assert annotations["rollout.argoproj.io/revision"] == "3"
    assert annotations["rollout.argoproj.io/revision-history"] == "1"
    assert world.ro["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "3"


def test_rollback_window_goes_back_to_a_recent_revision_without_steps() -> None:
    world = deployed(steps=STEPS, spec={"rollbackWindow": {"revisions": 2}})
    for image in ("app:v2", "app:v3"):
        world.set_image(image)
        world.run()
        world.patch_status(promoteFull=True)
        world.run()
    assert world.status["phase"] == "Healthy"
    world.set_image("app:v2")
    world.run()
    assert world.status["phase"] == "Healthy"
    assert any("Rollback within window" in e for e in world.events("RolloutCompleted"))
    assert not any("pause" in e for e in world.events("RolloutStepCompleted")[-2:])


def test_rollback_outside_the_window_walks_the_steps() -> None:
    world = deployed(steps=STEPS, spec={"rollbackWindow": {"revisions": 1}})
    for image in ("app:v2", "app:v3", "app:v4"):
        world.set_image(image)
        world.run()
        world.patch_status(promoteFull=True)
        world.run()
    world.set_image("app:v2")  # two revisions back: v3 lies between
    world.run()
    assert world.status["phase"] == "Paused"
    assert world.status["currentStepIndex"] == 1


# --------------------------------------------------------------------------- progress deadline


def test_progress_deadline_exceeded_is_degraded_and_requeued_at_the_deadline() -> None:
    world = deployed(steps=[{"setWeight": 40}, {"pause": {}}], spec={"progressDeadlineSeconds": 60})
    world.set_image("app:v2")
    world.reconcile()
    world.never_ready.add(next(h for h in world.counts() if h != world.status["stableRS"]))
    world.run()
    assert world.status["phase"] == "Progressing"
    plan = world.reconcile()
    assert plan.requeue_after is not None and 59 <= plan.requeue_after <= 61
    world.tick(61)
    world.run()
    progressing = world.condition("Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert world.status["phase"] == "Degraded"
    canary_rs = f"app-{world.status['currentPodHash']}"
    assert world.status["message"] == f'ProgressDeadlineExceeded: ReplicaSet "{canary_rs}" has timed out progressing.'
    assert "abort" not in world.status


def test_progress_deadline_abort_rolls_back() -> None:
    spec = {"progressDeadlineSeconds": 60, "progressDeadlineAbort": True}
    world = deployed(steps=[{"setWeight": 40}, {"pause": {}}], spec=spec)
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    world.reconcile()
    canary = next(h for h in world.counts() if h != stable)
    world.never_ready.add(canary)
    world.run()
    world.tick(61)
    world.run()
    assert world.status["abort"] is True
    assert world.status["phase"] == "Degraded"
    assert world.status["message"] == (
        f'RolloutAborted: Rollout aborted update to revision 2: ReplicaSet "app-{canary}" has timed out progressing.'
    )
    assert world.counts() == {stable: 5, canary: 0}


def test_a_pause_step_is_exempt_from_the_progress_deadline() -> None:
    world = deployed(steps=STEPS, spec={"progressDeadlineSeconds": 30, "progressDeadlineAbort": True})
    world.set_image("app:v2")
    world.run()
    world.tick(3600)
    world.run()
    assert world.status["phase"] == "Paused"
    assert "abort" not in world.status


# --------------------------------------------------------------------------- bad input


def test_invalid_spec_touches_nothing_and_recovers() -> None:
    bad = rollout(steps=[{"setWeight": 20, "pause": {}}])
    plan = decide(Observed(rollout=bad, replicasets=[]), START)
    assert [type(a) for a in plan.actions] == [RecordEvent]
    assert plan.status["phase"] == "Degraded"
    assert plan.status["message"].startswith('InvalidSpec: The Rollout "app" is invalid: spec.strategy.canary.steps[0]')
    assert plan.requeue_after == 20.0
    world = World(ro=bad)
    world.reconcile()
    world.ro["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 20}]
    world.ro["metadata"]["generation"] += 1
    world.run()
    assert world.status["phase"] == "Healthy"
    assert "InvalidSpec" not in conditions(world)


def test_an_unparseable_rollout_is_invalid_not_a_crash() -> None:
    bad = rollout()
    bad["spec"]["replicas"] = "many"
    plan = decide(Observed(rollout=bad, replicasets=[]), START)
    assert plan.status["phase"] == "Degraded"
    assert "replicas" in plan.status["message"]


def test_missing_service_is_invalid_spec() -> None:
    world = World(ro=rollout(steps=STEPS, canaryService="nope"))
    world.services = {"nope": None}
    plan = world.reconcile()
    assert plan.status["phase"] == "Degraded"
    assert 'services "nope" not found' in plan.status["message"]
    assert all(isinstance(a, RecordEvent) for a in plan.actions)


def test_an_adopted_service_waits_for_a_fully_available_replicaset() -> None:
    world = World(ro=rollout(stableService="stable"))
    world.services = {"stable": service("stable", managed=False)}
    world.reconcile()
    world.reconcile()
    world.reconcile()
    world.create_pods()
    world.ready(limit=4)
    world.reconcile()
    assert "rollouts-pod-template-hash" not in world.services["stable"]["spec"]["selector"]  # type: ignore[index]
    world.ready()
    world.reconcile()
    assert world.services["stable"]["spec"]["selector"]["rollouts-pod-template-hash"] == world.status["stableRS"]  # type: ignore[index]
    assert world.services["stable"]["metadata"]["annotations"]["argo-rollouts.argoproj.io/managed-by-rollouts"]  # type: ignore[index]


# --------------------------------------------------------------------------- ReplicaSets


def test_revision_history_limit_deletes_only_idle_old_replicasets() -> None:
    world = deployed(spec={"revisionHistoryLimit": 1})
    for version in range(2, 6):
        world.set_image(f"app:v{version}")
        world.run()
    names = sorted(world.replicasets, key=lambda n: world.replicasets[n]["metadata"]["creationTimestamp"])
    assert len(names) == 2, "the current RS and one idle old one"
    assert world.replicasets[names[0]]["spec"]["replicas"] == 0
    assert world.replicasets[names[1]]["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "5"


def test_a_replicaset_from_argos_controller_is_adopted_not_replaced() -> None:
    world = deployed()
    rs = next(iter(world.replicasets.values()))
    # As if Argo (older hash implementation) had named it: different hash label, same template.
    rs["metadata"]["labels"]["rollouts-pod-template-hash"] = "argo123"
    rs["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"] = "argo123"
    rs["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/termination-log"
    for pod in world.pods.values():
        pod["metadata"]["labels"]["rollouts-pod-template-hash"] = "argo123"
    world.ro["status"]["stableRS"] = world.ro["status"]["currentPodHash"] = "argo123"
    plan = world.reconcile()
    assert not [a for a in plan.actions if isinstance(a, CreateReplicaSet | ScaleReplicaSet)]
    assert world.status["currentPodHash"] == "argo123"
    assert world.status["phase"] == "Healthy"


def test_a_template_that_drops_a_field_is_a_new_revision() -> None:
    world = deployed(image="app:v1")
    world.ro["spec"]["template"]["metadata"]["annotations"] = {"team": "a"}
    world.ro["metadata"]["generation"] += 1
    world.run()
    assert len(world.replicasets) == 2
    del world.ro["spec"]["template"]["metadata"]["annotations"]
    world.ro["metadata"]["generation"] += 1
    plan = world.reconcile()
    # Back to the first template: that RS is found by its hash; nothing new is created.
    assert not [a for a in plan.actions if isinstance(a, CreateReplicaSet)]


def test_scaling_the_rollout_resizes_the_stable_replicaset() -> None:
    world = deployed(steps=STEPS)
    world.set_spec(replicas=8)
    plan = world.reconcile()
    assert [a.replicas for a in plan.actions if isinstance(a, ScaleReplicaSet)] == [8]
    scale = next(a for a in plan.actions if isinstance(a, ScaleReplicaSet))
    assert scale.annotations == {"rollout.argoproj.io/desired-replicas": "8"}
    world.run()
    assert world.status["phase"] == "Healthy"
    assert world.status["availableReplicas"] == 8


def test_ephemeral_canary_and_stable_metadata() -> None:
    metadata = {"canaryMetadata": {"labels": {"role": "canary"}}, "stableMetadata": {"labels": {"role": "stable"}}}
    world = deployed(steps=STEPS, **metadata)
    stable = world.status["stableRS"]
    assert {p["metadata"]["labels"]["role"] for p in world.pods.values()} == {"stable"}
    world.set_image("app:v2")
    world.run()
    canary = world.status["currentPodHash"]
    roles = {
        (p["metadata"]["labels"]["rollouts-pod-template-hash"], p["metadata"]["labels"]["role"])
        for p in world.pods.values()
    }
    assert roles == {(stable, "stable"), (canary, "canary")}
    canary_rs = world.replicasets[f"app-{canary}"]
    assert (
        canary_rs["metadata"]["annotations"]["rollout.argoproj.io/ephemeral-metadata"] == '{"labels":{"role":"canary"}}'
    )
    world.patch_status(promoteFull=True)
    world.run()
    assert {p["metadata"]["labels"]["role"] for p in world.pods.values()} == {"stable"}
    assert any(isinstance(a, PatchPod) for plan in world.history for a in plan.actions)
    assert any(isinstance(a, PatchReplicaSet) for plan in world.history for a in plan.actions)


# --------------------------------------------------------------------------- restart


def test_restart_replaces_pods_in_batches_then_records_restarted_at() -> None:
    world = deployed(replicas=8)
    world.tick(60)
    restart_at = "2026-01-01T12:00:30Z"
    world.set_spec(restartAt=restart_at)
    world.run()
    assert world.status.get("restartedAt") != restart_at or world.evicted
    batches = [[a for a in plan.actions if isinstance(a, DeletePod)] for plan in world.history]
    sizes = [len(b) for b in batches if b]
    assert sizes and max(sizes) <= 2, "maxUnavailable (25% of 8) pods at a time"
    assert len(world.evicted) == 8
    assert world.status["restartedAt"] == restart_at
    assert world.status["phase"] == "Healthy"
    assert all(p["metadata"]["creationTimestamp"] >= restart_at for p in world.pods.values())


def test_restart_at_in_the_future_requeues_and_waits() -> None:
    world = deployed()
    world.set_spec(restartAt="2026-01-01T12:10:00Z")
    plan = world.reconcile()
    plan = world.reconcile()
    assert plan.requeue_after == 600.0
    assert not [a for a in plan.actions if isinstance(a, DeletePod)]


def test_restart_waits_when_pods_are_not_observed() -> None:
    world = deployed()
    world.observe_pods = False
    world.tick(5)
    world.set_spec(restartAt="2026-01-01T12:00:01Z")
    world.run()
    assert world.status["phase"] == "Progressing"
    assert world.status["message"] == "rollout is restarting"
    assert not world.evicted


# --------------------------------------------------------------------------- purity


def test_decide_does_not_mutate_what_it_observes() -> None:
    world = deployed(steps=STEPS)
    world.set_image("app:v2")
    world.reconcile()
    observed = world.observed()
    frozen = copy.deepcopy(observed)
    decide(observed, world.now)
    assert observed == frozen


def test_all_actions_lists_the_status_write_and_requeue_last() -> None:
    world = World(ro=rollout())
    plan = world.reconcile()
    listed = plan.all_actions()
    assert isinstance(listed[-1], UpdateStatus)
    assert listed[:-1] == plan.actions


# --------------------------------------------------------------------------- cases from Argo's controller tests


def test_scaling_while_paused_resizes_stable_first_then_canary() -> None:
    world = deployed(steps=[{"setWeight": 20}, {"pause": {}}], maxSurge=1, maxUnavailable=0)
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    world.run()
    canary = world.status["currentPodHash"]
    assert world.counts() == {stable: 4, canary: 1}
    assert world.status["phase"] == "Paused"
    world.set_spec(replicas=10)
    plan = world.reconcile()
    assert [(a.name, a.replicas) for a in plan.actions if isinstance(a, ScaleReplicaSet)] == [(f"app-{stable}", 8)]
    world.settle()
    plan = world.reconcile()
    assert [(a.name, a.replicas) for a in plan.actions if isinstance(a, ScaleReplicaSet)] == [(f"app-{canary}", 2)]
    world.run()
    assert world.counts() == {stable: 8, canary: 2}
    assert world.status["phase"] == "Paused" and world.status["currentStepIndex"] == 1


def test_user_pause_during_a_timed_pause_holds_it() -> None:
    world = deployed(steps=[{"setWeight": 20}, {"pause": {"duration": "10s"}}])
    world.set_image("app:v2")
    world.run()
    assert world.status["currentStepIndex"] == 1
    world.set_spec(paused=True)
    world.tick(60)
    world.run()
    assert world.status["currentStepIndex"] == 1
    assert world.status["message"] == "manually paused"
    world.set_spec(paused=False)
    world.run()
    assert world.status["phase"] == "Healthy"


def test_abort_of_a_fully_promoted_rollout_is_dropped() -> None:
    world = deployed(steps=STEPS)
    world.patch_status(abort=True, abortedAt="2026-01-01T11:00:00Z")
    world.run()
    assert "abort" not in world.status and "abortedAt" not in world.status
    assert world.status["phase"] == "Healthy"
    assert not world.events("RolloutAborted")


def test_abort_scales_the_stable_back_within_max_surge() -> None:
    world = deployed(replicas=10, steps=[{"setWeight": 10}, {"pause": {}}], maxSurge=1, maxUnavailable=0)
    stable = world.status["stableRS"]
    world.set_image("app:v2")
    world.run()
    canary = world.status["currentPodHash"]
    assert world.counts() == {stable: 9, canary: 1}
    world.patch_status(abort=True)
    plan = world.reconcile()
    assert [(a.name, a.replicas) for a in plan.actions if isinstance(a, ScaleReplicaSet)] == [(f"app-{stable}", 10)]
    assert world.status["currentStepIndex"] == 0
    assert world.status["message"] == "RolloutAborted: Rollout aborted update to revision 2"
    world.settle()
    world.run()
    assert world.counts() == {stable: 10, canary: 0}
