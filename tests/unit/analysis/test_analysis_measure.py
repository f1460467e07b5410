"""A whole AnalysisRun reconciled step by step (fake clock) against a real loopback web server."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.analysis.measure import reconcile_measurements
from rollouts.analysis.providers.base import MetricProvider
from rollouts.analysis.providers.registry import new_provider
from rollouts.api.analysis import AnalysisRun, Measurement, Metric
from tests.unit.analysis.conftest import LocalServer, Reply

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(now: datetime) -> Callable[[Metric], MetricProvider]:
    """Providers on the same fake clock as the plan."""
    return lambda metric: new_provider(metric, clock=lambda: now)


def web_run(server: LocalServer, **metric: Any) -> AnalysisRun:
    return AnalysisRun.model_validate(
        {
            "metadata": {"name": "r", "namespace": "ns"},
            "spec": {
                "args": [{"name": "path", "value": "rate"}],
                "metrics": [
                    {
                        "name": "rate",
                        "provider": {"web": {"url": server.url("/m/{{args.path}}"), "jsonPath": "$.v"}},
                        **metric,
                    }
                ],
            },
        }
    )


async def test_run_reaches_successful_after_count_measurements(server: LocalServer) -> None:
    server.routes["/m/rate"] = Reply(body=json.dumps({"v": 0.99}))
    run = web_run(server, interval="10s", count=2, successCondition="result >= 0.95")
    first = await reconcile_measurements(run, now=T0, provider_for=at(T0))
    run.status = first.step.status
    assert run.status.phase == "Running"
    assert first.step.requeue_at == T0 + timedelta(seconds=10)
    later = T0 + timedelta(seconds=11)
    second = await reconcile_measurements(run, now=later, provider_for=at(later))
    status = second.step.status
    assert status.phase == "Successful"
    result = status.metric_results[0]  # type: ignore[index]
    assert [m.value for m in result.measurements or []] == ["0.99", "0.99"]
    assert server.requests[-1].path == "/m/rate"


async def test_server_errors_end_in_phase_error(server: LocalServer) -> None:
    server.routes["/m/rate"] = Reply(status=500, body="down")
    run = web_run(server, interval="10s", consecutiveErrorLimit=1)
    now = T0
    for _ in range(2):
        reconciled = await reconcile_measurements(run, now=now, provider_for=at(now))
        run.status = reconciled.step.status
        now += timedelta(seconds=11)
    assert run.status.phase == "Error"
    assert run.status.message is not None and "non 2xx response code: 500" in run.status.message


class ExplodingProvider(MetricProvider):
    kind = "boom"

    async def run(self, run: AnalysisRun, metric: Metric) -> Measurement:
        raise RuntimeError("provider bug")


async def test_a_provider_crash_is_an_error_measurement(server: LocalServer) -> None:
    run = web_run(server)
    reconciled = await reconcile_measurements(run, now=T0, provider_for=lambda metric: ExplodingProvider())
    measurement = reconciled.step.status.metric_results[0].measurements[0]  # type: ignore[index]
    assert measurement.phase == "Error"
    assert measurement.message == "boom provider failed: provider bug"


async def test_missing_argument_value_is_phase_error(server: LocalServer) -> None:
    run = web_run(server)
    run.spec.args = []
    reconciled = await reconcile_measurements(run, now=T0, provider_for=at(T0))
    assert reconciled.step.status.phase == "Error"
    assert reconciled.step.status.message == ("Unable to resolve metric arguments: failed to resolve {{args.path}}")


async def test_unsupported_provider_is_an_error_measurement() -> None:
    run = AnalysisRun.model_validate({"spec": {"metrics": [{"name": "dd", "provider": {"datadog": {"query": "q"}}}]}})
    reconciled = await reconcile_measurements(run, now=T0, provider_for=at(T0))
    measurement = reconciled.step.status.metric_results[0].measurements[0]  # type: ignore[index]
    assert (measurement.phase, measurement.message) == (
        "Error",
        "metric provider datadog is not supported",
    )
