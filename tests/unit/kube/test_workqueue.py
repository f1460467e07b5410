"""Work queue semantics: dedup, per-key serialisation, timed requeues, backoff."""

from __future__ import annotations

import asyncio

import pytest

from rollouts.kube.workqueue import ShutDownError, WorkQueue, run_workers


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
    await asyncio.sleep(0.01)
    assert not getter.done()
    clock.now += 0.2
    queue._wake()  # the fake clock moved; real time would wake it by timeout
    assert await asyncio.wait_for(getter, 1) == "a"
    queue.done("a")
    clock.now += 100
    queue._wake()
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

    async def reconcile(key: str) -> float | None:
        nonlocal overlaps
        if key in running:
            overlaps += 1
        running.add(key)
        calls[key] = calls.get(key, 0) + 1
        await asyncio.sleep(0.01)
        running.discard(key)
        if key == "flaky" and calls[key] < 3:
            raise RuntimeError("transient")
        return None

    errors: list[str] = []
    task = asyncio.create_task(run_workers(queue, reconcile, workers=4, on_error=lambda key, error: errors.append(key)))
    for _ in range(5):
        queue.add("a")
        queue.add("flaky")
        await asyncio.sleep(0.003)
    await asyncio.sleep(0.3)
    queue.shutdown()
    await asyncio.wait_for(task, 2)
    assert overlaps == 0
    assert calls["flaky"] >= 3 and errors.count("flaky") == 2
    assert 1 <= calls["a"] <= 5


async def test_shutdown_releases_waiting_workers() -> None:
    queue = WorkQueue()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    queue.shutdown()
    with pytest.raises(ShutDownError):
        await asyncio.wait_for(getter, 1)
