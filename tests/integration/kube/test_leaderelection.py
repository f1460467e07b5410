"""Leader election on a real Lease: one leader, takeover after a crash, release, stepping down."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotLeaderError
from rollouts.kube.leaderelection import LeaderElector
from rollouts.kube.resources import CONFIGMAPS, LEASES
from tests.kubetest import Kube, history
from tests.waiting import eventually, until

pytestmark = pytest.mark.integration

TIMINGS = {"lease_duration": 2.0, "renew_deadline": 1.5, "retry_period": 0.2}


@dataclass
class Round:
    """One election round as the candidate ran it: when it began and ended (wall clock), and if it won."""

    began: datetime
    ended: datetime | None = None
    won: bool | None = None


class CountingElector(LeaderElector):
    """Records every round, so tests wait for rounds (the election's own pace), not for seconds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rounds: list[Round] = []

    async def try_acquire_or_renew(self) -> bool:
        entry = Round(datetime.now(UTC))
        self.rounds.append(entry)
        won = await super().try_acquire_or_renew()
        entry.ended, entry.won = datetime.now(UTC), won
        return won

    def finished(self) -> int:
        return sum(1 for entry in self.rounds if entry.won is not None)


def elector(client: KubeClient, namespace: str, identity: str, log: list[str]) -> CountingElector:
    return CountingElector(
        client,
        namespace=namespace,
        name="lock",
        identity=identity,
        on_started_leading=lambda: log.append(f"{identity} started"),
        on_stopped_leading=lambda: log.append(f"{identity} stopped"),
        **TIMINGS,
    )


def lease_record(leases: dict[str, dict[str, Any]]) -> tuple[str, str, str, int] | None:
    """A History projection of the Lease "lock": (holder, acquireTime, renewTime, leaseTransitions)."""
    lease = leases.get("lock")
    if lease is None:
        return None
    spec = lease["spec"]
    return (
        spec.get("holderIdentity") or "",
        spec.get("acquireTime") or "",
        spec.get("renewTime") or "",
        int(spec.get("leaseTransitions") or 0),
    )


def micro_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


async def more_rounds(count: int, *electors: CountingElector) -> None:
    """Wait until each elector has finished `count` more rounds than it has now."""
    targets = [(e, e.finished() + count) for e in electors]
    await until(lambda: all(e.finished() >= target for e, target in targets), what=f"{count} more election rounds")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _wait_leader(*electors: CountingElector) -> CountingElector:
    done, pending = await asyncio.wait(
        [asyncio.create_task(e.is_leader.wait()) for e in electors], timeout=15, return_when=asyncio.FIRST_COMPLETED
    )
    for task in pending:
        task.cancel()
    assert done, "nobody became leader"
    leaders = [e for e in electors if e.is_leader.is_set()]
    assert len(leaders) == 1, [e.identity for e in leaders]
    return leaders[0]


async def test_one_leader_and_takeover_within_the_lease_duration_after_a_crash(
    kube_client: KubeClient, namespace: str
) -> None:
    log: list[str] = []
    a, b = elector(kube_client, namespace, "a", log), elector(kube_client, namespace, "b", log)
    tasks = {a: asyncio.create_task(a.run()), b: asyncio.create_task(b.run())}
    try:
        leader = await _wait_leader(a, b)
        follower = b if leader is a else a
        # Over several rounds of both (not seconds: a slow machine only makes them longer), the follower
        # never wins one and never starts leading.
        await more_rounds(10, leader, follower)
        assert not any(entry.won for entry in follower.rounds), "the follower never won a round"
        assert not follower.is_leader.is_set() and f"{follower.identity} started" not in log
        lease = await kube_client.get(LEASES, namespace, "lock")
        assert lease["spec"]["holderIdentity"] == leader.identity
        assert lease["spec"]["leaseDurationSeconds"] == 2
        renewed = lease["spec"]["renewTime"]
        await eventually(
            lambda: kube_client.get(LEASES, namespace, "lock"),
            lambda obj: obj["spec"]["renewTime"] != renewed and obj["spec"]["holderIdentity"] == leader.identity,
            what="the leader renewing",
        )

        # A crash: the leader stops renewing and does not release. Every state of the Lease is recorded,
        # including a renewal whose answer the crash cut off.
        async with history(Kube(kube_client, namespace), LEASES, lease_record) as leases:
            await stop(tasks[leader])
            await asyncio.wait_for(follower.is_leader.wait(), timeout=30)
            records = [state.value for state in await leases.caught_up()]
        last_renewal = micro_time(next(r for r in reversed(records) if r and r[0] == leader.identity)[2])
        taken = next(r for r in records if r and r[0] == follower.identity)
        assert taken[3] == 1, f"one transition: {taken}"
        winning = next(entry for entry in follower.rounds if entry.won)
        assert winning.ended is not None
        # Not before the lease ran out: the follower's winning round ended a full lease duration after
        # the leader's last renewal began (exact: the follower counts from when it saw that record).
        waited = (winning.ended - last_renewal).total_seconds()
        assert waited >= TIMINGS["lease_duration"], f"took over {waited:.2f}s after the last renewal"
        # And at the first round it could: the follower's rounds begun after that renewal are paced by
        # the retry period, so it takes over by round duration/retry + 2 (one round may have read the
        # record before, one to see it, then a lease duration of retry periods). A slower machine has
        # fewer rounds in that time, never more.
        after = [entry for entry in follower.rounds if entry.began > last_renewal]
        limit = math.ceil(TIMINGS["lease_duration"] / TIMINGS["retry_period"]) + 2
        assert after.index(winning) + 1 <= limit, f"took {after.index(winning) + 1} rounds after the lease ran out"
        lease = await kube_client.get(LEASES, namespace, "lock")
        assert lease["spec"]["holderIdentity"] == follower.identity
        assert lease["spec"]["leaseTransitions"] == 1
        assert f"{follower.identity} started" in log
    finally:
        for task in tasks.values():
            await stop(task)


async def test_release_hands_over_at_once(kube_client: KubeClient, namespace: str) -> None:
    log: list[str] = []
    first = elector(kube_client, namespace, "first", log)
    first_task = asyncio.create_task(first.run())
    await asyncio.wait_for(first.is_leader.wait(), timeout=10)
    second = elector(kube_client, namespace, "second", log)
    second_task = asyncio.create_task(second.run())
    try:
        await more_rounds(3, second)
        assert not second.is_leader.is_set() and not any(entry.won for entry in second.rounds)
        await stop(first_task)
        await first.release()
        released = len(second.rounds)  # rounds begun from here on read the released Lease
        assert not first.is_leader.is_set()
        assert log[-1] == "first stopped"
        await asyncio.wait_for(second.is_leader.wait(), timeout=10)
        # No need to wait the lease out: the round in flight at the release or the next one wins.
        winner = next(index for index, entry in enumerate(second.rounds) if entry.won)
        assert winner <= released, f"won at round {winner}, the release was before round {released}"
    finally:
        await stop(first_task)
        await stop(second_task)


async def test_a_leader_that_sees_another_holder_steps_down(kube_client: KubeClient, namespace: str) -> None:
    log: list[str] = []
    leader = elector(kube_client, namespace, "old", log)
    task = asyncio.create_task(leader.run())
    try:
        await asyncio.wait_for(leader.is_leader.wait(), timeout=10)
        # Someone else takes the Lease (e.g. after this process was paused past the lease).
        lease = await kube_client.get(LEASES, namespace, "lock")
        lease["spec"]["holderIdentity"] = "usurper"
        lease["spec"]["leaseDurationSeconds"] = 60
        await kube_client.replace(LEASES, namespace, "lock", lease)
        await asyncio.wait_for(leader.lost.wait(), timeout=5)
        assert not leader.is_leader.is_set()
        assert log == ["old started", "old stopped"]
        await asyncio.wait_for(task, timeout=1)  # run() returns once leadership is lost
        await leader.release()
        assert (await kube_client.get(LEASES, namespace, "lock"))["spec"]["holderIdentity"] == "usurper"
    finally:
        await stop(task)


async def test_only_one_of_many_candidates_wins_a_fresh_lease(kube_client: KubeClient, namespace: str) -> None:
    log: list[str] = []
    candidates = [elector(kube_client, namespace, f"c{i}", log) for i in range(5)]
    tasks = [asyncio.create_task(c.run()) for c in candidates]
    try:
        await eventually(
            lambda: _count([c for c in candidates if c.is_leader.is_set()]), lambda n: n >= 1, what="a leader"
        )
        await more_rounds(5, *candidates)  # every candidate has tried again since
        assert sum(c.is_leader.is_set() for c in candidates) == 1
        assert len([entry for entry in log if entry.endswith("started")]) == 1
        winners = {c.identity for c in candidates if any(entry.won for entry in c.rounds)}
        assert len(winners) == 1, f"only the leader ever won a round: {winners}"
    finally:
        for task in tasks:
            await stop(task)


def test_timings_must_be_ordered_like_client_go() -> None:
    with pytest.raises(ValueError, match="lease_duration > renew_deadline"):
        LeaderElector(None, namespace="n", name="l", identity="i", lease_duration=5, renew_deadline=6)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="identity"):
        LeaderElector(None, namespace="n", name="l", identity="")  # type: ignore[arg-type]


