"""AnalysisRuns measured by the running controller against a real Prometheus, a real HTTP server and Jobs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from rollouts.api.kinds import ANALYSIS_RUNS
from rollouts.devcluster.processes import free_port
from rollouts.devcluster.prometheus import FakeAppMetrics, LocalPrometheus
from tests.kubetest import Kube, job_metric
from tests.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("controller")]

ERROR_RATIO = (
    'sum(rate(http_requests_total{service="demo",code="500"}[5s])) / sum(rate(http_requests_total{service="demo"}[5s]))'
)


@pytest.fixture(scope="module")
def app_and_prometheus() -> Iterator[tuple[FakeAppMetrics, LocalPrometheus]]:
    app = FakeAppMetrics(rate=200.0)
    app.start()
    with LocalPrometheus(targets=[app.target]) as prometheus:
        yield app, prometheus
    app.stop()


def run(name: str, metrics: list[dict[str, Any]], args: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"metrics": metrics}
    if args:
        spec["args"] = args
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun", "metadata": {"name": name}, "spec": spec}


async def finished(kube: Kube, name: str, timeout: float = 60) -> dict[str, Any]:
    return await eventually(
        lambda: kube.client.get(ANALYSIS_RUNS, kube.namespace, name),
        lambda r: (r.get("status") or {}).get("phase") in ("Successful", "Failed", "Error", "Inconclusive"),
        timeout=timeout,
        what=f"analysisrun {name} completed",
    )


async def test_prometheus_metric_good_then_bad(
    kube: Kube, app_and_prometheus: tuple[FakeAppMetrics, LocalPrometheus]
) -> None:
    app, prometheus = app_and_prometheus
    metric = {
        "name": "error-ratio",
        "interval": "1s",
        "count": 3,
        "successCondition": "len(result) == 0 || result[0] < 0.1",
        "provider": {"prometheus": {"address": prometheus.url, "query": ERROR_RATIO}},
    }
    app.set_error_ratio(0.0)
    await kube.create(ANALYSIS_RUNS, run("good", [metric]))
    good = await finished(kube, "good")
    assert good["status"]["phase"] == "Successful", good["status"]
    result = good["status"]["metricResults"][0]
    assert result["count"] == 3 and result["successful"] == 3

    app.set_error_ratio(0.6)
    await eventually(
        lambda: _query(prometheus.url),
        lambda v: bool(v) and v[0] > 0.3,
        what="prometheus to see errors",
        timeout=30,
    )
    await kube.create(ANALYSIS_RUNS, run("bad", [metric]))
    bad = await finished(kube, "bad")
    assert bad["status"]["phase"] == "Failed", bad["status"]
    app.set_error_ratio(0.0)


async def _query(url: str) -> list[float]:
    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{url}/api/v1/query", params={"query": ERROR_RATIO})).json()
    return [float(s["value"][1]) for s in body["data"]["result"]]


async def test_prometheus_down_errors_after_consecutive_error_limit(kube: Kube) -> None:
    metric = {
        "name": "unreachable",
        "interval": "1s",
        "consecutiveErrorLimit": 2,
        "successCondition": "result[0] < 1",
        "provider": {"prometheus": {"address": f"http://127.0.0.1:{free_port()}", "query": "up"}},
    }
    await kube.create(ANALYSIS_RUNS, run("down", [metric]))
    done = await finished(kube, "down", timeout=90)
    assert done["status"]["phase"] == "Error", done["status"]
    result = done["status"]["metricResults"][0]
    assert result["consecutiveError"] == 3, "limit 2 exceeded on the third error"
    assert all(m["phase"] == "Error" for m in result["measurements"])


async def test_web_metric_passes_and_500_errors(kube: Kube, health_server: str) -> None:
    ok = {
        "name": "health",
        "successCondition": "result == 'ok'",
        "provider": {"web": {"url": f"{health_server}/ok", "jsonPath": "{$.status}"}},
    }
    broken = {
        "name": "health",
        "consecutiveErrorLimit": 0,
        "successCondition": "result == 'ok'",
        "provider": {"web": {"url": f"{health_server}/broken", "jsonPath": "{$.status}"}},
    }
    await kube.create(ANALYSIS_RUNS, run("web-ok", [ok]))
    await kube.create(ANALYSIS_RUNS, run("web-500", [broken]))
    assert (await finished(kube, "web-ok"))["status"]["phase"] == "Successful"
    failed = await finished(kube, "web-500")
    assert failed["status"]["phase"] == "Error"
    assert "500" in failed["status"]["metricResults"][0]["measurements"][-1]["message"]


async def test_job_metric_success_and_failure(kube: Kube) -> None:
    await kube.create(ANALYSIS_RUNS, run("job-ok", [job_metric(fail=False, image="test:1")]))
    await kube.create(ANALYSIS_RUNS, run("job-fail", [job_metric(fail=True, image="test:1")]))
    assert (await finished(kube, "job-ok"))["status"]["phase"] == "Successful"
    assert (await finished(kube, "job-fail"))["status"]["phase"] == "Failed"


async def test_missing_argument_is_a_clear_error(kube: Kube) -> None:
    metric = {
        "name": "m",
        "successCondition": "result == 'ok'",
        "provider": {"web": {"url": "http://127.0.0.1:1/{{args.missing}}"}},
    }
    await kube.create(ANALYSIS_RUNS, run("noarg", [metric], args=[{"name": "missing"}]))
    done = await finished(kube, "noarg")
    assert done["status"]["phase"] == "Error"
    assert "missing" in (done["status"].get("message") or "")


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": True}
    for _ in range(levels):
        value = {"a": value}
    return value


async def test_a_run_the_controller_cannot_read_ends_in_error_naming_the_field(kube: Kube) -> None:
    """Hostile input: a run nested beyond the model's limit is an Error once, and runs beside it still measure."""
    deep = {
        "name": "deep",
        "successCondition": "true",
        "provider": {"web": {"url": "http://127.0.0.1:1/", "jsonBody": nested(150)}},
    }
    await kube.create(ANALYSIS_RUNS, run("too-deep", [deep]))
    missing = {"name": "m", "successCondition": "true", "provider": {"web": {"url": "http://127.0.0.1:1/{{args.x}}"}}}
    await kube.create(ANALYSIS_RUNS, run("after-it", [missing], args=[{"name": "x"}]))
    done = await finished(kube, "too-deep")
    assert done["status"]["phase"] == "Error"
    message = done["status"]["message"]
    assert message.startswith("Analysis spec invalid: spec.metrics[0].provider.web.jsonBody"), message
    assert "nested more than 100 levels deep" in message
    assert (await finished(kube, "after-it"))["status"]["phase"] == "Error"  # measured (missing arg), not blocked
