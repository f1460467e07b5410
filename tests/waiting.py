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
