"""Metrics with Argo's names and values, computed at scrape time, and the HTTP endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest

from rollouts import metrics
from rollouts.api.kinds import ROLLOUTS
from rollouts.kube.accounting import RequestInfo
from rollouts.kube.resources import CONFIGMAPS, REPLICASETS


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    metrics.reset_for_tests()
    yield
    metrics.reset_for_tests()


def scrape() -> list[str]:
    return [line for line in generate_latest(metrics.REGISTRY).decode().splitlines() if not line.startswith("#")]


def rollout(name: str = "web", *, reason: str | None = None, invalid: bool = False, **spec: Any) -> dict[str, Any]:
    conditions = []
    if reason:
        conditions.append({"type": "Progressing", "status": "True", "reason": reason})
    if invalid:
        conditions.append({"type": "InvalidSpec", "status": "True", "reason": "InvalidSpec"})
    return {
        "metadata": {"namespace": "ns", "name": name},
        "spec": {"strategy": {"canary": {}}, **spec},
        "status": {"conditions": conditions, "replicas": 5, "availableReplicas": 3, "updatedReplicas": 2},
    }


@pytest.mark.parametrize(
    ("reason", "invalid", "phase"),
    [
        (None, False, "Progressing"),
        ("ReplicaSetUpdated", False, "Progressing"),
        ("NewReplicaSetAvailable", False, "Completed"),
        ("RolloutPaused", False, "Paused"),
        ("ReplicaSetCreateError", False, "Error"),
        ("ProgressDeadlineExceeded", False, "Timeout"),
        ("RolloutAborted", False, "Abort"),
        ("NewReplicaSetAvailable", True, "InvalidSpec"),
    ],
)
def test_phase_comes_from_the_progressing_reason_like_argo(reason: str | None, invalid: bool, phase: str) -> None:
    assert metrics.rollout_metric_phase(rollout(reason=reason, invalid=invalid)) == phase


def test_strategy_and_traffic_router_labels() -> None:
    assert metrics.rollout_strategy({"spec": {"strategy": {"blueGreen": {}}}}) == ("blueGreen", "")
    assert metrics.rollout_strategy({"spec": {"strategy": {}}}) == ("none", "")
    routed = {"spec": {"strategy": {"canary": {"trafficRouting": {"istio": {}, "nginx": {}}}}}}
    assert metrics.rollout_strategy(routed) == ("canary", "Nginx"), "Argo's last match wins"
    assert metrics.rollout_strategy({"spec": {"strategy": {"canary": {"trafficRouting": {"plugins": {}}}}}}) == (
        "canary",
        "",
    )


def test_rollout_info_has_one_series_per_rollout_and_follows_changes() -> None:
    metrics.record_rollout(rollout(reason="RolloutPaused"))
    lines = scrape()
    assert 'rollout_info{name="web",namespace="ns",phase="Paused",strategy="canary",traffic_router=""} 1.0' in lines
    assert 'rollout_info_replicas_available{name="web",namespace="ns"} 3.0' in lines
    assert 'rollout_info_replicas_unavailable{name="web",namespace="ns"} 2.0' in lines
    assert 'rollout_info_replicas_desired{name="web",namespace="ns"} 1.0' in lines, "replicas defaults to 1"
    assert 'rollout_info_replicas_updated{name="web",namespace="ns"} 2.0' in lines
    assert 'rollout_phase{name="web",namespace="ns",phase="Paused",strategy="canary"} 1.0' in lines
    assert 'rollout_phase{name="web",namespace="ns",phase="Completed",strategy="canary"} 0.0' in lines

    metrics.record_rollout(rollout(reason="NewReplicaSetAvailable", replicas=5))
    lines = scrape()
    assert [line for line in lines if line.startswith("rollout_info{")] == [
        'rollout_info{name="web",namespace="ns",phase="Completed",strategy="canary",traffic_router=""} 1.0'
    ], "no stale series for the old phase"
    assert 'rollout_info_replicas_desired{name="web",namespace="ns"} 5.0' in lines

    metrics.forget_rollout("ns", "web")
    assert not [line for line in scrape() if line.startswith("rollout_")]


def test_analysis_run_metrics() -> None:
    run = {
        "metadata": {"namespace": "ns", "name": "run-1"},
        "spec": {
            "metrics": [
                {"name": "success-rate", "provider": {"prometheus": {"query": "q"}}},
                {"name": "smoke", "provider": {"job": {}}},
                {"name": "webcheck", "provider": {"web": {"url": "u"}}},
            ],
            "dryRun": [{"metricName": "smo"}],
        },
        "status": {"phase": "Running", "metricResults": [{"name": "success-rate", "phase": "Successful"}]},
    }
    metrics.record_analysis_run(run)
    lines = scrape()
    assert 'analysis_run_info{name="run-1",namespace="ns",phase="Running"} 1.0' in lines
    assert 'analysis_run_phase{name="run-1",namespace="ns",phase="Running"} 1.0' in lines
    assert 'analysis_run_phase{name="run-1",namespace="ns",phase="Pending"} 0.0' in lines
    assert 'analysis_run_metric_type{metric="success-rate",name="run-1",namespace="ns",type="Prometheus"} 1.0' in lines
    assert 'analysis_run_metric_type{metric="webcheck",name="run-1",namespace="ns",type="Web"} 1.0' in lines
    assert (
        'analysis_run_metric_phase{dry_run="false",metric="success-rate",name="run-1",namespace="ns",'
        'phase="Successful",type="Prometheus"} 1.0'
    ) in lines
    assert (
        'analysis_run_metric_phase{dry_run="true",metric="smoke",name="run-1",namespace="ns",'
        'phase="Pending",type="Job"} 1.0'
    ) in lines, "no result yet counts as Pending; dryRun rules are unanchored patterns"
    metrics.forget_analysis_run("ns", "run-1")
    assert not [line for line in scrape() if line.startswith("analysis_run_info")]


def test_request_counter_labels_like_argo() -> None:
    def value(**labels: str) -> float:
        return metrics.REGISTRY.get_sample_value("controller_clientset_k8s_request_total", labels) or 0.0

    before = value(kind="rollouts", namespace="ns", name="web", verb="Get", status_code="200")
    metrics.count_request(RequestInfo("Get", ROLLOUTS, "ns", "web", 200))
    metrics.count_request(RequestInfo("Patch", REPLICASETS, "ns", "web-abc", 409))
    metrics.count_request(RequestInfo("List", CONFIGMAPS, "", "", 200))
    assert value(kind="rollouts", namespace="ns", name="web", verb="Get", status_code="200") == before + 1
    assert value(kind="replicasets", namespace="ns", name="N/A", verb="Patch", status_code="409") >= 1
    assert value(kind="configmaps", namespace="", name="N/A", verb="List", status_code="200") >= 1


async def test_http_endpoints() -> None:
    ready = False
    runners = await metrics.start_http(metrics_port=0, healthz_port=0, ready=lambda: ready, host="127.0.0.1")
    try:
        metrics_port, health_port = (metrics.bound_port(r) for r in runners)
        async with httpx.AsyncClient(timeout=5) as http:
            assert (await http.get(f"http://127.0.0.1:{health_port}/healthz")).status_code == 200
            assert (await http.get(f"http://127.0.0.1:{health_port}/readyz")).status_code == 503
            ready = True
            assert (await http.get(f"http://127.0.0.1:{health_port}/readyz")).text == "ok"
            response = await http.get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert response.headers["content-type"].startswith("text/plain")
            assert "argo_rollouts_controller_info" in response.text
            assert (await http.get(f"http://127.0.0.1:{metrics_port}/healthz")).status_code == 404
    finally:
        for runner in runners:
            await runner.cleanup()


async def test_workqueue_metrics_like_client_go() -> None:
    def value(metric: str, name: str) -> float:
        return metrics.REGISTRY.get_sample_value(metric, {"name": name}) or 0.0

    queue = metrics.instrumented_queue("UnitTestQueue")
    queue.add("a")
    queue.add("a")  # deduplicated: one add
    queue.add("b")
    assert value("workqueue_adds_total", "UnitTestQueue") == 2
    assert value("workqueue_depth", "UnitTestQueue") == 2
    key = await queue.get()
    await asyncio.sleep(0.02)
    assert value("workqueue_longest_running_processor_seconds", "UnitTestQueue") >= 0.02
    assert value("workqueue_unfinished_work_seconds", "UnitTestQueue") >= 0.02
    queue.done(key)
    queue.add_rate_limited(key)
    assert value("workqueue_retries_total", "UnitTestQueue") == 1
    assert value("workqueue_queue_duration_seconds_count", "UnitTestQueue") == 1
    assert value("workqueue_work_duration_seconds_count", "UnitTestQueue") == 1
    assert value("workqueue_work_duration_seconds_sum", "UnitTestQueue") >= 0.02
    assert value("workqueue_depth", "UnitTestQueue") == 1


def test_a_deleted_rollout_or_analysis_run_leaves_no_series_behind() -> None:
    from rollouts.api.kinds import ANALYSIS_RUNS

    def series(name: str) -> list[str]:
        return [line for line in scrape() if f'name="{name}"' in line and 'namespace="gone"' in line]

    for kind, name in (("rollout", "web"), ("run", "web-run")):
        if kind == "rollout":
            metrics.record_rollout(
                {**rollout(name, reason="RolloutPaused"), "metadata": {"namespace": "gone", "name": name}}
            )
            metrics.ROLLOUT_RECONCILE.labels("gone", name).observe(0.1)
            metrics.ROLLOUT_RECONCILE_ERROR.labels("gone", name).inc()
            metrics.ROLLOUT_EVENTS.labels("gone", name, "Normal", "RolloutStepCompleted").inc()
            metrics.count_request(RequestInfo("Get", ROLLOUTS, "gone", name, 200))
        else:
            metrics.record_analysis_run(
                {
                    "metadata": {"namespace": "gone", "name": name},
                    "spec": {"metrics": []},
                    "status": {"phase": "Running"},
                }
            )
            metrics.ANALYSIS_RUN_RECONCILE.labels("gone", name).observe(0.1)
            metrics.ANALYSIS_RUN_RECONCILE_ERROR.labels("gone", name).inc()
            metrics.count_request(RequestInfo("Patch", ANALYSIS_RUNS, "gone", name, 200))
    metrics.ROLLOUT_RECONCILE.labels("gone", "kept").observe(0.1)
    assert len(series("web")) > 10 and len(series("web-run")) > 5
    metrics.forget_rollout("gone", "web")
    metrics.forget_analysis_run("gone", "web-run")
    assert series("web") == [] and series("web-run") == []
    assert series("kept"), "other objects keep their series"
