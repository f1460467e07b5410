"""workloadRef on a real cluster: a Rollout that takes its pod template from a live Deployment.

The migration test samples the pods of both the Deployment and the Rollout
all along the way, because the promise is about every moment: available pods
never fall below the Deployment's replicas - maxUnavailable.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.api.kinds import ROLLOUTS
from rollouts.devcluster import NEVER_READY_LABEL
from rollouts.kube.resources import DEPLOYMENTS, PODS, REPLICASETS
from tests.integration.cli.test_cli_patches import Cli
from tests.kubetest import Kube, healthy_on_new_revision, paused_at, status
from tests.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("controller")]

STEPS: list[dict[str, Any]] = [{"setWeight": 50}, {"pause": {}}]
SAMPLE_LIMIT_SECONDS = 240


@pytest.fixture
def cli(cluster: Any, namespace: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(cluster, namespace, capsys)


def deployment_manifest(name: str, *, replicas: int, image: str = "app:v1") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def ref_rollout_manifest(
    name: str, *, deployment: str, replicas: int, scale_down: str | None, steps: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    ref: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment}
    if scale_down is not None:
        ref["scaleDown"] = scale_down
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": deployment}},
            "workloadRef": ref,
            "strategy": {"canary": {"steps": STEPS if steps is None else steps}},
        },
    }


async def deployment_ready(kube: Kube, name: str, replicas: int) -> dict[str, Any]:
    return await eventually(
        lambda: kube.client.get(DEPLOYMENTS, kube.namespace, name),
        lambda d: (
            (d.get("status") or {}).get("readyReplicas") == replicas
            and (d.get("status") or {}).get("updatedReplicas") == replicas
        ),
        timeout=120,
        what=f"deployment {name} with {replicas} ready pods",
    )


def pod_is_ready(pod: dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def ready_pods(kube: Kube, app: str) -> tuple[int, int]:
    """(ready pods of the Deployment, ready pods of the Rollout), both selected by app=<app>."""
    listing = await kube.client.list(PODS, kube.namespace, label_selector=f"app={app}")
    ready = [pod for pod in listing["items"] if pod_is_ready(pod)]
    of_rollout = sum(1 for pod in ready if "rollouts-pod-template-hash" in (pod["metadata"].get("labels") or {}))
    return len(ready) - of_rollout, of_rollout


async def rollout_replicasets(kube: Kube, rollout: str) -> list[dict[str, Any]]:
    listing = await kube.client.list(REPLICASETS, kube.namespace)
    return [
        rs
        for rs in listing["items"]
        if any(
            ref.get("kind") == "Rollout" and ref.get("name") == rollout
            for ref in rs["metadata"].get("ownerReferences") or []
        )
    ]


async def test_progressive_migration_from_a_live_deployment_keeps_pods_available(kube: Kube) -> None:
    replicas, max_unavailable = 4, 1
    await kube.create(DEPLOYMENTS, deployment_manifest("web", replicas=replicas))
    await deployment_ready(kube, "web", replicas)
    await kube.create(
        ROLLOUTS, ref_rollout_manifest("web-ro", deployment="web", replicas=replicas, scale_down="progressively")
    )

    samples: list[tuple[int, int]] = []
    deployment_sizes: set[int] = set()
    deadline = time.monotonic() + SAMPLE_LIMIT_SECONDS
    done = False
    while time.monotonic() < deadline:
        samples.append(await ready_pods(kube, "web"))
        rollout = await kube.rollout("web-ro")
        deployment = await kube.client.get(DEPLOYMENTS, kube.namespace, "web")
        deployment_sizes.add(deployment["spec"]["replicas"])
        if healthy_on_new_revision(rollout) and deployment["spec"]["replicas"] == 0 and samples[-1] == (0, replicas):
            done = True
            break
        await asyncio.sleep(0.2)
    assert done, f"migration did not finish; last sample {samples[-1:]}, rollout status {status(rollout)}"
    lowest = min(d + r for d, r in samples)
    assert lowest >= replicas - max_unavailable, f"available pods fell to {lowest}: {samples}"
    assert deployment_sizes >= {replicas, 0}

    rollout = await kube.rollout("web-ro")
    assert "template" not in rollout["spec"], "the referenced template is never written into the Rollout"
    generation = str(deployment["metadata"]["generation"])
    final = await kube.wait(
        "web-ro",
        lambda o: status(o).get("workloadObservedGeneration") == generation,
        what="workloadObservedGeneration follows the Deployment's generation",
    )
    assert final["metadata"]["annotations"]["rollout.argoproj.io/workload-generation"] == generation
    assert status(final)["selector"] == "app=web"


async def make_ready(kube: Kube, pod: dict[str, Any]) -> None:
    """Play the kubelet for one never-ready pod: it becomes Ready (kwok leaves a Running pod alone)."""
    conditions = [
        {"type": kind, "status": "True", "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    name = pod["metadata"]["name"]
    await kube.client.patch(PODS, kube.namespace, name, {"status": {"conditions": conditions}}, subresource="status")


async def test_progressive_migration_gives_up_one_deployment_pod_per_available_rollout_pod(kube: Kube) -> None:
    """Rollout pods become ready one at a time (by hand); the Deployment shrinks in step, never ahead."""
    replicas = 3
    await kube.create(DEPLOYMENTS, deployment_manifest("slow", replicas=replicas))
    await deployment_ready(kube, "slow", replicas)
    # Paused, the Deployment keeps its ready pods while its template (which the Rollout takes) gets
    # the label that keeps new pods un-Ready until this test says otherwise.
    patch = {"spec": {"paused": True, "template": {"metadata": {"labels": {NEVER_READY_LABEL: "true"}}}}}
    await kube.client.patch(DEPLOYMENTS, kube.namespace, "slow", patch)
    await kube.create(
        ROLLOUTS, ref_rollout_manifest("slow-ro", deployment="slow", replicas=replicas, scale_down="progressively")
    )
    await kube.wait(
        "slow-ro",
        lambda o: status(o).get("replicas") == replicas and not status(o).get("availableReplicas"),
        what="rollout pods exist, none available",
    )

    async def deployment_size() -> int:
        return int((await kube.client.get(DEPLOYMENTS, kube.namespace, "slow"))["spec"]["replicas"])

    assert await deployment_size() == replicas, "nothing given up before a rollout pod is available"
    for made_ready in range(1, replicas + 1):
        listing = await kube.client.list(PODS, kube.namespace, label_selector=f"{NEVER_READY_LABEL}=true")
        pending = sorted(
            (pod for pod in listing["items"] if not pod_is_ready(pod)), key=lambda pod: pod["metadata"]["name"]
        )
        await make_ready(kube, pending[0])
        size = await eventually(
            deployment_size,
            lambda n, made_ready=made_ready: n == replicas - made_ready,
            what=f"deployment at {replicas - made_ready}",
        )
        deployment_pods, rollout_pods = await eventually(
            lambda: ready_pods(kube, "slow"),
            lambda counts, size=size: counts[0] == size,
            what="deployment pods follow its size",
        )
        assert (deployment_pods, rollout_pods) == (replicas - made_ready, made_ready)
    await kube.wait("slow-ro", healthy_on_new_revision, what="Healthy after the last pod")
    assert await deployment_size() == 0


async def test_onsuccess_scales_the_deployment_down_once_healthy(kube: Kube) -> None:
    await kube.create(DEPLOYMENTS, deployment_manifest("api", replicas=2))
    await deployment_ready(kube, "api", 2)
    await kube.create(ROLLOUTS, ref_rollout_manifest("api-ro", deployment="api", replicas=2, scale_down="onsuccess"))
    deadline = time.monotonic() + SAMPLE_LIMIT_SECONDS
    rollout: dict[str, Any] = {}
    while time.monotonic() < deadline:
        # The Deployment first: when it is at 0, the Rollout read after it must already be Healthy.
        deployment = await kube.client.get(DEPLOYMENTS, kube.namespace, "api")
        rollout = await kube.rollout("api-ro")
        if deployment["spec"]["replicas"] != 2:
            assert status(rollout).get("phase") == "Healthy", f"scaled before Healthy: {status(rollout)}"
        if healthy_on_new_revision(rollout):
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"rollout never became Healthy: {status(rollout)}")
    await eventually(
        lambda: kube.client.get(DEPLOYMENTS, kube.namespace, "api"),
        lambda d: d["spec"]["replicas"] == 0,
        what="deployment scaled to 0 after success",
    )
    assert await eventually(lambda: ready_pods(kube, "api"), lambda counts: counts == (0, 2), what="only rollout pods")


async def test_never_leaves_the_deployment_and_a_new_deployment_template_is_a_new_revision(kube: Kube) -> None:
    await kube.create(DEPLOYMENTS, deployment_manifest("shop", replicas=2))
    await deployment_ready(kube, "shop", 2)
    await kube.create(ROLLOUTS, ref_rollout_manifest("shop-ro", deployment="shop", replicas=2, scale_down="never"))
    first = await kube.wait("shop-ro", healthy_on_new_revision, what="Healthy on revision 1")
    first_hash = status(first)["stableRS"]
    deployment = await kube.client.get(DEPLOYMENTS, kube.namespace, "shop")
    assert deployment["spec"]["replicas"] == 2, "scaleDown: never leaves the Deployment alone"

    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:v2"}]}}}}
    updated = await kube.client.patch(DEPLOYMENTS, kube.namespace, "shop", patch)
    paused = await kube.wait("shop-ro", paused_at(1), what="revision 2 paused at its first pause step")
    assert status(paused)["currentPodHash"] != first_hash
    assert paused["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    assert status(paused)["workloadObservedGeneration"] == str(updated["metadata"]["generation"])
    images = {
        rs["metadata"]["labels"]["rollouts-pod-template-hash"]: rs["spec"]["template"]["spec"]["containers"][0]["image"]
        for rs in await rollout_replicasets(kube, "shop-ro")
    }
    assert images == {first_hash: "app:v1", status(paused)["currentPodHash"]: "app:v2"}
    assert "template" not in paused["spec"]


async def test_missing_deployment_gives_a_condition_then_recovers_when_it_appears(kube: Kube) -> None:
    await kube.create(ROLLOUTS, ref_rollout_manifest("late-ro", deployment="late", replicas=1, scale_down=None))
    invalid = await kube.wait(
        "late-ro",
        lambda o: any(c.get("type") == "InvalidSpec" for c in status(o).get("conditions") or []),
        what="InvalidSpec for the missing Deployment",
    )
    condition = next(c for c in status(invalid)["conditions"] if c["type"] == "InvalidSpec")
    assert 'deployments.apps "late" not found' in condition["message"]
    assert status(invalid)["phase"] == "Degraded"
    assert await rollout_replicasets(kube, "late-ro") == []

    await kube.create(DEPLOYMENTS, deployment_manifest("late", replicas=1))
    healthy = await kube.wait("late-ro", healthy_on_new_revision, what="Healthy once the Deployment exists", timeout=90)
    assert not any(c.get("type") == "InvalidSpec" for c in status(healthy)["conditions"])


async def test_template_and_workload_ref_together_are_invalid(kube: Kube) -> None:
    await kube.create(DEPLOYMENTS, deployment_manifest("both", replicas=1))
    manifest = ref_rollout_manifest("both-ro", deployment="both", replicas=1, scale_down=None)
    manifest["spec"]["template"] = deployment_manifest("both", replicas=1)["spec"]["template"]
    await kube.create(ROLLOUTS, manifest)
    invalid = await kube.wait(
        "both-ro",
        lambda o: any(c.get("type") == "InvalidSpec" for c in status(o).get("conditions") or []),
        what="InvalidSpec for template + workloadRef",
    )
    condition = next(c for c in status(invalid)["conditions"] if c["type"] == "InvalidSpec")
    assert "template must be empty for workload reference rollout" in condition["message"]
    assert await rollout_replicasets(kube, "both-ro") == []


async def test_set_image_and_undo_act_on_the_referenced_deployment(cli: Cli, kube: Kube) -> None:
    await kube.create(DEPLOYMENTS, deployment_manifest("cart", replicas=1))
    await kube.create(
        ROLLOUTS, ref_rollout_manifest("cart-ro", deployment="cart", replicas=1, scale_down="never", steps=[])
    )
    first = await kube.wait("cart-ro", healthy_on_new_revision, what="Healthy on revision 1")
    first_hash = status(first)["stableRS"]

    code, out, err = await asyncio.to_thread(cli, "set", "image", "cart-ro", "app=app:v2")
    assert (code, out, err) == (0, 'deployment "cart" image updated\n', "")
    second = await kube.wait(
        "cart-ro", lambda o: healthy_on_new_revision(o) and status(o)["stableRS"] != first_hash, what="revision 2"
    )
    assert "template" not in second["spec"]

    code, out, _ = await asyncio.to_thread(cli, "undo", "cart-ro", "--to-revision", "1")
    assert (code, out) == (0, "rollout 'cart-ro' undo\n")
    deployment = await kube.client.get(DEPLOYMENTS, kube.namespace, "cart")
    template = deployment["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "app:v1"
    assert "rollouts-pod-template-hash" not in template["metadata"]["labels"]
    back = await kube.wait(
        "cart-ro",
        lambda o: healthy_on_new_revision(o) and status(o)["stableRS"] == first_hash,
        what="back on revision 1's ReplicaSet",
    )
    assert back["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "3"
