"""decide() through every transition of a blue-green rollout, in the simulated cluster with a fake clock.

What Argo Rollouts would show at each point: ReplicaSet sizes and
scale-down-deadline annotations, Service selectors, status.blueGreen,
pause conditions, phase, and the pre/post-promotion AnalysisRuns.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.rollout.actions import CreateAnalysisRun, PatchServiceSelector, RecordEvent
from tests.unit.rollout.sim import World, blue_green_rollout, service

DEADLINE = "scale-down-deadline"


def deployed(*, preview: bool = True, **blue_green: Any) -> World:
    if preview:
        blue_green.setdefault("previewService", "preview")
    world = World(ro=blue_green_rollout(**blue_green))
    world.services = {"active": service("active", managed=False)}
    if preview:
        world.services["preview"] = service("preview", managed=False)
    world.run()
    assert world.status["phase"] == "Healthy", world.status
    return world


def hash_of(world: World, image: str) -> str:
    for rs in world.replicasets.values():
        if rs["spec"]["template"]["spec"]["containers"][0]["image"] == image:
            return str(rs["metadata"]["labels"]["rollouts-pod-template-hash"])
    raise AssertionError(f"no ReplicaSet runs {image}")


def rs_of(world: World, pod_hash: str) -> dict[str, Any]:
    return next(
        rs for rs in world.replicasets.values() if rs["metadata"]["labels"]["rollouts-pod-template-hash"] == pod_hash
    )


def pauses(world: World) -> list[str]:
    return [p["reason"] for p in world.status.get("pauseConditions") or []]


def promote(world: World) -> None:
    """Argo's `kubectl argo rollouts promote` of a paused blue-green rollout."""
    world.patch_status(pauseConditions=None)


# --------------------------------------------------------------------------- first deploy


def test_first_deploy_points_both_services_at_the_only_replicaset_and_is_healthy() -> None:
    world = deployed()
    v1 = hash_of(world, "app:v1")
    assert world.counts() == {v1: 3}
    assert world.service_hash("active") == v1
    assert world.service_hash("preview") == v1
    assert world.status["stableRS"] == v1
    assert world.status["blueGreen"] == {"activeSelector": v1, "previewSelector": v1}
    managed = world.services["active"]
    assert managed is not None
    assert managed["metadata"]["annotations"]["argo-rollouts.argoproj.io/managed-by-rollouts"] == "app"
    assert world.status["selector"] == f"app=app,rollouts-pod-template-hash={v1}"


def test_missing_active_service_is_an_invalid_spec_and_touches_nothing() -> None:
    world = World(ro=blue_green_rollout())
    world.services = {"active": None}
    plan = world.reconcile()
    assert [a for a in plan.actions if not isinstance(a, RecordEvent)] == []
    assert world.status["phase"] == "Degraded"
    assert 'spec.strategy.blueGreen.activeService: Invalid value: "active"' in world.status["message"]


# --------------------------------------------------------------------------- auto promotion


def test_auto_promotion_previews_switches_then_scales_the_old_pods_down_after_the_delay() -> None:
    world = deployed()
    v1 = hash_of(world, "app:v1")
    world.set_image("app:v2")
    world.reconcile()  # creates the new ReplicaSet
    v2 = hash_of(world, "app:v2")
    world.reconcile()  # switches the preview, records the new pod hash (Argo's order)
    world.reconcile()
    assert world.service_hash("preview") == v2, "the preview Service follows the new ReplicaSet at once"
    assert world.service_hash("active") == v1
    assert world.counts()[v2] == 3
    world.run()
    assert world.service_hash("active") == v2
    assert world.status["stableRS"] == v2
    assert world.status["phase"] == "Healthy"
    old = rs_of(world, v1)
    assert old["spec"]["replicas"] == 3, "the old pods stay up for scaleDownDelaySeconds"
    assert DEADLINE in old["metadata"]["annotations"]
    assert world.history[-1].requeue_after is not None
    world.tick(31)
    world.run()
    assert world.counts()[v1] == 0
    assert DEADLINE not in rs_of(world, v1)["metadata"]["annotations"]


def test_the_active_service_switches_only_to_a_fully_available_replicaset() -> None:
    world = deployed()
    v1 = hash_of(world, "app:v1")
    world.set_image("app:v2")
    world.reconcile()
    v2 = hash_of(world, "app:v2")
    world.reconcile()
    world.reconcile()
    world.create_pods()
    world.ready(limit=2)  # two of three new pods ready
    world.reconcile()
    assert world.service_hash("active") == v1
    assert world.status["phase"] == "Progressing"
    assert world.status["message"] == "active service cutover pending"
    world.ready()
    world.reconcile()
    assert world.service_hash("active") == v2


