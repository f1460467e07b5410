"""The real Prometheus of the e2e tests scrapes the fake app and answers PromQL over it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from rollouts.devcluster.prometheus import FakeAppMetrics, LocalPrometheus

pytestmark = pytest.mark.integration

ERROR_RATIO = (
    'sum(rate(http_requests_total{service="demo",code="500"}[5s])) / sum(rate(http_requests_total{service="demo"}[5s]))'
)


@pytest.fixture
def app() -> Iterator[FakeAppMetrics]:
    metrics = FakeAppMetrics(rate=200.0, error_ratio=0.0)
    metrics.start()
    yield metrics
    metrics.stop()


def query(prometheus: LocalPrometheus) -> list[float]:
    body = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": ERROR_RATIO}).json()
    assert body["status"] == "success"
    return [float(sample["value"][1]) for sample in body["data"]["result"]]


def wait_for(prometheus: LocalPrometheus, predicate: object, timeout: float = 30) -> list[float]:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    values: list[float] = []
    while time.monotonic() < deadline:
        values = query(prometheus)
        if predicate(values):
            return values
        time.sleep(0.5)
    raise AssertionError(f"error ratio never matched; last {values}")


def test_error_ratio_follows_the_app(app: FakeAppMetrics) -> None:
    with LocalPrometheus(targets=[app.target]) as prometheus:
        wait_for(prometheus, lambda v: len(v) == 1 and v[0] < 0.01)
        app.set_error_ratio(0.5)
        values = wait_for(prometheus, lambda v: len(v) == 1 and v[0] > 0.3)
        assert values[0] <= 0.55
    # Stopped: nothing listens on its port any more.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{prometheus.url}/-/ready", timeout=2)
