"""Prometheus metrics with Argo Rollouts' names, and the metrics / health HTTP endpoints.

Dashboards and alerts written for Argo's controller keep working because the
metric names and labels are the same (rollout_info, rollout_info_replicas_*,
rollout_reconcile, rollout_events_total, controller_clientset_k8s_request_total,
analysis_run_*). One registry per process; the HTTP servers are aiohttp (a
dependency of kubernetes_asyncio already) so they share the controller's loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry()

ROLLOUT_INFO = Gauge(
    "rollout_info",
    "Information about rollout.",
    ["namespace", "name", "strategy", "traffic_router", "phase"],
    registry=REGISTRY,
)
ROLLOUT_PHASE = Gauge(
    "rollout_phase",
    "Information on the state of the rollout (DEPRECATED - use rollout_info)",
    ["namespace", "name", "strategy", "phase"],
    registry=REGISTRY,
)
ROLLOUT_REPLICAS_AVAILABLE = Gauge(
    "rollout_info_replicas_available",
    "The number of available replicas per rollout.",
    ["namespace", "name"],
    registry=REGISTRY,
)
ROLLOUT_REPLICAS_UNAVAILABLE = Gauge(
    "rollout_info_replicas_unavailable",
    "The number of unavailable replicas per rollout.",
    ["namespace", "name"],
    registry=REGISTRY,
)
ROLLOUT_REPLICAS_DESIRED = Gauge(
    "rollout_info_replicas_desired",
    "The number of desired replicas per rollout.",
    ["namespace", "name"],
    registry=REGISTRY,
)
ROLLOUT_REPLICAS_UPDATED = Gauge(
    "rollout_info_replicas_updated",
    "The number of updated replicas per rollout.",
    ["namespace", "name"],
    registry=REGISTRY,
)
ROLLOUT_RECONCILE = Histogram(
    "rollout_reconcile",
    "Rollout reconciliation performance.",
    ["namespace", "name"],
    buckets=(0.01, 0.15, 0.25, 0.5, 1.0),
    registry=REGISTRY,
)
ROLLOUT_RECONCILE_ERROR = Counter(
    "rollout_reconcile_error", "Error occurring during the rollout", ["namespace", "name"], registry=REGISTRY
)
ROLLOUT_EVENTS = Counter(
    "rollout_events_total", "Count of rollout events", ["namespace", "name", "type", "reason"], registry=REGISTRY
)
K8S_REQUESTS = Counter(
    "controller_clientset_k8s_request_total",
    "Number of kubernetes requests executed during application reconciliation.",
    ["kind", "namespace", "name", "verb", "status_code"],
    registry=REGISTRY,
)

_PHASES = ("Healthy", "Progressing", "Paused", "Degraded", "Error", "Timeout", "Aborted")


def record_rollout(rollout: dict[str, Any]) -> None:
    meta = rollout.get("metadata", {})
    namespace, name = meta.get("namespace", ""), meta.get("name", "")
    spec = rollout.get("spec") or {}
    status = rollout.get("status") or {}
    strategy_spec = spec.get("strategy") or {}
    strategy = "blueGreen" if "blueGreen" in strategy_spec else "canary"
    traffic = ",".join(sorted(((strategy_spec.get("canary") or {}).get("trafficRouting") or {}).keys())) or "None"
    phase = status.get("phase") or "Progressing"
    for candidate in _PHASES:
        value = 1.0 if candidate == phase else 0.0
        ROLLOUT_INFO.labels(namespace, name, strategy, traffic, candidate).set(value)
        ROLLOUT_PHASE.labels(namespace, name, strategy, candidate).set(value)
    desired = spec.get("replicas", 1)
    available = status.get("availableReplicas", 0)
    ROLLOUT_REPLICAS_DESIRED.labels(namespace, name).set(desired)
    ROLLOUT_REPLICAS_AVAILABLE.labels(namespace, name).set(available)
    ROLLOUT_REPLICAS_UNAVAILABLE.labels(namespace, name).set(max(0, status.get("replicas", 0) - available))
    ROLLOUT_REPLICAS_UPDATED.labels(namespace, name).set(status.get("updatedReplicas", 0))


def forget_rollout(namespace: str, name: str) -> None:
    for gauge in (
        ROLLOUT_REPLICAS_AVAILABLE,
        ROLLOUT_REPLICAS_UNAVAILABLE,
        ROLLOUT_REPLICAS_DESIRED,
        ROLLOUT_REPLICAS_UPDATED,
    ):
        with contextlib.suppress(KeyError):
            gauge.remove(namespace, name)


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def start_http(
    *, metrics_port: int, healthz_port: int, ready: Callable[[], bool], host: str = "0.0.0.0"
) -> list[web.AppRunner]:
    """Serve /metrics on metrics_port and /healthz, /readyz on healthz_port."""

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(_: web.Request) -> web.Response:
        return web.Response(text="ok") if ready() else web.Response(status=503, text="not ready")

    runners = []
    for port, routes in (
        (metrics_port, [web.get("/metrics", _metrics)]),
        (healthz_port, [web.get("/healthz", healthz), web.get("/readyz", readyz)]),
    ):
        app = web.Application()
        app.add_routes(routes)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        runners.append(runner)
    return runners
