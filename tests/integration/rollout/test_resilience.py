"""Crash safety: state lives in the cluster, so a killed controller (or leader) loses nothing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.kinds import ROLLOUTS
from rollouts.kube.resources import LEASES, REPLICASETS
from tests.conftest import ClusterHandle
from tests.kubetest import (
    ControllerProcess,
    Kube,
    healthy_on_new_revision,
    history,
    replicaset_counts,
    rollout_manifest,
    status,
)
from tests.waiting import eventually, until

pytestmark = pytest.mark.integration

STEPS = [{"setWeight": 20}, {"pause": {"duration": "2s"}}, {"setWeight": 60}, {"pause": {"duration": "2s"}}]


def controller(cluster: ClusterHandle, tmp_path: Path, name: str, instance: str, *extra: str) -> ControllerProcess:
    return ControllerProcess(
        kubeconfig=cluster.kubeconfig,
        log_path=tmp_path / f"{name}.log",
        extra_args=[f"--instance-id={instance}", *extra],
    )


def violations(states: list[dict[str, tuple[int, int]]], *, replicas: int, surge: int, unavailable: int) -> list[str]:
    """Every recorded state in which the ReplicaSets broke the surge or availability bound."""
    found: list[str] = []
    for state in states:
        total = sum(spec for spec, _ in state.values())
        available = sum(ready for _, ready in state.values())
        if total > replicas + surge:
            found.append(f"total {total} > {replicas + surge}: {state}")
        if available < replicas - unavailable:
            found.append(f"available {available} < {replicas - unavailable}: {state}")
    return found


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
        # Every state the ReplicaSets went through (the API server's watch), not the ones a poller sampled.
        async with history(kube, REPLICASETS, replicaset_counts, label_selector="app=crash") as replica_sets:
            before = len(replica_sets.states)
            await kube.set_image("crash", "app:v2")
            # Killed at a random point of the update, counted in ReplicaSet changes (not seconds), so
            # how fast the machine is cannot move the point; the update makes well over 10 changes.
            kill_after = random.randint(1, 10)
            await until(lambda: len(replica_sets.states) - before >= kill_after, timeout=60, what="the update begun")
            first.kill()
            # The first controller's writes have all landed before the second starts.
            await replica_sets.caught_up()
            second.start()
            done = await kube.wait("crash", healthy_on_new_revision, what="Healthy after the crash", timeout=90)
            states = [state.value for state in await replica_sets.caught_up()]
        found = violations(states, replicas=8, surge=2, unavailable=2)
        assert found == [], found[:5]
        assert len(states) - before > kill_after, "the update went on after the kill"
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
