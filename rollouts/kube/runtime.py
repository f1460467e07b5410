"""Runs controllers: informers, work queues with N workers, leader election, graceful stop.

A controller here is anything with a `name`, `informers`, `bind(enqueue)` and
`async reconcile(key) -> requeue seconds | None` (see `Controller`); the
manager knows nothing else about it. It starts the informers at once (a
standby replica keeps warm caches and its queue fills with keys, so it can
take over instantly) but only hands keys to workers while it leads.

Stopping (SIGTERM -> `stop()`): stop taking work, let in-flight reconciles
finish (bounded by a grace period), release the Lease, stop the informers.
Losing the Lease is different: another replica may already be acting, so
in-flight reconciles are cancelled at once and `run()` raises
LostLeadershipError (the process should exit, as client-go controllers do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from rollouts.kube.errors import KubeError
from rollouts.kube.informer import Informer, object_key
from rollouts.kube.leaderelection import LeaderElector
from rollouts.kube.workqueue import WorkQueue, run_workers

log = logging.getLogger(__name__)


class Controller(Protocol):
    name: str
    informers: list[Informer]
    """The first one watches the controller's own kind (its keys): a deletion there drops the key's queue state."""

    def bind(self, enqueue: Callable[[str], None]) -> None:
        """Called once before start: register informer handlers that call `enqueue(key)`."""

    def reconcile(self, key: str) -> Awaitable[float | None]:
        """Bring `key` to its desired state; return seconds until the next look, or None."""


def discard_deleted(queue: WorkQueue) -> Callable[[str, dict[str, Any], dict[str, Any] | None], None]:
    """A handler that forgets a deleted object's backoff and timed requeue, so deleted keys leave no state."""

    def handler(event_type: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if event_type == "DELETED":
            queue.discard(object_key(obj))

    return handler


class LostLeadershipError(Exception):
    """The Lease was lost while leading; the process must stop reconciling."""


class Manager:
    def __init__(
        self,
        controllers: list[Controller],
        *,
        workers: int = 10,
        elector: LeaderElector | None = None,
        shutdown_grace_seconds: float = 20.0,
        queue_factory: Callable[[str], WorkQueue] = lambda name: WorkQueue(name=name),
    ) -> None:
        """`queue_factory(name)` makes each controller's queue; the name is the controller's
        `queue_name` if it has one (Argo's: Rollouts, AnalysisRuns, ...), else its `name`."""
        if workers < 1:
            raise ValueError("workers must be at least 1")
        names = [c.name for c in controllers]
        if len(set(names)) != len(names):
            raise ValueError(f"controller names must be unique: {names}")
        self.controllers = controllers
        self.workers = workers
        self.elector = elector
        self.shutdown_grace_seconds = shutdown_grace_seconds
        self.queues = {c.name: queue_factory(getattr(c, "queue_name", c.name)) for c in controllers}
        self.stopping = asyncio.Event()
        self.leading = asyncio.Event()
        for controller in controllers:
            queue = self.queues[controller.name]
            controller.bind(queue.add)
            if controller.informers:
                controller.informers[0].add_handler(discard_deleted(queue))

    @property
    def informers(self) -> list[Informer]:
        unique: dict[int, Informer] = {}
        for controller in self.controllers:
            for informer in controller.informers:
                unique.setdefault(id(informer), informer)
        return list(unique.values())

    @property
    def ready(self) -> bool:
        """Every informer has synced (for /readyz)."""
        return all(informer.has_synced for informer in self.informers)

    def stop(self) -> None:
        """Begin a graceful stop (safe to call from a signal handler, more than once)."""
        self.stopping.set()

    async def run(self) -> None:
        """Run until `stop()`; raises LostLeadershipError if the Lease is lost."""
        informer_tasks = [asyncio.create_task(i.run(), name=f"informer-{i.resource.plural}") for i in self.informers]
        elector_task: asyncio.Task[None] | None = None
        try:
            if not await self._until_stopping(self._wait_synced()):
                return
            log.info("caches synced for %s", ", ".join(c.name for c in self.controllers) or "no controllers")
            if self.elector is not None:
                elector_task = asyncio.create_task(self.elector.run(), name="leader-election")
                if not await self._until_stopping(self.elector.is_leader.wait()):
                    return
            self.leading.set()
            await self._work()
        finally:
            self.leading.clear()
            if elector_task is not None:
                elector_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await elector_task
            if self.elector is not None:
                await self.elector.release()
            for task in informer_tasks:
                task.cancel()
            await asyncio.gather(*informer_tasks, return_exceptions=True)

    async def _wait_synced(self) -> None:
        await asyncio.gather(*(informer.wait_synced() for informer in self.informers))

    async def _until_stopping(self, awaitable: Awaitable[object]) -> bool:
        """Await `awaitable` unless stop() comes first; True if it completed."""
        task = asyncio.ensure_future(awaitable)
        stopping = asyncio.create_task(self.stopping.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not task.done():
                task.cancel()
        if task.done() and not task.cancelled():
            task.result()
            return True
        return False

    async def _work(self) -> None:
        log.info("leading: starting %d workers per controller", self.workers)
        worker_tasks = [
            asyncio.create_task(
                run_workers(self.queues[c.name], c.reconcile, workers=self.workers, on_error=_log_error),
                name=f"workers-{c.name}",
            )
            for c in self.controllers
        ]
        signals = [asyncio.create_task(self.stopping.wait())]
        if self.elector is not None:
            signals.append(asyncio.create_task(self.elector.lost.wait()))
        watched: set[asyncio.Future[Any]] = {*signals, *worker_tasks}  # a crashed worker pool must not go unnoticed
        try:
            await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for signal in signals:
                signal.cancel()
            for queue in self.queues.values():
                queue.shutdown()
        lost = self.elector is not None and self.elector.lost.is_set()
        grace = 0.0 if lost else self.shutdown_grace_seconds
        in_flight = sum(queue.processing for queue in self.queues.values())
        if in_flight and not lost:
            log.info("stopping: waiting up to %.0fs for %d in-flight reconciles", grace, in_flight)
        _done, pending = await asyncio.wait(worker_tasks, timeout=grace) if worker_tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*worker_tasks, return_exceptions=True)
        for task in worker_tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("worker pool %s crashed: %s", task.get_name(), task.exception())
        if lost:
            raise LostLeadershipError("lost the leader election Lease; stopping")


def _log_error(key: str, error: BaseException) -> None:
    # Runs inside the worker, so the log line carries the key's namespace/name.
    # API errors are expected now and then (conflicts, timeouts): one line; anything else: the traceback.
    log.error("reconcile %s failed: %s", key, error, exc_info=None if isinstance(error, KubeError) else error)
