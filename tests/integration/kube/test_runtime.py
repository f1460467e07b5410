"""The controller manager on a real API server, with a small ConfigMap controller.

The controller copies `data.want` into the annotation `observed` (a level-
triggered reconcile), so a test can see which keys were reconciled, by whom,
and whether in-flight work finished on stop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFoundError
from rollouts.kube.informer import Informer, object_key
from rollouts.kube.leaderelection import LeaderElector
from rollouts.kube.resources import CONFIGMAPS, LEASES
from rollouts.kube.runtime import LostLeadershipError, Manager
from tests.waiting import eventually, settle, until

pytestmark = pytest.mark.integration


class CopyController:
    name = "copy"

    def __init__(self, client: KubeClient, namespace: str, *, delay: float = 0.0, tag: str = "") -> None:
        self.client = client
        self.namespace = namespace
        self.delay = delay
        self.tag = tag
        self.configmaps = Informer(client, CONFIGMAPS, namespace=namespace, label_selector="test=copy")
        self.informers = [self.configmaps]
        self.started: list[str] = []
        self.finished: list[str] = []
        self.running = 0
        self.max_running = 0

    def bind(self, enqueue: Callable[[str], None]) -> None:
        self.configmaps.add_handler(lambda event, obj, old: enqueue(object_key(obj)))

    async def reconcile(self, key: str) -> float | None:
        self.started.append(key)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            obj = self.configmaps.get_by_key(key)
            if obj is None:
                return None
            await asyncio.sleep(self.delay)
            want = (obj.get("data") or {}).get("want", "")
            if (obj["metadata"].get("annotations") or {}).get("observed") != f"{self.tag}{want}":
                namespace, name = key.split("/")
                with contextlib.suppress(NotFoundError):
                    await self.client.patch(
                        CONFIGMAPS, namespace, name, {"metadata": {"annotations": {"observed": f"{self.tag}{want}"}}}
                    )
            self.finished.append(key)
            return None
        finally:
            self.running -= 1


def configmap(name: str, want: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"test": "copy"}}, "data": {"want": want}}


async def observed(client: KubeClient, namespace: str, name: str) -> str | None:
    obj = await client.get(CONFIGMAPS, namespace, name)
    return (obj["metadata"].get("annotations") or {}).get("observed")


async def test_reconciles_every_object_with_n_workers_and_stops_cleanly(
    kube_client: KubeClient, namespace: str
) -> None:
    for index in range(6):
        await kube_client.create(CONFIGMAPS, namespace, configmap(f"cm-{index}", "v1"))
    controller = CopyController(kube_client, namespace, delay=0.3)
    manager = Manager([controller], workers=3)  # type: ignore[list-item]
    run = asyncio.create_task(manager.run())
    try:
        for index in range(6):
            await eventually(lambda i=index: observed(kube_client, namespace, f"cm-{i}"), lambda v: v == "v1")
        assert manager.ready
        assert controller.max_running == 3, "three workers ran in parallel"
        await kube_client.patch(CONFIGMAPS, namespace, "cm-0", {"data": {"want": "v2"}})
        await eventually(lambda: observed(kube_client, namespace, "cm-0"), lambda v: v == "v2", what="an update")
    finally:
        manager.stop()
        await asyncio.wait_for(run, 10)
    assert all(task.done() for task in asyncio.all_tasks() if task.get_name().startswith("informer-configmaps"))


async def test_stop_lets_in_flight_reconciles_finish_and_releases_the_lease(
    kube_client: KubeClient, namespace: str
) -> None:
    controller = CopyController(kube_client, namespace, delay=1.0)
    elector = LeaderElector(
        kube_client,
        namespace=namespace,
        name="lock",
        identity="me",
        lease_duration=4,
        renew_deadline=3,
        retry_period=0.5,
    )
    manager = Manager([controller], workers=2, elector=elector, shutdown_grace_seconds=10)  # type: ignore[list-item]
    run = asyncio.create_task(manager.run())
    try:
        await asyncio.wait_for(manager.leading.wait(), 15)
        await kube_client.create(CONFIGMAPS, namespace, configmap("slow", "done"))
        await eventually(lambda: _value(controller.started), lambda s: f"{namespace}/slow" in s, what="work started")
    finally:
        manager.stop()  # while the reconcile sleeps
        await asyncio.wait_for(run, 15)
    assert f"{namespace}/slow" in controller.finished, "the in-flight reconcile finished"
    assert await observed(kube_client, namespace, "slow") == "done"
    lease = await kube_client.get(LEASES, namespace, "lock")
    assert lease["spec"]["holderIdentity"] == "", "the lease is released on stop"


async def test_a_standby_does_not_reconcile_until_it_leads(kube_client: KubeClient, namespace: str) -> None:
    await kube_client.create(CONFIGMAPS, namespace, configmap("shared", "x"))
    timings = {"lease_duration": 3.0, "renew_deadline": 2.0, "retry_period": 0.3}
    managers, controllers, electors, runs = [], [], [], []
    for tag in ("a:", "b:"):
        controller = CopyController(kube_client, namespace, tag=tag)
        elector = LeaderElector(kube_client, namespace=namespace, name="lock", identity=tag, **timings)
        electors.append(elector)
        managers.append(Manager([controller], workers=1, elector=elector))  # type: ignore[list-item]
        controllers.append(controller)
    runs = [asyncio.create_task(m.run()) for m in managers]
    try:
        value = await eventually(lambda: observed(kube_client, namespace, "shared"), lambda v: v in ("a:x", "b:x"))
        first = 0 if value == "a:x" else 1
        other = 1 - first
        # A later point than any reconcile the standby could have begun: its cache holds the leader's
        # write (so it had the object and its events long before), its elector has seen the leader,
        # and every task it could have woken has run.
        standby = controllers[other].configmaps
        await eventually(
            lambda: _value(standby.get(namespace, "shared")),
            lambda obj: (obj or {}).get("metadata", {}).get("annotations", {}).get("observed") == value,
            what="the standby's cache has the leader's write",
        )
        leader = electors[first].identity
        await until(lambda: electors[other].observed_leader == leader, what="the standby sees the leader")
        await settle()
        assert controllers[other].started == [], "the standby reconciled nothing"
        assert controllers[other].configmaps.get(namespace, "shared") is not None, "but keeps a warm cache"
        # The leader stops gracefully; the standby takes over and reconciles what is queued.
        managers[first].stop()
        await asyncio.wait_for(runs[first], 10)
        await kube_client.patch(CONFIGMAPS, namespace, "shared", {"data": {"want": "y"}})
        expected = ("a:" if other == 0 else "b:") + "y"
        await eventually(lambda: observed(kube_client, namespace, "shared"), lambda v: v == expected, timeout=15)
    finally:
        for manager in managers:
            manager.stop()
        await asyncio.wait_for(asyncio.gather(*runs, return_exceptions=True), 15)


async def test_losing_the_lease_cancels_work_and_raises(kube_client: KubeClient, namespace: str) -> None:
    controller = CopyController(kube_client, namespace, delay=30)
    elector = LeaderElector(
        kube_client,
        namespace=namespace,
        name="lock",
        identity="me",
        lease_duration=3,
        renew_deadline=2,
        retry_period=0.2,
    )
    manager = Manager([controller], workers=1, elector=elector)  # type: ignore[list-item]
    run = asyncio.create_task(manager.run())
    await asyncio.wait_for(manager.leading.wait(), 15)
    await kube_client.create(CONFIGMAPS, namespace, configmap("stuck", "x"))
    await eventually(lambda: _value(controller.started), bool, what="work started")
    lease = await kube_client.get(LEASES, namespace, "lock")
    lease["spec"]["holderIdentity"] = "someone-else"
    await kube_client.replace(LEASES, namespace, "lock", lease)
    with pytest.raises(LostLeadershipError):
        await asyncio.wait_for(run, 10)
    assert controller.finished == [], "the in-flight reconcile was cancelled, not finished"
    assert controller.running == 0


async def test_stop_before_caches_sync_returns_promptly(kube_client: KubeClient, namespace: str) -> None:
    from rollouts.api.resource import Resource

    controller = CopyController(kube_client, namespace)
    # A kind the server does not serve: the informer retries with backoff and never syncs.
    controller.configmaps = Informer(kube_client, Resource("example.invalid", "v1", "nothings", "Nothing"))
    controller.informers = [controller.configmaps]
    manager = Manager([controller], workers=1)  # type: ignore[list-item]
    lists = kube_client.request_counts[("list", "nothings")]
    run = asyncio.create_task(manager.run())
    # Two lists failed (one retry after a backoff): the informer is retrying, not about to sync.
    await eventually(
        lambda: _value(kube_client.request_counts[("list", "nothings")]),
        lambda n: n >= lists + 2,
        what="the informer retrying its list",
    )
    assert not manager.ready
    manager.stop()
    await asyncio.wait_for(run, 5)


async def _value(value: Any) -> Any:
    return value
