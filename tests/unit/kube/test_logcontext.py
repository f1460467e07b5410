"""Every log line written during a reconcile names the object's namespace and name."""

from __future__ import annotations

import asyncio
import io
import logging

import orjson
import pytest

from rollouts.kube.logcontext import JsonFormatter, ReconcileKeyFilter, TextFormatter, configure_logging, split_key
from rollouts.kube.workqueue import WorkQueue, run_workers
from tests.waiting import until


def capture(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ReconcileKeyFilter())
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.logcontext.{id(stream)}")
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, stream


async def test_json_lines_carry_the_key_being_reconciled() -> None:
    logger, stream = capture(JsonFormatter())
    queue = WorkQueue()
    started = 0
    three_in_flight = asyncio.Event()
    finished = 0

    async def reconcile(key: str) -> float | None:
        nonlocal started, finished
        started += 1
        if started == 3:
            three_in_flight.set()
        await three_in_flight.wait()  # interleave the workers: all three are suspended mid-reconcile
        logger.info("working")
        finished += 1
        if key == "prod/bad":
            raise RuntimeError("boom")
        return None

    for key in ("prod/web", "dev/api", "prod/bad", "cluster-scoped"):
        queue.add(key)
    task = asyncio.create_task(run_workers(queue, reconcile, workers=3, on_error=lambda k, e: logger.error("failed")))
    await until(lambda: finished == 4 and queue.processing == 0, what="all four keys reconciled")
    queue.shutdown()
    await asyncio.wait_for(task, 10)
    logger.info("outside")
    records = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    working = {(r["namespace"], r["name"]) for r in records if r["msg"] == "working"}
    assert working == {("prod", "web"), ("dev", "api"), ("prod", "bad"), ("", "cluster-scoped")}
    assert next((r["namespace"], r["name"], r["level"]) for r in records if r["msg"] == "failed") == (
        "prod",
        "bad",
        "error",
    )
    assert [(r["namespace"], r["name"]) for r in records if r["msg"] == "outside"] == [("", "")]


def test_text_lines_end_with_namespace_and_name() -> None:
    logger, stream = capture(TextFormatter("%(levelname)s %(message)s"))
    logger.info("plain")
    logger.info("explicit", extra={"namespace": "ns", "obj_name": "web"})
    assert stream.getvalue().splitlines() == ["INFO plain", "INFO explicit namespace=ns name=web"]


def test_split_key_and_bad_format() -> None:
    assert split_key("a/b") == ("a", "b")
    assert split_key("b") == ("", "b")
    assert split_key(None) == ("", "")
    with pytest.raises(ValueError, match="text or json"):
        configure_logging("yaml")
