"""Bounded waiting for tests: retry an async probe until it holds or time runs out.

Tests observe a system that converges (controllers, kwok), so they wait for a
condition rather than sleeping a fixed time. Every wait is bounded; a timeout
fails with the last value seen so the failure says what state things were in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    predicate: Callable[[T], bool] = bool,
    *,
    timeout: float = 60.0,
    interval: float = 0.25,
    what: str = "condition",
) -> T:
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = await probe()
            last = value
            if predicate(value):
                return value
        except Exception as error:  # a probe may fail while things start
            last = error
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last seen: {last!r}")
        await asyncio.sleep(interval)


async def until(predicate: Callable[[], bool], *, timeout: float = 30.0, what: str = "condition") -> None:
    """Wait for an in-process state (a predicate over test variables) to hold, bounded by `timeout`.

    For unit tests whose subject runs as asyncio tasks: the wait ends on the state,
    so a slow machine only makes it take longer, never changes the outcome.
    """
    await eventually(_now(predicate), timeout=timeout, interval=0.001, what=what)


def _now(predicate: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return predicate()

    return probe


async def settle(rounds: int = 50) -> None:
    """Let every ready asyncio task run until it blocks, without letting real time matter.

    Yields to the event loop `rounds` times (no timer involved): a task that was
    just created, or whose awaited event was just set, reaches its next blocking
    await. Use it before asserting that something has NOT happened yet, instead
    of sleeping and hoping the machine was fast enough.
    """
    for _ in range(rounds):
        await asyncio.sleep(0)