# --------------------------------------------------------------------------- manual promotion


def test_manual_promotion_pauses_until_promote_then_switches() -> None:
    world = deployed(autoPromotionEnabled=False)
    v1 = hash_of(world, "app:v1")
    world.set_image("app:v2")
    world.run()
    v2 = hash_of(world, "app:v2")
    assert pauses(world) == ["BlueGreenPause"]
    assert world.status["phase"] == "Paused"
    assert world.status["controllerPause"] is True
    assert world.service_hash("active") == v1
    assert world.service_hash("preview") == v2
    assert world.counts() == {v1: 3, v2: 3}
    promote(world)
    world.run()
    assert world.service_hash("active") == v2
    assert world.status["stableRS"] == v2
    assert world.status["phase"] == "Healthy"
    assert "pauseConditions" not in world.status


def test_preview_replica_count_runs_a_small_preview_then_scales_up_before_the_switch() -> None:
    world = deployed(autoPromotionEnabled=False, previewReplicaCount=1)
    v1 = hash_of(world, "app:v1")
    world.set_image("app:v2")
    world.run()
    v2 = hash_of(world, "app:v2")
    assert world.counts() == {v1: 3, v2: 1}
    assert pauses(world) == ["BlueGreenPause"]
    promote(world)
    for _ in range(3):  # the Paused condition first, then the checkpoint and the scale-up
        world.reconcile()
    assert world.status["blueGreen"]["scaleUpPreviewCheckPoint"] is True
    assert world.counts()[v2] == 3
    assert world.service_hash("active") == v1, "no switch before the preview is at full size"
    world.run()
    assert world.counts()[v2] == 3
    assert world.service_hash("active") == v2
    assert "scaleUpPreviewCheckPoint" not in world.status["blueGreen"]


def test_auto_promotion_seconds_waits_then_promotes_by_itself() -> None:
    world = deployed(autoPromotionSeconds=20)
    v1 = hash_of(world, "app:v1")
    world.set_image("app:v2")
    world.run()
    v2 = hash_of(world, "app:v2")
    assert pauses(world) == ["BlueGreenPause"]
    requeue = world.history[-1].requeue_after
    assert requeue is not None and 19 <= requeue <= 21
    world.tick(10)
    world.run()
    assert world.service_hash("active") == v1
    world.tick(11)
    world.run()
    assert world.service_hash("active") == v2
    assert world.status["phase"] == "Healthy"


# --------------------------------------------------------------------------- abort


def test_abort_keeps_the_active_service_on_stable_and_scales_the_preview_down_later() -> None:
    world = deployed(autoPromotionEnabled=False)
    v1 = hash_of(world, "app:v1")
    world.set_image("app:v2")
    world.run()
    v2 = hash_of(world, "app:v2")
    world.patch_status(abort=True)
    world.run()
    assert world.service_hash("active") == v1
    assert world.status["phase"] == "Degraded"
    assert world.counts()[v2] == 3, "the preview stays up for abortScaleDownDelaySeconds"
    assert DEADLINE in rs_of(world, v2)["metadata"]["annotations"]
    world.tick(31)
    world.run()
    assert world.counts() == {v1: 3, v2: 0}
    assert world.service_hash("active") == v1


def test_abort_scale_down_delay_zero_leaves_the_preview_up() -> None:
    world = deployed(autoPromotionEnabled=False, abortScaleDownDelaySeconds=0)
    v1 = hash_of(world, "app:v1")
    world.set_image("app:v2")
    world.run()
    v2 = hash_of(world, "app:v2")
    world.patch_status(abort=True)
    world.run()
    world.tick(120)
    world.run()
    assert world.counts() == {v1: 3, v2: 3}
    assert world.service_hash("active") == v1


def test_scale_down_delay_revision_limit_keeps_only_that_many_old_revisions_up() -> None:
    world = deployed(scaleDownDelayRevisionLimit=1, scaleDownDelaySeconds=600)
    for image in ("app:v2", "app:v3"):
        world.set_image(image)
        world.run()
    v1, v2, v3 = (hash_of(world, f"app:v{n}") for n in (1, 2, 3))
    assert world.service_hash("active") == v3
    assert world.counts() == {v1: 0, v2: 3, v3: 3}


