"""Canaries gated by real analysis: Prometheus, Jobs; automatic rollback with no human action."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from rollouts.api.kinds import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, ROLLOUTS
from rollouts.devcluster.prometheus import FakeAppMetrics, LocalPrometheus
from tests.kubetest import Kube, counts, healthy_on_new_revision, job_analysis_template, rollout_manifest, status
from tests.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("controller")]

ERROR_RATIO = (
    'sum(rate(http_requests_total{service="demo",code="500"}[5s])) / sum(rate(http_requests_total{service="demo"}[5s]))'
)


@pytest.fixture
def app_and_prometheus() -> Iterator[tuple[FakeAppMetrics, LocalPrometheus]]:
    app = FakeAppMetrics(rate=200.0)
    app.start()
    with LocalPrometheus(targets=[app.target]) as prometheus:
        yield app, prometheus
    app.stop()


def prometheus_template(address: str, **metric: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "error-ratio"},
        "spec": {
            "metrics": [
                {
                    "name": "error-ratio",
                    "interval": "1s",
                    "successCondition": "len(result) == 0 || result[0] < 0.1",
                    "provider": {"prometheus": {"address": address, "query": ERROR_RATIO}},
                    **metric,
                }
            ]
        },
    }


async def wait_for_errors(prometheus: LocalPrometheus, minimum: float, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    async with httpx.AsyncClient() as client:
        while time.monotonic() < end:
            body = (await client.get(f"{prometheus.url}/api/v1/query", params={"query": ERROR_RATIO})).json()
            values = [float(s["value"][1]) for s in body["data"]["result"]]
            if values and values[0] >= minimum:
                return
            await asyncio.sleep(0.5)
    raise AssertionError("prometheus never saw the errors")


async def test_good_canary_reaches_full_with_background_analysis(
    kube: Kube, app_and_prometheus: tuple[FakeAppMetrics, LocalPrometheus]
) -> None:
    _, prometheus = app_and_prometheus
    await kube.create(ANALYSIS_TEMPLATES, prometheus_template(prometheus.url, count=3))
    canary = {"analysis": {"templates": [{"templateName": "error-ratio"}]}}
    steps = [{"setWeight": 40}, {"pause": {"duration": "3s"}}, {"setWeight": 80}, {"pause": {"duration": "2s"}}]
    await kube.create(ROLLOUTS, rollout_manifest("good", steps=steps, canary=canary))
    await kube.wait("good", healthy_on_new_revision, what="initial deploy")
    await kube.set_image("good", "app:v2")
    done = await kube.wait("good", healthy_on_new_revision, what="Healthy after the steps", timeout=90)
    background = status(done)["canary"].get("currentBackgroundAnalysisRunStatus")
    runs = (await kube.client.list(ANALYSIS_RUNS, kube.namespace))["items"]
    assert runs, "a background run was created"
    run = runs[0]
    assert run["metadata"]["labels"]["rollout-type"] == "Background"
    assert run["metadata"]["ownerReferences"][0]["name"] == "good"
    assert run["metadata"]["name"] == f"good-{status(done)['currentPodHash']}-2"
    assert background is None or background["name"] == run["metadata"]["name"]


async def test_error_rate_turning_bad_aborts_and_restores_stable(
    kube: Kube, app_and_prometheus: tuple[FakeAppMetrics, LocalPrometheus]
) -> None:
    app, prometheus = app_and_prometheus
    await kube.create(ANALYSIS_TEMPLATES, prometheus_template(prometheus.url))
    canary = {"analysis": {"templates": [{"templateName": "error-ratio"}]}}
    steps = [{"setWeight": 40}, {"pause": {}}]
    await kube.create(ROLLOUTS, rollout_manifest("bad", steps=steps, canary=canary))
    ready = await kube.wait("bad", healthy_on_new_revision, what="initial deploy")
    stable = status(ready)["stableRS"]
    await kube.set_image("bad", "app:v2")
    await kube.wait("bad", lambda o: status(o).get("phase") == "Paused", what="paused with analysis running")
    turned_bad = time.monotonic()
    app.set_error_ratio(0.5)
    await wait_for_errors(prometheus, 0.1)
    first_bad_sample = time.monotonic()
    aborted = await kube.wait(
        "bad",
        lambda o: bool(status(o).get("abort")) and status(o).get("availableReplicas") == 5,
        what="aborted with stable at full availability",
        timeout=60,
    )
    assert status(aborted)["phase"] == "Degraded"
    assert status(aborted)["message"].startswith("RolloutAborted: Rollout aborted update to revision 2")
    await eventually(
        lambda: kube.replicasets("bad"),
        lambda rss: counts(rss)[stable] == (5, 5) and counts(rss)[status(aborted)["currentPodHash"]][0] == 0,
        what="stable back at 5/5 and the canary at zero",
    )
    restored = time.monotonic()
    runs = (await kube.client.list(ANALYSIS_RUNS, kube.namespace))["items"]
    assert any((r.get("status") or {}).get("phase") == "Failed" for r in runs)
    print(
        f"app turned bad -> stable at full availability: {restored - turned_bad:.1f}s "
        f"(of which until Prometheus answered with the bad ratio: {first_bad_sample - turned_bad:.1f}s)"
    )


async def test_inconclusive_analysis_pauses(
    kube: Kube, app_and_prometheus: tuple[FakeAppMetrics, LocalPrometheus]
) -> None:
    _, prometheus = app_and_prometheus
    template = prometheus_template(prometheus.url, count=1)
    metric = template["spec"]["metrics"][0]
    metric["successCondition"] = "len(result) > 0 && result[0] < 0"  # never true
    metric["failureCondition"] = "len(result) > 0 && result[0] > 1"  # never true either
    await kube.create(ANALYSIS_TEMPLATES, template)
    steps = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "error-ratio"}]}}, {"setWeight": 60}]
    await kube.create(ROLLOUTS, rollout_manifest("unsure", steps=steps))
    await kube.wait("unsure", healthy_on_new_revision, what="initial deploy")
    await kube.set_image("unsure", "app:v2")
    paused = await kube.wait(
        "unsure",
        lambda o: any(p.get("reason") == "InconclusiveAnalysisRun" for p in status(o).get("pauseConditions") or []),
        what="paused on an inconclusive run",
        timeout=60,
    )
    assert status(paused)["phase"] == "Paused"
    assert status(paused)["canary"]["currentStepAnalysisRunStatus"]["status"] == "Inconclusive"
    await kube.patch_status("unsure", {"pauseConditions": None})  # promote
    await kube.wait("unsure", healthy_on_new_revision, what="promoted past the inconclusive step", timeout=60)


async def test_failing_job_step_aborts(kube: Kube) -> None:
    template = job_analysis_template("smoke", fail=True)
    await kube.create(ANALYSIS_TEMPLATES, template)
    steps = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "smoke"}]}}, {"setWeight": 60}]
    await kube.create(ROLLOUTS, rollout_manifest("job", steps=steps))
    ready = await kube.wait("job", healthy_on_new_revision, what="initial deploy")
    await kube.set_image("job", "app:v2")
    aborted = await kube.wait(
        "job",
        lambda o: bool(status(o).get("abort")) and status(o).get("availableReplicas") == 5,
        what="aborted",
        timeout=60,
    )
    stable = status(ready)["stableRS"]
    await eventually(
        lambda: kube.replicasets("job"),
        lambda rss: counts(rss)[stable] == (5, 5) and counts(rss)[status(aborted)["currentPodHash"]][0] == 0,
        what="stable back at 5/5 and the canary at zero",
    )
    assert status(aborted)["canary"]["currentStepAnalysisRunStatus"]["status"] == "Failed"


async def test_missing_template_is_invalid_spec(kube: Kube) -> None:
    steps = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "nope"}]}}]
    await kube.create(ROLLOUTS, rollout_manifest("missing", steps=steps))
    await kube.wait("missing", healthy_on_new_revision, what="initial deploy")
    await kube.set_image("missing", "app:v2")
    invalid = await kube.wait("missing", lambda o: status(o).get("phase") == "Degraded", what="InvalidSpec", timeout=60)
    assert "nope" in status(invalid)["message"]
