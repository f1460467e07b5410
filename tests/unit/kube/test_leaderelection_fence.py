"""The leader's write fence, on an injected clock: a stalled leader refuses writes before anyone may take over."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from rollouts.kube.errors import ConflictError, NotFoundError, NotLeaderError
from rollouts.kube.leaderelection import LeaderElector
from rollouts.kube.transport import Transport


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class LeaseStore:
    """One Lease in memory with resourceVersion checks: just what LeaderElector asks of a client."""

    def __init__(self, clock: Clock, *, latency: float = 0.0) -> None:
        self.lease: dict[str, Any] | None = None
        self.clock = clock
        self.latency = latency  # clock seconds each call takes

    async def get(self, resource: Any, namespace: str, name: str) -> dict[str, Any]:
        self.clock.now += self.latency
        if self.lease is None:
            raise NotFoundError("no lease", status=404)
        return copy.deepcopy(self.lease)

    async def create(self, resource: Any, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        self.clock.now += self.latency
        if self.lease is not None:
            raise ConflictError("exists", status=409)
        self.lease = {**copy.deepcopy(body), "metadata": {**body["metadata"], "resourceVersion": "1"}}
        return copy.deepcopy(self.lease)

    async def replace(self, resource: Any, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        self.clock.now += self.latency
        assert self.lease is not None
        if body["metadata"]["resourceVersion"] != self.lease["metadata"]["resourceVersion"]:
            raise ConflictError("stale", status=409)
        version = str(int(self.lease["metadata"]["resourceVersion"]) + 1)
        self.lease = {**copy.deepcopy(body), "metadata": {**body["metadata"], "resourceVersion": version}}
        return copy.deepcopy(self.lease)


def elector(store: LeaseStore, clock: Clock, identity: str) -> LeaderElector:
    return LeaderElector(
        store,  # type: ignore[arg-type]
        namespace="ns",
        name="lock",
        identity=identity,
        lease_duration=15.0,
        renew_deadline=10.0,
        retry_period=2.0,
        clock=clock,
    )


def test_a_stalled_leader_stops_writing_before_another_replica_can_take_over() -> None:
    clock = Clock()
    store = LeaseStore(clock, latency=0.5)
    a, b = elector(store, clock, "a"), elector(store, clock, "b")

    async def main() -> None:
        started = clock.now
        assert not a.leading()
        assert await a.try_acquire_or_renew()
        assert a.leading()
        a.check_leading()
        assert not await b.try_acquire_or_renew(), "b saw a's record just now"
        # a's loop stalls: no renewals. The fence is measured from the start of a's last round.
        clock.now = started + 10.0 - 0.001
        a.check_leading()
        clock.now = started + 10.0
        with pytest.raises(NotLeaderError):
            a.check_leading()
        # b may take over only a whole lease duration after it saw a's record: later than a's fence.
        for moment in (started + 10.0, started + 14.0):
            clock.now = moment
            assert not await b.try_acquire_or_renew()
        clock.now = started + 1.5 + 15.0  # b saw a's record when its get answered: started + 1.5
        assert await b.try_acquire_or_renew()
        assert b.leading() and not a.leading()
        # a's stalled renewal now finds b holding the Lease: it stays fenced.
        assert not await a.try_acquire_or_renew()
        assert not a.leading()

    asyncio.run(main())


def test_each_renewal_extends_the_fence_from_when_it_started() -> None:
    clock = Clock()
    store = LeaseStore(clock, latency=3.0)  # a slow API server: the fence counts from the request, not the answer
    a = elector(store, clock, "a")

    async def main() -> None:
        first = clock.now
        assert await a.try_acquire_or_renew()
        assert clock.now == first + 6.0
        second = clock.now
        assert await a.try_acquire_or_renew()
        clock.now = second + 10.0 - 0.001
        assert a.leading()
        clock.now = second + 10.0
        assert not a.leading()

    asyncio.run(main())


def test_a_fenced_transport_refuses_writes_but_not_reads() -> None:
    clock = Clock()
    a = elector(LeaseStore(clock), clock, "a")
    transport = Transport(None).fenced(a.check_leading)  # type: ignore[arg-type]
    assert transport.impersonating("someone").fence is transport.fence

    async def main() -> None:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            with pytest.raises(NotLeaderError):
                await transport.send(method, "/api/v1/namespaces/ns/configmaps")
        with pytest.raises(AttributeError):  # a read goes on to the (absent) connection pool
            await transport.send("GET", "/api/v1/namespaces/ns/configmaps")

    asyncio.run(main())