def test_rollback_to_a_revision_still_inside_its_delay_switches_at_once() -> None:
    world = deployed(autoPromotionEnabled=False)
    v1 = hash_of(world, "app:v1")
    world.set_image("app:v2")
    world.run()
    promote(world)
    world.run()
    assert world.service_hash("active") != v1
    world.set_image("app:v1")  # undo while v1 still runs (scale-down delay)
    world.run()
    assert world.service_hash("active") == v1
    assert "pauseConditions" not in world.status
    assert world.status["stableRS"] == v1


def test_a_scaling_event_resizes_stable_and_preview_mid_update() -> None:
    world = deployed(autoPromotionEnabled=False)
    v1 = hash_of(world, "app:v1")
    world.set_image("app:v2")
    world.run()
    v2 = hash_of(world, "app:v2")
    world.set_spec(replicas=5)
    world.run()
    assert world.counts() == {v1: 5, v2: 5}
    promote(world)
    world.run()
    assert world.service_hash("active") == v2
    assert world.status["availableReplicas"] == 5
    assert world.status["HPAReplicas"] == 5


def test_active_and_preview_metadata_are_applied_to_their_pods() -> None:
    world = deployed(
        autoPromotionEnabled=False,
        activeMetadata={"labels": {"role": "active"}},
        previewMetadata={"labels": {"role": "preview"}},
    )
    v1 = hash_of(world, "app:v1")
    world.set_image("app:v2")
    world.run()
    v2 = hash_of(world, "app:v2")
    roles = {pod["metadata"]["labels"]["rollouts-pod-template-hash"]: set() for pod in world.pods.values()}
    for pod in world.pods.values():
        roles[pod["metadata"]["labels"]["rollouts-pod-template-hash"]].add(pod["metadata"]["labels"].get("role"))
    assert roles == {v1: {"active"}, v2: {"preview"}}


# --------------------------------------------------------------------------- analysis

TEMPLATE = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AnalysisTemplate",
    "metadata": {"name": "smoke", "namespace": "ns"},
    "spec": {"metrics": [{"name": "ok", "provider": {"web": {"url": "http://127.0.0.1:1/"}}}]},
}


def analysed(**blue_green: Any) -> World:
    world = deployed(**blue_green)
    world.analysis_templates = {(False, "smoke"): TEMPLATE}
    world.set_image("app:v2")
    world.run()
    return world


def test_pre_promotion_analysis_gates_the_switch_and_success_promotes() -> None:
    world = analysed(prePromotionAnalysis={"templates": [{"templateName": "smoke"}]})
    v1, v2 = hash_of(world, "app:v1"), hash_of(world, "app:v2")
    name = f"app-{v2}-2-pre"
    run = world.analysis_runs[name]
    assert run["metadata"]["labels"]["rollout-type"] == "PrePromotion"
    assert run["metadata"]["labels"]["rollouts-pod-template-hash"] == v2
    assert world.service_hash("active") == v1
    assert world.status["blueGreen"]["prePromotionAnalysisRunStatus"] == {"name": name, "status": "Pending"}
    world.finish_run(name, "Successful")
    world.run()
    assert world.service_hash("active") == v2
    assert world.status["stableRS"] == v2
    assert world.status["blueGreen"]["prePromotionAnalysisRunStatus"]["status"] == "Successful"


def test_pre_promotion_failure_aborts_and_keeps_the_active_service_on_the_old_version() -> None:
    world = analysed(prePromotionAnalysis={"templates": [{"templateName": "smoke"}]})
    v1, v2 = hash_of(world, "app:v1"), hash_of(world, "app:v2")
    world.finish_run(f"app-{v2}-2-pre", "Failed", "error rate too high")
    world.run()
    assert world.status["abort"] is True
    assert world.service_hash("active") == v1
    assert world.status["phase"] == "Degraded"
    assert "Blue/green pre-promotion analysis phase error/failed: error rate too high" in world.status["message"]
    world.tick(31)
    world.run()
    assert world.counts() == {v1: 3, v2: 0}
    # retry: a fresh run (Argo's collision counter), the failed one kept for the record
    world.patch_status(abort=False)
    world.run()
    assert f"app-{v2}-2-pre.1" in world.analysis_runs
    assert world.analysis_runs[f"app-{v2}-2-pre"]["status"]["phase"] == "Failed"


