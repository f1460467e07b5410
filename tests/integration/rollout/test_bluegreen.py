"""The rollout controller drives blue-green updates on a real cluster with kwok pods.

Services are real; the assertions read their selectors, the ReplicaSets'
sizes and annotations, and the rollout status, as a user of Argo Rollouts
would with kubectl.
"""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.api.kinds import ROLLOUTS
from rollouts.kube.resources import DEPLOYMENTS, SERVICES
from tests.integration.rollout.test_workload_ref import deployment_manifest, deployment_ready, ref_rollout_manifest
from tests.kubetest import Kube, counts, healthy_on_new_revision, rollout_manifest, service_manifest, status
from tests.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("controller")]


def blue_green_manifest(name: str, *, replicas: int = 3, **blue_green: Any) -> dict[str, Any]:
    manifest = rollout_manifest(name, replicas=replicas)
    manifest["spec"]["strategy"] = {
        "blueGreen": {"activeService": f"{name}-active", "previewService": f"{name}-preview", **blue_green}
    }
    return manifest


async def start_blue_green(kube: Kube, name: str, *, replicas: int = 3, **blue_green: Any) -> str:
    """A Healthy blue-green rollout with its two Services; returns the stable hash."""
    await kube.create(SERVICES, service_manifest(f"{name}-active", name))
    await kube.create(SERVICES, service_manifest(f"{name}-preview", name))
    await kube.create(ROLLOUTS, blue_green_manifest(name, replicas=replicas, **blue_green))
    ready = await kube.wait(name, healthy_on_new_revision, what="initial deploy Healthy")
    stable = str(status(ready)["stableRS"])
    assert await kube.service_hash(f"{name}-active") == stable
    assert status(ready)["blueGreen"]["activeSelector"] == stable
    return stable


def paused_for(reason: str) -> Any:
    def check(obj: dict[str, Any]) -> bool:
        s = status(obj)
        return s.get("phase") == "Paused" and [p["reason"] for p in s.get("pauseConditions") or []] == [reason]

    return check


async def test_auto_promotion_switches_and_scales_the_old_pods_down_after_the_delay(kube: Kube) -> None:
    stable = await start_blue_green(kube, "bg", scaleDownDelaySeconds=8)
    await kube.set_image("bg", "app:v2")
    done = await kube.wait("bg", healthy_on_new_revision, what="Healthy on v2")
    new = status(done)["currentPodHash"]
    assert new != stable
    assert await kube.service_hash("bg-active") == new
    assert await kube.service_hash("bg-preview") == new
    assert status(done)["blueGreen"] == {"activeSelector": new, "previewSelector": new}
    old = await eventually(
        lambda: kube.replicasets("bg"),
        lambda rss: "scale-down-deadline" in (rss[stable]["metadata"].get("annotations") or {}),
        what="the old ReplicaSet gets its scale-down deadline",
    )
    assert old[stable]["spec"]["replicas"] == 3, "old pods stay up during scaleDownDelaySeconds"
    await eventually(
        lambda: kube.replicasets("bg"),
        lambda rss: counts(rss)[stable][0] == 0 and counts(rss)[new] == (3, 3),
        what="old ReplicaSet scaled to zero after the delay",
        timeout=60,
    )


async def test_manual_promotion_with_preview_replica_count(kube: Kube) -> None:
    stable = await start_blue_green(kube, "manual", autoPromotionEnabled=False, previewReplicaCount=1)
    await kube.set_image("manual", "app:v2")
    paused = await kube.wait("manual", paused_for("BlueGreenPause"), what="BlueGreenPause")
    new = status(paused)["currentPodHash"]
    assert await kube.service_hash("manual-active") == stable
    assert await kube.service_hash("manual-preview") == new
    assert counts(await kube.replicasets("manual")) == {stable: (3, 3), new: (1, 1)}

    await kube.patch_status("manual", {"pauseConditions": None})  # what `promote` does
    done = await kube.wait("manual", healthy_on_new_revision, what="Healthy after promote")
    assert status(done)["stableRS"] == new
    assert await kube.service_hash("manual-active") == new
    assert counts(await kube.replicasets("manual"))[new] == (3, 3)


