"""The Prometheus provider against a real Prometheus server scraping a fake app on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rollouts.analysis.providers.prometheus import PrometheusProvider
from rollouts.api.analysis import AnalysisRun, Measurement, Metric
from rollouts.devcluster.prometheus import FakeAppMetrics, LocalPrometheus
from tests.waiting import eventually

pytestmark = pytest.mark.integration

RUN = AnalysisRun.model_validate({"metadata": {"name": "r", "namespace": "ns"}})
ERROR_RATIO = (
    'sum(rate(http_requests_total{service="demo",code="500"}[5s])) / sum(rate(http_requests_total{service="demo"}[5s]))'
)


@pytest.fixture(scope="module")
def prometheus() -> Iterator[tuple[LocalPrometheus, FakeAppMetrics]]:
    app = FakeAppMetrics(rate=200.0, error_ratio=0.0)
    app.start()
    with LocalPrometheus(targets=[app.target]) as server:
        yield server, app
    app.stop()


def metric(address: str, query: str, **fields: Any) -> Metric:
    return Metric.model_validate(
        {"name": "m", **fields, "provider": {"prometheus": {"address": address, "query": query}}}
    )


async def measure(m: Metric) -> Measurement:
    return await PrometheusProvider().run(RUN, m)


async def test_error_ratio_vector_turns_from_good_to_bad(
    prometheus: tuple[LocalPrometheus, FakeAppMetrics],
) -> None:
    server, app = prometheus
    good = metric(server.url, ERROR_RATIO, successCondition="result[0] < 0.05")
    first = await eventually(lambda: measure(good), lambda m: m.phase == "Successful", timeout=60)
    assert first.value is not None and first.value.startswith("[")
    app.set_error_ratio(0.5)
    bad = await eventually(lambda: measure(good), lambda m: m.phase == "Failed", timeout=60)
    assert bad.finished_at is not None
    app.set_error_ratio(0.0)


async def test_scalar_and_empty_vector(prometheus: tuple[LocalPrometheus, FakeAppMetrics]) -> None:
    server, _ = prometheus
    scalar = await measure(metric(server.url, "scalar(vector(0.25))", successCondition="result == 0.25"))
    assert (scalar.phase, scalar.value) == ("Successful", "0.25")
    empty = await measure(
        metric(server.url, "no_such_metric_at_all", successCondition="len(result) == 0 || result[0] < 1")
    )
    assert (empty.phase, empty.value) == ("Successful", "[]")
    nan = await measure(metric(server.url, "scalar(vector(0) / 0)", successCondition="isNaN(result)"))
    assert (nan.phase, nan.value) == ("Successful", "NaN")


async def test_bad_promql_is_an_error(prometheus: tuple[LocalPrometheus, FakeAppMetrics]) -> None:
    server, _ = prometheus
    measurement = await measure(metric(server.url, "sum(rate(", successCondition="true"))
    assert measurement.phase == "Error"
    assert measurement.message and "400" in measurement.message


async def test_range_query(prometheus: tuple[LocalPrometheus, FakeAppMetrics]) -> None:
    server, _ = prometheus
    m = Metric.model_validate(
        {
            "name": "range",
            "successCondition": "len(result) >= 2 && all(result, {# == 1})",
            "provider": {
                "prometheus": {
                    "address": server.url,
                    "query": "vector(1)",
                    "rangeQuery": {"start": 'now() - duration("30s")', "end": "now()", "step": "10s"},
                }
            },
        }
    )
    measurement = await measure(m)
    assert measurement.phase == "Successful", measurement.message
    assert measurement.value is not None and measurement.value.startswith("[1,1")
