"""Work queue semantics: dedup, per-key serialisation, timed requeues, backoff."""

from __future__ import annotations

import asyncio

import pytest

from rollouts.kube.runtime import discard_deleted
from rollouts.kube.workqueue import ShutDownError, WorkQueue, run_workers
from tests.waiting import settle, until


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_dedup_while_queued() -> None:
    queue = WorkQueue()
    queue.add("a")
    queue.add("a")
    queue.add("b")
    assert len(queue) == 2
    assert await queue.get() == "a"
    assert await queue.get() == "b"


async def test_key_added_while_processing_comes_back_once_after_done() -> None:
    queue = WorkQueue()
    queue.add("a")
    key = await queue.get()
    queue.add("a")
    queue.add("a")
    assert len(queue) == 0, "not handed out twice while processing"
    queue.done(key)
    assert len(queue) == 1
    assert await queue.get() == "a"


async def test_add_after_earliest_wins_and_fires_at_due_time() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock=clock)
    queue.add_after("a", 10)
    queue.add_after("a", 3)
    queue.add_after("a", 20)
    clock.now += 2.9
    getter = asyncio.create_task(queue.get())
    await settle()  # the getter is now blocked: 0.1 s are still to go on the queue's clock
    assert not getter.done()
    clock.now += 0.2
    queue.poke()  # the fake clock moved; real time would wake it by timeout
    assert await asyncio.wait_for(getter, 1) == "a"
    queue.done("a")
    clock.now += 100
    queue.poke()
    assert len(queue) == 0
    assert queue._promote_due() is None, "superseded timers do not fire again"
    assert len(queue) == 0


async def test_rate_limited_backoff_doubles_and_forget_resets() -> None:
    clock = FakeClock()
    queue = WorkQueue(base_delay=1.0, max_delay=8.0, clock=clock)
    delays = []
    for _ in range(5):
        queue.add_rate_limited("k")
        delays.append(queue._waiting_until["k"] - clock.now)
        clock.now += delays[-1]
        queue._promote_due()
        assert await queue.get() == "k"
        queue.done("k")
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0]
    queue.forget("k")
    assert queue.failures("k") == 0


async def test_workers_serialise_per_key_and_requeue_errors() -> None:
    queue = WorkQueue(base_delay=0.001)
    running: set[str] = set()
    overlaps = 0
    calls: dict[str, int] = {}
    first_a_started = asyncio.Event()
    release_first_a = asyncio.Event()

    async def reconcile(key: str) -> float | None:
        nonlocal overlaps
        if key in running:
            overlaps += 1
        running.add(key)
        calls[key] = calls.get(key, 0) + 1
        if key == "a" and calls[key] == 1:
            first_a_started.set()
            await release_first_a.wait()  # "a" stays in flight while it is added again
        await settle(3)  # give other workers the chance to (wrongly) pick up the same key
        running.discard(key)
        if key == "flaky" and calls[key] < 3:
            raise RuntimeError("transient")
        return None

    errors: list[str] = []
    task = asyncio.create_task(run_workers(queue, reconcile, workers=4, on_error=lambda key, error: errors.append(key)))
    queue.add("a")
    await asyncio.wait_for(first_a_started.wait(), 10)
    for _ in range(4):
        queue.add("a")
        queue.add("flaky")
        await settle(3)
    await settle()
    assert calls["a"] == 1, "not handed to a second worker while in flight"
    release_first_a.set()
    await until(
        lambda: calls.get("flaky", 0) >= 3 and calls["a"] >= 2 and queue.processing == 0 and len(queue) == 0,
        what="flaky succeeded on its third try, a ran again, the queue is idle",
    )
    queue.shutdown()
    await asyncio.wait_for(task, 10)
    assert overlaps == 0
    assert calls["flaky"] >= 3 and errors.count("flaky") == 2
    assert calls["a"] == 2, "the adds while in flight collapse into one more run"


async def test_shutdown_releases_waiting_workers() -> None:
    queue = WorkQueue()
    getter = asyncio.create_task(queue.get())
    await settle()
    assert not getter.done(), "the getter is waiting for work"
    queue.shutdown()
    with pytest.raises(ShutDownError):
        await asyncio.wait_for(getter, 1)


async def test_timed_keys_come_out_in_due_order_with_real_time() -> None:
    queue = WorkQueue()
    delays = {"late": 0.15, "early": 0.05, "middle": 0.1}
    started = queue.now()  # before the adds: each key is due at least its delay after this
    for key, delay in delays.items():
        queue.add_after(key, delay)
    order = []
    for _ in range(3):
        # Nothing pokes the queue: get() must wake by itself when a key falls due.
        key = await asyncio.wait_for(queue.get(), 30)
        order.append((key, queue.now() - started))
        queue.done(key)
    assert [key for key, _ in order] == ["early", "middle", "late"]
    for key, waited in order:
        assert waited >= delays[key], f"{key} not before it is due"


async def test_a_timed_key_due_while_processing_runs_again_after() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock=clock)
    queue.add("a")
    assert await queue.get() == "a"
    queue.add_after("a", 1)
    clock.now += 2
    queue.poke()
    await settle()
    assert len(queue) == 0, "not handed out while still processing"
    getter = asyncio.create_task(queue.get())
    await settle()
    assert not getter.done()
    queue.done("a")
    assert await asyncio.wait_for(getter, 1) == "a"


