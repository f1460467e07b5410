"""Crash safety: state lives in the cluster, so a killed controller (or leader) loses nothing."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.kinds import ROLLOUTS
from rollouts.kube.resources import LEASES, REPLICASETS
from tests.conftest import ClusterHandle
from tests.kubetest import ControllerProcess, Kube, healthy_on_new_revision, rollout_manifest, status
from tests.waiting import eventually

pytestmark = pytest.mark.integration

STEPS = [{"setWeight": 20}, {"pause": {"duration": "2s"}}, {"setWeight": 60}, {"pause": {"duration": "2s"}}]


def controller(cluster: ClusterHandle, tmp_path: Path, name: str, instance: str, *extra: str) -> ControllerProcess:
    return ControllerProcess(
        kubeconfig=cluster.kubeconfig,
        log_path=tmp_path / f"{name}.log",
        extra_args=[f"--instance-id={instance}", *extra],
    )


async def watch_invariants(kube: Kube, app: str, replicas: int, surge: int, unavailable: int) -> list[str]:
    """Sample ReplicaSets until cancelled; return every violation seen."""
    violations: list[str] = []
    try:
        while True:
            listing = await kube.client.list(REPLICASETS, kube.namespace, label_selector=f"app={app}")
            total = sum(rs["spec"].get("replicas", 0) for rs in listing["items"])
            available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in listing["items"])
            if total > replicas + surge:
                violations.append(f"total {total} > {replicas + surge}")
            if available < replicas - unavailable:
                violations.append(f"available {available} < {replicas - unavailable}")
            await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        return violations


async def test_controller_killed_at_a_random_point_still_finishes(
    cluster: ClusterHandle, crds: None, kube: Kube, tmp_path: Path
) -> None:
    instance = f"crash-{kube.namespace}"
    labels = {INSTANCE_ID_LABEL: instance}
    first = controller(cluster, tmp_path, "first", instance)
    first.start()
    second = controller(cluster, tmp_path, "second", instance)
    try:
        await kube.create(ROLLOUTS, rollout_manifest("crash", replicas=8, steps=STEPS, labels=labels))
        await kube.wait("crash", healthy_on_new_revision, what="initial deploy")
        sampler = asyncio.create_task(watch_invariants(kube, "crash", 8, surge=2, unavailable=2))
        await kube.set_image("crash", "app:v2")
        await asyncio.sleep(random.uniform(0.2, 3.0))
        first.kill()
        await asyncio.sleep(0.5)
        second.start()
        done = await kube.wait("crash", healthy_on_new_revision, what="Healthy after the crash", timeout=90)
        sampler.cancel()
        violations = await sampler
        assert violations == [], violations[:5]
        assert status(done)["updatedReplicas"] == 8
    finally:
        first.kill()
        second.stop()


async def test_leader_election_failover_mid_rollout(
    cluster: ClusterHandle, crds: None, kube: Kube, tmp_path: Path
) -> None:
    instance = f"ha-{kube.namespace}"
    labels = {INSTANCE_ID_LABEL: instance}
    election = [
        "--leader-elect",
        f"--leader-election-namespace={kube.namespace}",
        "--lease-duration=4",
        "--renew-deadline=3",
        "--retry-period=0.5",
    ]
    lock = f"argo-rollouts-controller-lock-{instance}"  # Argo's lock name carries the instance id
    replicas = [controller(cluster, tmp_path, f"replica-{i}", instance, *election) for i in range(2)]
    for replica in replicas:
        replica.start()
    try:
        lease = await eventually(
            lambda: kube.client.get(LEASES, kube.namespace, lock),
            lambda obj: bool(obj["spec"].get("holderIdentity")),
            what="a leader",
        )
        holder = lease["spec"]["holderIdentity"]
        await kube.create(ROLLOUTS, rollout_manifest("ha", replicas=4, steps=STEPS, labels=labels))
        await kube.wait("ha", healthy_on_new_revision, what="initial deploy")
        # Exactly one replica reconciles: only the leader's log mentions work.
        await kube.set_image("ha", "app:v2")
        await kube.wait("ha", lambda o: status(o).get("currentStepIndex", 0) >= 1, what="first step done")
        leaders = [r for r in replicas if "leading: starting 4 workers" in r.log()]
        assert len(leaders) == 1, [r.log()[-500:] for r in replicas]
        leaders[0].kill()
        follower = next(r for r in replicas if r is not leaders[0])
        new_lease = await eventually(
            lambda: kube.client.get(LEASES, kube.namespace, lock),
            lambda obj: obj["spec"].get("holderIdentity") not in ("", holder),
            what="the follower to take over",
            timeout=20,
        )
        assert new_lease["spec"]["leaseTransitions"] >= 1
        await kube.wait("ha", healthy_on_new_revision, what="the new leader finishes the rollout", timeout=60)
        assert "leading: starting 4 workers" in follower.log()
    finally:
        for replica in replicas:
            replica.kill()


async def test_graceful_shutdown_releases_the_lease(
    cluster: ClusterHandle, crds: None, kube: Kube, tmp_path: Path
) -> None:
    lock = f"argo-rollouts-controller-lock-g-{kube.namespace}"
    process = controller(
        cluster,
        tmp_path,
        "graceful",
        f"g-{kube.namespace}",
        "--leader-elect",
        f"--leader-election-namespace={kube.namespace}",
    )
    process.start()
    try:
        await eventually(
            lambda: kube.client.get(LEASES, kube.namespace, lock),
            lambda obj: bool(obj["spec"].get("holderIdentity")),
            what="the lease held",
        )
    finally:
        code = process.stop()
    assert code == 0, process.log()[-2000:]
    lease = await kube.client.get(LEASES, kube.namespace, lock)
    assert lease["spec"].get("holderIdentity") in (None, ""), "released on SIGTERM"
