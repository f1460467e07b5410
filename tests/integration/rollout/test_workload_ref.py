"""workloadRef on a real cluster: a Rollout that takes its pod template from a live Deployment.

The migration test records every state the pods of both the Deployment and
the Rollout went through (a watch, not a poller), because the promise is about
every moment: available pods never fall below the Deployment's replicas -
maxUnavailable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.api.kinds import ROLLOUTS
from rollouts.devcluster import NEVER_READY_LABEL
from rollouts.kube.resources import DEPLOYMENTS, PODS, REPLICASETS
from tests.integration.cli.test_cli_patches import Cli
from tests.kubetest import Kube, healthy_on_new_revision, history, paused_at, status
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


def ready_counts(pods: dict[str, dict[str, Any]]) -> tuple[int, int]:
    """(ready pods of the Deployment, ready pods of the Rollout) among `pods` (name -> pod)."""
    ready = [pod for pod in pods.values() if pod_is_ready(pod)]
    of_rollout = sum(1 for pod in ready if "rollouts-pod-template-hash" in (pod["metadata"].get("labels") or {}))
    return len(ready) - of_rollout, of_rollout


async def ready_pods(kube: Kube, app: str) -> tuple[int, int]:
    """(ready pods of the Deployment, ready pods of the Rollout), both selected by app=<app>."""
    listing = await kube.client.list(PODS, kube.namespace, label_selector=f"app={app}")
    return ready_counts({pod["metadata"]["name"]: pod for pod in listing["items"]})


def deployment_size(name: str) -> Callable[[dict[str, dict[str, Any]]], int | None]:
    """A History projection: spec.replicas of Deployment `name` (None while it does not exist)."""

    def project(deployments: dict[str, dict[str, Any]]) -> int | None:
        deployment = deployments.get(name)
        return None if deployment is None else int(deployment["spec"].get("replicas", 1))

    return project


def rollout_phase(name: str) -> Callable[[dict[str, dict[str, Any]]], str | None]:
    """A History projection: status.phase of Rollout `name`."""

    def project(rollouts: dict[str, dict[str, Any]]) -> str | None:
        rollout = rollouts.get(name)
        return None if rollout is None else status(rollout).get("phase")

    return project


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
    # Every state the pods and the Deployment went through from before the Rollout exists, from the
    # API server's watch.
    async with (
        history(kube, PODS, ready_counts, label_selector="app=web") as pods,
        history(kube, DEPLOYMENTS, deployment_size("web")) as deployments,
    ):
        await kube.create(
            ROLLOUTS, ref_rollout_manifest("web-ro", deployment="web", replicas=replicas, scale_down="progressively")
        )
        await eventually(
            lambda: kube.rollout("web-ro"),
            lambda rollout: (
                healthy_on_new_revision(rollout)
                and deployments.states[-1].value == 0
                and pods.states[-1].value == (0, replicas)
            ),
            timeout=SAMPLE_LIMIT_SECONDS,
            what="migration done: Healthy, Deployment at 0, only rollout pods ready",
        )
        samples = [state.value for state in await pods.caught_up()]
        deployment_sizes = {state.value for state in await deployments.caught_up()}
    lowest = min(d + r for d, r in samples)
    assert lowest >= replicas - max_unavailable, f"available pods fell to {lowest}: {samples}"
    assert deployment_sizes >= {replicas, 0}
    assert samples[-1] == (0, replicas), samples[-1]
    deployment = await kube.client.get(DEPLOYMENTS, kube.namespace, "web")

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
    # The Rollout's and the Deployment's changes as the API server stored them; resourceVersions
    # (one etcd revision counter) order the two watches against each other.
    async with (
        history(kube, ROLLOUTS, rollout_phase("api-ro")) as phases,
        history(kube, DEPLOYMENTS, deployment_size("api")) as sizes,
    ):
        await kube.create(
            ROLLOUTS, ref_rollout_manifest("api-ro", deployment="api", replicas=2, scale_down="onsuccess")
        )
        await kube.wait("api-ro", healthy_on_new_revision, what="Healthy", timeout=SAMPLE_LIMIT_SECONDS)
        await eventually(
            lambda: kube.client.get(DEPLOYMENTS, kube.namespace, "api"),
            lambda d: d["spec"]["replicas"] == 0,
            what="deployment scaled to 0 after success",
        )
        rollout_states = await phases.caught_up()
        deployment_states = await sizes.caught_up()
    scaled = next(state for state in deployment_states if state.value != 2)
    assert scaled.value == 0, f"the Deployment went straight to 0: {[s.value for s in deployment_states]}"
    before_scaling = [state for state in rollout_states if state.revision < scaled.revision]
    assert before_scaling and before_scaling[-1].value == "Healthy", (
        f"scaled before Healthy: rollout phases {[(s.revision, s.value) for s in rollout_states]}, "
        f"Deployment scaled at {scaled.revision}"
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