async def test_abort_keeps_active_on_stable_and_scales_the_preview_down(kube: Kube) -> None:
    stable = await start_blue_green(kube, "abort", autoPromotionEnabled=False, abortScaleDownDelaySeconds=3)
    await kube.set_image("abort", "app:v2")
    paused = await kube.wait("abort", paused_for("BlueGreenPause"), what="BlueGreenPause")
    new = status(paused)["currentPodHash"]
    assert counts(await kube.replicasets("abort"))[new] == (3, 3)
    await kube.patch_status("abort", {"abort": True})  # what `abort` does
    aborted = await kube.wait("abort", lambda o: status(o).get("phase") == "Degraded", what="aborted")
    assert "RolloutAborted" in status(aborted)["message"]
    assert await kube.service_hash("abort-active") == stable
    await eventually(
        lambda: kube.replicasets("abort"),
        lambda rss: counts(rss)[new][0] == 0 and counts(rss)[stable] == (3, 3),
        what="preview scaled down after abortScaleDownDelaySeconds",
        timeout=60,
    )
    assert await kube.service_hash("abort-active") == stable


async def test_auto_promotion_seconds_promotes_without_a_human(kube: Kube) -> None:
    stable = await start_blue_green(kube, "timed", autoPromotionSeconds=3)
    await kube.set_image("timed", "app:v2")
    paused = await kube.wait("timed", paused_for("BlueGreenPause"), what="BlueGreenPause")
    assert await kube.service_hash("timed-active") == stable
    done = await kube.wait("timed", healthy_on_new_revision, what="promoted by autoPromotionSeconds")
    assert await kube.service_hash("timed-active") == status(paused)["currentPodHash"]
    assert status(done)["stableRS"] != stable


async def test_a_missing_active_service_is_a_clear_condition_until_it_exists(kube: Kube) -> None:
    await kube.create(ROLLOUTS, blue_green_manifest("nosvc", previewService=None))
    invalid = await kube.wait("nosvc", lambda o: status(o).get("phase") == "Degraded", what="InvalidSpec")
    assert 'spec.strategy.blueGreen.activeService: Invalid value: "nosvc-active"' in status(invalid)["message"]
    assert await kube.replicasets("nosvc") == {}, "nothing is created for an invalid rollout"
    await kube.create(SERVICES, service_manifest("nosvc-active", "nosvc"))
    ready = await kube.wait("nosvc", healthy_on_new_revision, what="Healthy once the Service exists", timeout=90)
    assert await kube.service_hash("nosvc-active") == status(ready)["stableRS"]


async def test_kubectl_scale_mid_blue_green_resizes_both_sides(kube: Kube) -> None:
    stable = await start_blue_green(kube, "scale", autoPromotionEnabled=False)
    await kube.set_image("scale", "app:v2")
    paused = await kube.wait("scale", paused_for("BlueGreenPause"), what="BlueGreenPause")
    new = status(paused)["currentPodHash"]
    await kube.client.patch(ROLLOUTS, kube.namespace, "scale", {"spec": {"replicas": 5}}, subresource="scale")
    await eventually(
        lambda: kube.replicasets("scale"),
        lambda rss: counts(rss) == {stable: (5, 5), new: (5, 5)},
        what="both ReplicaSets at the new count",
    )
    await kube.patch_status("scale", {"pauseConditions": None})
    done = await kube.wait("scale", healthy_on_new_revision, what="Healthy at 5 after promote")
    assert status(done)["availableReplicas"] == 5
    assert status(done)["HPAReplicas"] == 5
    assert status(done)["selector"] == f"app=scale,rollouts-pod-template-hash={new}"


async def test_workload_ref_blue_green_takes_over_from_a_live_deployment(kube: Kube) -> None:
    await kube.create(DEPLOYMENTS, deployment_manifest("legacy", replicas=3))
    await deployment_ready(kube, "legacy", 3)
    await kube.create(SERVICES, service_manifest("legacy-active", "legacy"))
    manifest = ref_rollout_manifest("legacy-ro", deployment="legacy", replicas=3, scale_down="progressively")
    manifest["spec"]["strategy"] = {"blueGreen": {"activeService": "legacy-active"}}
    await kube.create(ROLLOUTS, manifest)
    ready = await kube.wait("legacy-ro", healthy_on_new_revision, what="blue-green workloadRef Healthy", timeout=120)
    assert await kube.service_hash("legacy-active") == status(ready)["stableRS"]
    assert "template" not in (await kube.rollout("legacy-ro"))["spec"], "the template is never persisted"
    await eventually(
        lambda: kube.client.get(DEPLOYMENTS, kube.namespace, "legacy"),
        lambda d: d["spec"]["replicas"] == 0,
        what="the Deployment scaled down once the Rollout took over",
    )
