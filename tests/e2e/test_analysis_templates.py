"""Each ready-made template in analysis_templates/ measured for real by the running controller.

The runs are built from the template files exactly as a Rollout would build
them (templates merged, args filled); only `count`/`interval` are shortened
to one measurement (and failureLimit to 0 to match) so the test takes seconds, not minutes. Prometheus scrapes
an app whose error ratio the test sets; the web check hits a local server;
the smoke-test Job runs on kwok.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from rollouts.api.analysis import AnalysisTemplate, Argument
from rollouts.api.common import ObjectMeta
from rollouts.api.kinds import ANALYSIS_RUNS
from rollouts.api.runs import new_run_from_templates
from rollouts.devcluster.prometheus import FakeAppMetrics, LocalPrometheus
from tests.kubetest import REPO, Kube
from tests.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("controller")]


@pytest.fixture(scope="module")
def prometheus() -> Iterator[tuple[FakeAppMetrics, LocalPrometheus]]:
    app = FakeAppMetrics(rate=100.0, service="checkout")
    app.start()
    with LocalPrometheus(targets=[app.target]) as server:
        yield app, server
    app.stop()


def build_run(file: str, name: str, namespace: str, args: dict[str, str]) -> dict[str, Any]:
    template = AnalysisTemplate.from_dict(yaml.safe_load((REPO / "analysis_templates" / file).read_text()))
    run = new_run_from_templates(
        [template],
        args=[Argument(name=k, value=v) for k, v in args.items()],
        metadata=ObjectMeta(name=name, namespace=namespace),
    )
    for metric in run.spec.metrics:
        metric.count = 1
        metric.interval = None
        if metric.failure_limit is not None:
            metric.failure_limit = 0  # one measurement: a failure must decide
    return run.to_dict()


async def measured(kube: Kube, body: dict[str, Any]) -> dict[str, Any]:
    await kube.client.create(ANALYSIS_RUNS, kube.namespace, body)
    return await eventually(
        lambda: kube.client.get(ANALYSIS_RUNS, kube.namespace, body["metadata"]["name"]),
        lambda r: (r.get("status") or {}).get("phase") in ("Successful", "Failed", "Error", "Inconclusive"),
        what=f"{body['metadata']['name']} measured",
        timeout=60,
    )


@pytest.mark.parametrize("file", ["success-rate.yaml", "latency-p99.yaml", "error-budget-burn.yaml"])
async def test_prometheus_templates_pass_on_a_healthy_service(
    kube: Kube, prometheus: tuple[FakeAppMetrics, LocalPrometheus], file: str
) -> None:
    _, server = prometheus
    args = {"service-name": "checkout", "prometheus-address": server.url}
    run = await measured(kube, build_run(file, file.removesuffix(".yaml"), kube.namespace, args))
    assert run["status"]["phase"] == "Successful", run["status"]


async def test_success_rate_fails_when_errors_rise(
    kube: Kube, prometheus: tuple[FakeAppMetrics, LocalPrometheus]
) -> None:
    app, server = prometheus
    app.set_error_ratio(0.5)
    try:
        await eventually(
            lambda: _error_seen(server.url),
            what="prometheus to see the errors",
            timeout=90,
        )
        args = {"service-name": "checkout", "prometheus-address": server.url}
        run = await measured(kube, build_run("success-rate.yaml", "failing-rate", kube.namespace, args))
        assert run["status"]["phase"] == "Failed", run["status"]
    finally:
        app.set_error_ratio(0.0)


async def _error_seen(url: str) -> bool:
    query = 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[1m]))'
    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{url}/api/v1/query", params={"query": query})).json()
    return bool(body["data"]["result"]) and float(body["data"]["result"][0]["value"][1]) > 0


async def test_smoke_test_job_template(kube: Kube) -> None:
    run = await measured(kube, build_run("smoke-test-job.yaml", "smoke", kube.namespace, {"url": "http://checkout/"}))
    assert run["status"]["phase"] == "Successful", run["status"]


async def test_web_health_template(kube: Kube, health_server: str) -> None:
    url = f"{health_server}/healthz"
    run = await measured(kube, build_run("web-health.yaml", "health", kube.namespace, {"url": url}))
    assert run["status"]["phase"] == "Successful", run["status"]
