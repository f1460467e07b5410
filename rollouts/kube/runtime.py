"""Runs controllers: informers, work queues with N workers, leader election, graceful stop.

A controller here is anything with `informers`, `bind(enqueue)` and
`async reconcile(key) -> requeue seconds | None`. The manager starts the
informers at once (a standby replica keeps warm caches) but only hands keys to
workers while it leads. On SIGTERM it stops taking work, lets in-flight
reconciles finish (bounded), and releases the Lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from rollouts.kube.informer import Informer
from rollouts.kube.leaderelection import LeaderElector
from rollouts.kube.workqueue import WorkQueue, run_workers

log = logging.getLogger(__name__)


class Controller(Protocol):
    name: str
    informers: list[Informer]

    def bind(self, enqueue: Callable[[str], None]) -> None: ...

    def reconcile(self, key: str) -> Awaitable[float | None]: ...


class Manager:
    def __init__(
        self,
        controllers: list[Controller],
        *,
        workers: int = 10,
        elector: LeaderElector | None = None,
        shutdown_grace_seconds: float = 20.0,
    ) -> None:
        self.controllers = controllers
        self.workers = workers
        self.elector = elector
        self.shutdown_grace_seconds = shutdown_grace_seconds
        self.queues = {c.name: WorkQueue() for c in controllers}
        self.stopping = asyncio.Event()
        self.ready = False
        for controller in controllers:
            controller.bind(self.queues[controller.name].add)

    async def run(self) -> None:
        informer_tasks = [asyncio.create_task(i.run()) for c in self.controllers for i in c.informers]
        elector_task: asyncio.Task[None] | None = None
        try:
            for controller in self.controllers:
                for informer in controller.informers:
                    await informer.wait_synced()
            self.ready = True
            if self.elector is not None:
                elector_task = asyncio.create_task(self.elector.run())
                leading = asyncio.create_task(self.elector.is_leader.wait())
                stopping = asyncio.create_task(self.stopping.wait())
                await asyncio.wait({leading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                leading.cancel()
                stopping.cancel()
                if self.stopping.is_set():
                    return
            log.info("starting %d workers per controller", self.workers)
            worker_tasks = [
                asyncio.create_task(
                    run_workers(self.queues[c.name], c.reconcile, workers=self.workers, on_error=self._log_error)
                )
                for c in self.controllers
            ]
            waits = [asyncio.create_task(self.stopping.wait())]
            if self.elector is not None:
                waits.append(asyncio.create_task(self.elector.lost.wait()))
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for wait in waits:
                wait.cancel()
            for queue in self.queues.values():
                queue.shutdown()
            _done, pending = await asyncio.wait(worker_tasks, timeout=self.shutdown_grace_seconds)
            for task in pending:
                task.cancel()
            if self.elector is not None and self.elector.lost.is_set():
                raise SystemExit("lost leadership")
        finally:
            for task in informer_tasks:
                task.cancel()
            if elector_task is not None:
                elector_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await elector_task
            if self.elector is not None:
                await self.elector.release()
            await asyncio.gather(*informer_tasks, return_exceptions=True)

    def stop(self) -> None:
        self.stopping.set()

    @staticmethod
    def _log_error(key: str, error: BaseException) -> None:
        log.error("reconcile %s failed: %s", key, error, exc_info=not isinstance(error, Exception) or None)