async def test_immediate_add_does_not_cancel_a_later_timer_and_dedups() -> None:
    clock = FakeClock()
    queue = WorkQueue(clock=clock)
    queue.add_after("a", 5)
    queue.add("a")
    queue.add("a")
    assert await queue.get() == "a"
    queue.done("a")
    clock.now += 5
    queue.poke()
    assert await asyncio.wait_for(queue.get(), 1) == "a", "the timed requeue still fires (level-triggered)"


async def test_backoff_is_capped_and_per_key() -> None:
    clock = FakeClock()
    queue = WorkQueue(base_delay=0.005, max_delay=1.0, clock=clock)
    for _ in range(20):
        queue.add_rate_limited("x")
    queue.add_rate_limited("y")
    assert queue.failures("x") == 20
    assert queue._waiting_until["x"] - clock.now == pytest.approx(0.005), "earliest timer kept"
    queue.forget("x")
    queue.add_rate_limited("x")
    assert queue.failures("x") == 1 and queue.failures("y") == 1


async def test_reconcile_requeue_delay_and_forget_on_success() -> None:
    queue = WorkQueue(base_delay=0.001)
    calls: list[str] = []

    async def reconcile(key: str) -> float | None:
        calls.append(key)
        if len(calls) == 1:
            raise RuntimeError("first attempt fails")
        return 0.02 if len(calls) == 2 else None

    task = asyncio.create_task(run_workers(queue, reconcile, workers=1))
    queue.add("k")
    await until(lambda: len(calls) >= 3 and queue.processing == 0, what="three reconciles, the last one finished")
    assert calls == ["k", "k", "k"], "error -> backoff retry -> success asking for a requeue -> requeue"
    assert queue.failures("k") == 0, "a success forgets the failures"
    queue.shutdown()
    await asyncio.wait_for(task, 10)


async def test_shutdown_drops_pending_work_but_lets_in_flight_finish() -> None:
    queue = WorkQueue()
    started = asyncio.Event()
    release = asyncio.Event()
    finished: list[str] = []

    async def reconcile(key: str) -> float | None:
        started.set()
        await release.wait()
        finished.append(key)
        return None

    task = asyncio.create_task(run_workers(queue, reconcile, workers=1))
    queue.add("in-flight")
    await asyncio.wait_for(started.wait(), 10)
    queue.add("queued")
    queue.add("in-flight")  # dirty: would run again
    queue.add_after("timed", 0.01)
    queue.shutdown()
    queue.add("after-shutdown")
    release.set()
    await asyncio.wait_for(task, 10)
    assert finished == ["in-flight"]


async def test_n_workers_run_distinct_keys_concurrently() -> None:
    queue = WorkQueue()
    running = 0
    peak = 0
    finished = 0
    release = asyncio.Event()

    async def reconcile(key: str) -> float | None:
        nonlocal running, peak, finished
        running += 1
        peak = max(peak, running)
        await release.wait()  # held in flight until four of them are running together
        running -= 1
        finished += 1
        return None

    for index in range(8):
        queue.add(f"k{index}")
    task = asyncio.create_task(run_workers(queue, reconcile, workers=4))
    await until(lambda: running == 4, what="four reconciles in flight at once")
    await settle()
    assert running == 4 and len(queue) == 4, "no fifth worker: the other keys wait"
    release.set()
    await until(lambda: finished == 8, what="all eight keys reconciled")
    queue.shutdown()
    await asyncio.wait_for(task, 10)
    assert peak == 4


async def test_a_deleted_key_leaves_no_backoff_or_timer_behind() -> None:
    clock = FakeClock()
    queue = WorkQueue(base_delay=1.0, max_delay=8.0, clock=clock)
    queue.add_rate_limited("ns/failing")
    queue.add_after("ns/timed", 3600)
    queue.add_after("ns/kept", 60)
    assert queue.tracked() == {"ns/failing", "ns/timed", "ns/kept"}
    handler = discard_deleted(queue)
    handler("MODIFIED", {"metadata": {"namespace": "ns", "name": "timed"}}, None)
    assert queue.tracked() == {"ns/failing", "ns/timed", "ns/kept"}, "only a deletion discards"
    handler("DELETED", {"metadata": {"namespace": "ns", "name": "failing"}}, None)
    handler("DELETED", {"metadata": {"namespace": "ns", "name": "timed"}}, None)
    assert queue.tracked() == {"ns/kept"}
    assert queue.failures("ns/failing") == 0
    clock.now += 3600
    queue.poke()
    assert await asyncio.wait_for(queue.get(), 1) == "ns/kept", "discarded timers never fire"
    queue.done("ns/kept")
    assert queue.tracked() == set()


async def test_discarded_timers_do_not_pile_up_in_the_heap() -> None:
    queue = WorkQueue(clock=FakeClock())
    for n in range(1000):
        queue.add_after(f"ns/{n}", 3600)
    for n in range(1000):
        queue.discard(f"ns/{n}")
    assert queue.tracked() == set()
    assert queue.timer_entries <= 64, "superseded entries are compacted, not kept until due"