def test_post_promotion_failure_switches_the_active_service_back() -> None:
    world = analysed(postPromotionAnalysis={"templates": [{"templateName": "smoke"}]})
    v1, v2 = hash_of(world, "app:v1"), hash_of(world, "app:v2")
    assert world.service_hash("active") == v2
    assert world.status["stableRS"] == v1, "stable only after the post-promotion analysis"
    assert world.status["message"] == "waiting for analysis to complete"
    assert world.counts()[v1] == 3
    name = f"app-{v2}-2-post"
    assert world.analysis_runs[name]["metadata"]["labels"]["rollout-type"] == "PostPromotion"
    world.finish_run(name, "Failed")
    world.run()
    assert world.service_hash("active") == v1
    assert world.status["abort"] is True


def test_post_promotion_success_makes_the_new_replicaset_stable() -> None:
    world = analysed(postPromotionAnalysis={"templates": [{"templateName": "smoke"}]})
    v2 = hash_of(world, "app:v2")
    world.finish_run(f"app-{v2}-2-post", "Successful")
    world.run()
    assert world.status["stableRS"] == v2
    assert world.status["phase"] == "Healthy"
    assert world.status["blueGreen"]["postPromotionAnalysisRunStatus"]["status"] == "Successful"


def test_inconclusive_pre_promotion_pauses_and_promote_measures_again() -> None:
    world = analysed(prePromotionAnalysis={"templates": [{"templateName": "smoke"}]})
    v1, v2 = hash_of(world, "app:v1"), hash_of(world, "app:v2")
    world.finish_run(f"app-{v2}-2-pre", "Inconclusive")
    world.run()
    assert pauses(world) == ["InconclusiveAnalysisRun"]
    assert world.service_hash("active") == v1
    promote(world)
    world.run()
    assert f"app-{v2}-2-pre.1" in world.analysis_runs
    world.finish_run(f"app-{v2}-2-pre.1", "Successful")
    world.run()
    assert world.service_hash("active") == v2


def test_missing_analysis_template_is_an_invalid_spec() -> None:
    world = deployed(prePromotionAnalysis={"templates": [{"templateName": "absent"}]})
    world.set_image("app:v2")
    world.run()
    assert world.status["phase"] == "Degraded"
    assert "absent" in world.status["message"]
    assert not any(isinstance(a, CreateAnalysisRun) for plan in world.history for a in plan.actions)


def test_finished_runs_beyond_the_history_limits_are_deleted() -> None:
    world = deployed(spec=None, prePromotionAnalysis={"templates": [{"templateName": "smoke"}]})
    world.ro["spec"]["analysis"] = {"successfulRunHistoryLimit": 1}
    world.analysis_templates = {(False, "smoke"): TEMPLATE}
    for version in range(2, 5):
        world.set_image(f"app:v{version}")
        world.run()
        pre = next(name for name in world.analysis_runs if name.endswith(f"-{version}-pre"))
        world.finish_run(pre, "Successful")
        world.run()
    kept = sorted(name.rsplit("-", 2)[-2] for name in world.analysis_runs)
    assert kept == ["3", "4"], "the current run plus one more successful run"


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["update", "promote", "abort", "retry", "tick", "ready-one", "reconcile", "scale"]),
        min_size=1,
        max_size=25,
    )
)
def test_the_active_service_only_ever_moves_to_a_fully_available_existing_replicaset(script: list[str]) -> None:
    world = deployed(autoPromotionEnabled=False, previewReplicaCount=2)
    version = 1
    for step in script:
        if step == "update":
            version += 1
            world.set_image(f"app:v{version}")
        elif step == "promote":
            promote(world)
        elif step == "abort":
            world.patch_status(abort=True)
        elif step == "retry":
            world.patch_status(abort=False)
        elif step == "tick":
            world.tick(40)
        elif step == "ready-one":
            world.create_pods()
            world.ready(limit=1)
        elif step == "scale":
            world.set_spec(replicas=4 if world.ro["spec"]["replicas"] == 3 else 3)
        before = world.service_hash("active")
        plan = world.reconcile()
        after = world.service_hash("active")
        hashes = {rs["metadata"]["labels"]["rollouts-pod-template-hash"] for rs in world.replicasets.values()}
        assert after in hashes and world.service_hash("preview") in hashes
        if after != before:
            switched = [a for a in plan.actions if isinstance(a, PatchServiceSelector) and a.service == "active"]
            assert switched
            target = rs_of(world, after)
            assert target["status"]["availableReplicas"] >= world.ro["spec"]["replicas"], (script, target)
    world.patch_status(abort=True)
    for _ in range(3):
        world.run()
        world.tick(40)
    assert world.service_hash("active") == world.status["stableRS"]
    assert rs_of(world, world.status["stableRS"])["status"]["availableReplicas"] == world.ro["spec"]["replicas"]