async def _count(items: list[object]) -> int:
    return len(items)


class StallableElector(LeaderElector):
    """Misses every renewal while `stalled` is set, as a replica whose loop is starved would."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stalled = asyncio.Event()

    async def try_acquire_or_renew(self) -> bool:
        if self.stalled.is_set():
            await asyncio.Event().wait()  # never answers; the election loop's own deadline ends the round
        return await super().try_acquire_or_renew()


async def test_a_leader_that_misses_its_renewals_stops_writing_before_another_takes_over(
    kube_client: KubeClient, namespace: str
) -> None:
    timings = {"lease_duration": 4.0, "renew_deadline": 2.0, "retry_period": 0.3}
    b_started: list[tuple[float, bool]] = []  # (when, a still leading then)
    a = StallableElector(kube_client, namespace=namespace, name="lock", identity="a", **timings)
    b = LeaderElector(
        kube_client,
        namespace=namespace,
        name="lock",
        identity="b",
        on_started_leading=lambda: b_started.append((time.monotonic(), a.leading())),
        **timings,
    )
    a_client = kube_client.fenced(a.check_leading)  # what a's controllers write with
    await kube_client.create(CONFIGMAPS, namespace, {"metadata": {"name": "written"}, "data": {}})
    a_writes: list[float] = []  # when each write a sent was let through its fence
    a_refused: list[float] = []
    a_task = asyncio.create_task(a.run())
    await asyncio.wait_for(a.is_leader.wait(), timeout=15)
    b_task = asyncio.create_task(b.run())

    async def write_forever() -> None:
        count = 0
        while True:
            count += 1
            sent = time.monotonic()
            try:
                await a_client.patch(CONFIGMAPS, namespace, "written", {"data": {"n": str(count)}})
                a_writes.append(sent)
            except NotLeaderError:
                a_refused.append(sent)
            await asyncio.sleep(0.05)

    writer = asyncio.create_task(write_forever())
    try:
        await eventually(lambda: _value(len(a_writes)), lambda n: n >= 3, what="a writing while it leads")
        a.stalled.set()
        await asyncio.wait_for(b.is_leader.wait(), timeout=20)
        await eventually(lambda: _value(len(b_started)), what="b's start recorded")
        b_at, a_leading_then = b_started[0]
        assert not a_leading_then, "a's fence had closed before b took over"
        assert a_writes and max(a_writes) < b_at, "no write of a was sent after b started"
        await eventually(lambda: _value(a_refused), lambda r: bool(r) and max(r) > b_at, what="a refused after b")
        with pytest.raises(NotLeaderError):
            await a_client.patch(CONFIGMAPS, namespace, "written", {"data": {"n": "late"}})
        lease = await kube_client.get(LEASES, namespace, "lock")
        assert lease["spec"]["holderIdentity"] == "b"
    finally:
        for task in (writer, a_task, b_task):
            await stop(task)


async def _value(value: Any) -> Any:
    return value
