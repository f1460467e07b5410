"""The scale subresource mid-update: `kubectl scale rollout`, an HPA, and undo after scaling history.

Replica math must follow the new count in the middle of a canary (paused at a
step): the canary / stable split is recomputed for the new total.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rollouts.api.kinds import ROLLOUTS
from rollouts.api.resource import Resource
from tests.integration.cli.test_cli_patches import Cli
from tests.kubetest import Kube, counts, healthy_on_new_revision, paused_at, rollout_manifest, status
from tests.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("controller")]

HPAS = Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler")
STEPS: list[dict[str, Any]] = [{"setWeight": 50}, {"pause": {}}]


@pytest.fixture
def cli(cluster: Any, namespace: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(cluster, namespace, capsys)


async def paused_mid_canary(kube: Kube, name: str, *, replicas: int) -> tuple[str, str]:
    """A rollout paused at 50% of its second revision; (stable hash, canary hash)."""
    await kube.create(ROLLOUTS, rollout_manifest(name, replicas=replicas, steps=STEPS))
    first = await kube.wait(name, healthy_on_new_revision, what="initial Healthy")
    await kube.set_image(name, "app:v2")
    paused = await kube.wait(name, paused_at(1), what="paused at 50%")
    return str(status(first)["stableRS"]), str(status(paused)["currentPodHash"])


async def split_is(kube: Kube, name: str, expected: dict[str, tuple[int, int]]) -> None:
    await eventually(
        lambda: kube.replicasets(name),
        lambda rss: counts(rss) == expected,
        timeout=90,
        what=f"{name}: replica sets at {expected}",
    )


async def test_scale_subresource_mid_canary(kube: Kube) -> None:
    stable, canary = await paused_mid_canary(kube, "web", replicas=4)
    await split_is(kube, "web", {stable: (2, 2), canary: (2, 2)})

    scale = await kube.client.get(ROLLOUTS, kube.namespace, "web", subresource="scale")
    assert scale["spec"]["replicas"] == 4
    assert scale["status"]["selector"] == "app=web"
    assert scale["status"]["replicas"] == 4

    await kube.client.patch(ROLLOUTS, kube.namespace, "web", {"spec": {"replicas": 8}}, subresource="scale")
    await split_is(kube, "web", {stable: (4, 4), canary: (4, 4)})
    still = await kube.rollout("web")
    assert paused_at(1)(still), "scaling does not move the canary past its pause"
    await eventually(
        lambda: kube.client.get(ROLLOUTS, kube.namespace, "web", subresource="scale"),
        lambda s: s["status"].get("replicas") == 8,
        what="scale status follows",
    )

    await kube.client.patch(ROLLOUTS, kube.namespace, "web", {"spec": {"replicas": 2}}, subresource="scale")
    await split_is(kube, "web", {stable: (1, 1), canary: (1, 1)})

    await kube.patch_status("web", {"pauseConditions": None})  # promote
    done = await kube.wait("web", healthy_on_new_revision, what="Healthy at the new size")
    assert status(done)["stableRS"] == canary
    final = counts(await kube.replicasets("web"))
    assert final[canary] == (2, 2) and final[stable][0] == 0


async def test_hpa_min_replicas_mid_canary(kube: Kube) -> None:
    stable, canary = await paused_mid_canary(kube, "api", replicas=2)
    await split_is(kube, "api", {stable: (1, 1), canary: (1, 1)})
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "api"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "api"},
            "minReplicas": 6,
            "maxReplicas": 10,
        },
    }
    await kube.client.create(HPAS, kube.namespace, hpa)
    # No metrics server: the HPA controller still raises the target to minReplicas.
    scaled = await kube.wait("api", lambda o: o["spec"].get("replicas") == 6, what="HPA set replicas", timeout=120)
    assert paused_at(1)(scaled)
    await split_is(kube, "api", {stable: (3, 3), canary: (3, 3)})
    hpa_status = await eventually(
        lambda: kube.client.get(HPAS, kube.namespace, "api"),
        lambda h: (h.get("status") or {}).get("currentReplicas") == 6,
        timeout=120,
        what="HPA sees the rollout's replicas through the scale subresource",
    )
    assert hpa_status["status"]["desiredReplicas"] == 6


async def test_undo_to_revision_one_after_two_updates(cli: Cli, kube: Kube) -> None:
    await kube.create(ROLLOUTS, rollout_manifest("shop", replicas=2, steps=[]))
    first = await kube.wait("shop", healthy_on_new_revision, what="revision 1 Healthy")
    first_hash = status(first)["stableRS"]
    for image in ("app:v2", "app:v3"):
        await kube.set_image("shop", image)
        await kube.wait(
            "shop",
            lambda o, image=image: (
                healthy_on_new_revision(o)
                and o["spec"]["template"]["spec"]["containers"][0]["image"] == image
                and status(o)["stableRS"] != first_hash
            ),
            what=f"Healthy on {image}",
        )
    code, out, err = await asyncio.to_thread(cli, "undo", "shop", "--to-revision", "1")
    assert (code, out, err) == (0, "rollout 'shop' undo\n", "")
    rollout = await kube.rollout("shop")
    template = rollout["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "app:v1"
    assert "rollouts-pod-template-hash" not in template["metadata"]["labels"]
    back = await kube.wait(
        "shop",
        lambda o: healthy_on_new_revision(o) and status(o)["stableRS"] == first_hash,
        what="back on revision 1's ReplicaSet",
    )
    assert back["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "4"
    final = counts(await kube.replicasets("shop"))
    assert final[first_hash] == (2, 2)
    assert sum(spec for h, (spec, _) in final.items() if h != first_hash) == 0


async def test_replicas_default_is_written_so_that_scale_works(kube: Kube) -> None:
    manifest = rollout_manifest("tiny", steps=[])
    del manifest["spec"]["replicas"]
    await kube.create(ROLLOUTS, manifest)
    defaulted = await kube.wait("tiny", lambda o: o["spec"].get("replicas") == 1, what="spec.replicas defaulted")
    assert "replicas" not in manifest["spec"] and defaulted["spec"]["replicas"] == 1
    await kube.wait("tiny", healthy_on_new_revision, what="Healthy with one pod")
    await kube.client.patch(ROLLOUTS, kube.namespace, "tiny", {"spec": {"replicas": 3}}, subresource="scale")
    done = await kube.wait(
        "tiny", lambda o: healthy_on_new_revision(o) and status(o).get("availableReplicas") == 3, what="scaled to 3"
    )
    assert list(counts(await kube.replicasets("tiny")).values()) == [(3, 3)]
    assert status(done)["HPAReplicas"] == 3
