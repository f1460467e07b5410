"""A work queue of object keys, like client-go's rate-limited delaying queue.

Semantics controllers rely on:
- de-duplicating: a key waiting to be processed is queued once;
- per-key serialised: a key being processed is not handed to a second worker;
  if it is added meanwhile, it is processed again after (dirty set);
- `add_after(key, delay)`: timed requeues, the earliest wins;
- `add_rate_limited(key)`: exponential backoff per key (Argo's limiter: 1 ms
  doubling, capped at 10 s), reset by `forget(key)` after a success;
- `shutdown()`: workers drain and stop taking work.
Time comes from an injected monotonic clock so tests need not sleep. An
optional `QueueObserver` receives what client-go's workqueue metrics count
(adds, retries, time queued, time worked); depth and in-flight work are read
from the queue itself at scrape time.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from rollouts.kube.logcontext import RECONCILE_KEY


class ShutDownError(Exception):
    """The queue was shut down; workers stop."""


class QueueObserver(Protocol):
    """Receives the events client-go's workqueue metrics are built from."""

    def added(self) -> None: ...

    def retried(self) -> None: ...

    def dequeued(self, waited: float) -> None: ...

    def finished(self, worked: float) -> None: ...


class WorkQueue:
    def __init__(
        self,
        *,
        name: str = "",
        base_delay: float = 0.001,
        max_delay: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        observer: QueueObserver | None = None,
    ) -> None:
        self.name = name
        self.observer = observer
        self._added_at: dict[str, float] = {}
        self.processing_since: dict[str, float] = {}
        """key -> clock time its current reconcile started."""
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._processing: set[str] = set()
        self._dirty: set[str] = set()
        self._failures: dict[str, int] = {}
        self._waiting: list[tuple[float, int, str]] = []
        self._waiting_until: dict[str, float] = {}
        self._counter = itertools.count()
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._clock = clock
        self._signal = asyncio.Event()
        self._shutting_down = False

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: str) -> None:
        if self._shutting_down:
            return
        if key in self._processing:
            self._dirty.add(key)
            return
        if key in self._queued:
            return
        self._queued.add(key)
        self._queue.append(key)
        self._added_at[key] = self._clock()
        if self.observer is not None:
            self.observer.added()
        self._wake()

    def add_after(self, key: str, delay: float) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        due = self._clock() + delay
        current = self._waiting_until.get(key)
        if current is not None and current <= due:
            return  # an earlier requeue is already planned
        self._waiting_until[key] = due
        heapq.heappush(self._waiting, (due, next(self._counter), key))
        self._wake()

    def add_rate_limited(self, key: str) -> None:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        if self.observer is not None:
            self.observer.retried()
        self.add_after(key, min(self._base_delay * (2**failures), self._max_delay))

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def discard(self, key: str) -> None:
        """The key's object is gone: drop its backoff and timed requeue (a queued or running pass still runs)."""
        self._failures.pop(key, None)
        if self._waiting_until.pop(key, None) is not None and len(self._waiting) > 2 * len(self._waiting_until) + 64:
            # Superseded heap entries are normally dropped when due; do not let deleted keys pile up until then.
            self._waiting = [entry for entry in self._waiting if self._waiting_until.get(entry[2]) == entry[0]]
            heapq.heapify(self._waiting)

    def tracked(self) -> set[str]:
        """Every key the queue holds live state for (queued, running, backing off, timed); for tests."""
        return (
            set(self._queued)
            | self._processing
            | self._dirty
            | set(self._failures)
            | set(self._waiting_until)
            | set(self._added_at)
            | set(self.processing_since)
        )

    @property
    def timer_entries(self) -> int:
        """Entries in the timer heap, superseded ones included (bounded: see `discard`)."""
        return len(self._waiting)

    def failures(self, key: str) -> int:
        return self._failures.get(key, 0)

    def _wake(self) -> None:
        self._signal.set()

    def _promote_due(self) -> float | None:
        """Move due timed keys into the queue; return seconds until the next one."""
        now = self._clock()
        while self._waiting:
            due, _, key = self._waiting[0]
            if self._waiting_until.get(key) != due:
                heapq.heappop(self._waiting)  # superseded by an earlier requeue
                continue
            if due > now:
                return due - now
            heapq.heappop(self._waiting)
            del self._waiting_until[key]
            self.add(key)
        return None

    async def get(self) -> str:
        """The next key to process; raises ShutDownError once shut down and drained."""
        while True:
            wait_for = self._promote_due()
            if self._queue:
                key = self._queue.popleft()
                self._queued.discard(key)
                self._processing.add(key)
                now = self._clock()
                self.processing_since[key] = now
                added = self._added_at.pop(key, now)
                if self.observer is not None:
                    self.observer.dequeued(now - added)
                return key
            if self._shutting_down:
                raise ShutDownError()
            # No await between the checks above and clear(): nothing can slip in.
            self._signal.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
            # arrives as the wait ends, and a worker would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_for):
                    await self._signal.wait()

    def done(self, key: str) -> None:
        self._processing.discard(key)
        started = self.processing_since.pop(key, None)
        if started is not None and self.observer is not None:
            self.observer.finished(self._clock() - started)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def shutdown(self) -> None:
        """Stop handing out keys: queued and timed keys are dropped, workers' get() raises ShutDownError.

        Keys being processed finish; `done` on them no longer requeues.
        """
        self._shutting_down = True
        self._dirty.clear()
        self._queue.clear()
        self._queued.clear()
        self._added_at.clear()
        self._waiting.clear()
        self._waiting_until.clear()
        self._wake()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def poke(self) -> None:
        """Re-check timed keys now (for an injected clock that jumped)."""
        self._wake()

    def now(self) -> float:
        return self._clock()

    @property
    def processing(self) -> int:
        return len(self._processing)


async def run_workers(
    queue: WorkQueue,
    reconcile: Callable[[str], Awaitable[float | None]],
    *,
    workers: int,
    on_error: Callable[[str, BaseException], None] | None = None,
) -> None:
    """Run `workers` loops: reconcile(key) -> optional requeue delay; errors back off."""

    async def worker() -> None:
        while True:
            try:
                key = await queue.get()
            except ShutDownError:
                return
            token = RECONCILE_KEY.set(key)
            try:
                requeue = await reconcile(key)
            except asyncio.CancelledError:
                queue.done(key)
                raise
            except Exception as error:
                if on_error is not None:
                    on_error(key, error)
                queue.done(key)
                queue.add_rate_limited(key)
                continue
            finally:
                RECONCILE_KEY.reset(token)
            queue.forget(key)
            queue.done(key)
            if requeue is not None:
                queue.add_after(key, requeue)

    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())
