"""Prometheus metrics with Argo Rollouts' names, and the metrics / health HTTP endpoints.

Dashboards and alerts written for Argo's controller keep working because the
metric names, labels and values are Argo's:
- `rollout_info{namespace,name,strategy,traffic_router,phase}` = 1, where phase
  comes from the Progressing condition's reason (Completed, Progressing, Paused,
  Timeout, Error, Abort) or InvalidSpec; `rollout_info_replicas_*`; the
  deprecated `rollout_phase` (one series per phase, 0 or 1);
- `analysis_run_info`, `analysis_run_phase`, `analysis_run_metric_type`,
  `analysis_run_metric_phase`;
- counters and histograms controllers update: `rollout_reconcile`,
  `rollout_reconcile_error`, `rollout_events_total`, `analysis_run_reconcile`,
  `analysis_run_reconcile_error`, `controller_clientset_k8s_request_total`.
Like Argo, the info gauges are computed at scrape time from the latest object
each controller reported (`record_rollout` / `record_analysis_run`), so a
deleted object or a changed phase never leaves a stale series behind.
One registry per process; the HTTP servers are aiohttp (a dependency of
kubernetes_asyncio already) so they share the controller's event loop.
"""

from __future__ import annotations

import contextlib
import re
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from rollouts import __version__
from rollouts.api.resource import Resource
from rollouts.kube.accounting import RequestInfo
from rollouts.kube.decode import Skipped
from rollouts.kube.workqueue import WorkQueue

REGISTRY = CollectorRegistry()
_NAMESPACE_NAME = ["namespace", "name"]
_RECONCILE_BUCKETS = (0.01, 0.15, 0.25, 0.5, 1.0)

ROLLOUT_RECONCILE = Histogram(
    "rollout_reconcile",
    "Rollout reconciliation performance.",
    _NAMESPACE_NAME,
    buckets=_RECONCILE_BUCKETS,
    registry=REGISTRY,
)
ROLLOUT_RECONCILE_ERROR = Counter(
    "rollout_reconcile_error", "Error occurring during the rollout", _NAMESPACE_NAME, registry=REGISTRY
)
ROLLOUT_EVENTS = Counter(
    "rollout_events_total", "Count of rollout events", [*_NAMESPACE_NAME, "type", "reason"], registry=REGISTRY
)
ANALYSIS_RUN_RECONCILE = Histogram(
    "analysis_run_reconcile",
    "Analysis Run reconciliation performance.",
    _NAMESPACE_NAME,
    buckets=_RECONCILE_BUCKETS,
    registry=REGISTRY,
)
ANALYSIS_RUN_RECONCILE_ERROR = Counter(
    "analysis_run_reconcile_error", "Error occurring during the analysis run", _NAMESPACE_NAME, registry=REGISTRY
)
UNDECODABLE_OBJECTS = Counter(
    "controller_undecodable_objects_total",
    "Objects left out of a list or watch because they could not be decoded (ours; Argo has none).",
    ["kind", "namespace"],
    registry=REGISTRY,
)
_K8S_REQUEST_LABELS = ["kind", "namespace", "name", "verb", "status_code"]
K8S_REQUESTS = Counter(
    "controller_clientset_k8s_request_total",
    "Number of kubernetes requests executed during application reconciliation.",
    _K8S_REQUEST_LABELS,
    registry=REGISTRY,
)


# client-go's workqueue metrics (Argo exports them through component-base).
_QUEUE_BUCKETS = tuple(10.0**exponent for exponent in range(-8, 2))
WORKQUEUE_ADDS = Counter(
    "workqueue_adds_total", "Total number of adds handled by workqueue", ["name"], registry=REGISTRY
)
WORKQUEUE_RETRIES = Counter(
    "workqueue_retries_total", "Total number of retries handled by workqueue", ["name"], registry=REGISTRY
)
WORKQUEUE_QUEUE_DURATION = Histogram(
    "workqueue_queue_duration_seconds",
    "How long in seconds an item stays in workqueue before being requested.",
    ["name"],
    buckets=_QUEUE_BUCKETS,
    registry=REGISTRY,
)
WORKQUEUE_WORK_DURATION = Histogram(
    "workqueue_work_duration_seconds",
    "How long in seconds processing an item from workqueue takes.",
    ["name"],
    buckets=_QUEUE_BUCKETS,
    registry=REGISTRY,
)


class _QueueObserver:
    def __init__(self, name: str) -> None:
        self._adds = WORKQUEUE_ADDS.labels(name)
        self._retries = WORKQUEUE_RETRIES.labels(name)
        self._queued = WORKQUEUE_QUEUE_DURATION.labels(name)
        self._worked = WORKQUEUE_WORK_DURATION.labels(name)

    def added(self) -> None:
        self._adds.inc()

    def retried(self) -> None:
        self._retries.inc()

    def dequeued(self, waited: float) -> None:
        self._queued.observe(waited)

    def finished(self, worked: float) -> None:
        self._worked.observe(worked)


_queues: weakref.WeakSet[WorkQueue] = weakref.WeakSet()


def instrumented_queue(name: str) -> WorkQueue:
    """A WorkQueue whose activity feeds the workqueue_* metrics under `name` (Argo: Rollouts, AnalysisRuns...)."""
    queue = WorkQueue(name=name, observer=_QueueObserver(name))
    _queues.add(queue)
    return queue


def count_request(info: RequestInfo) -> None:
    """A KubeClient `on_request` observer feeding controller_clientset_k8s_request_total like Argo's.

    Argo labels the kind with the plural resource and blanks the name ("N/A")
    of lists, events and replicasets to bound the number of series.
    """
    kind = info.resource.plural
    name = "N/A" if info.verb in ("List", "Watch") or kind in ("events", "replicasets") else info.name
    K8S_REQUESTS.labels(kind, info.namespace, name, info.verb, str(info.status_code)).inc()


def count_skipped(resource: Resource, skipped: Skipped) -> None:
    """A KubeClient `on_skip` observer feeding controller_undecodable_objects_total."""
    UNDECODABLE_OBJECTS.labels(resource.plural, skipped.namespace).inc()


# ------------------------------------------------------------------ rollouts

ROLLOUT_PHASES = ("Completed", "Progressing", "Paused", "Timeout", "Error", "Abort")
"""The phases of the deprecated rollout_phase metric, in Argo's order."""

_PHASE_BY_PROGRESSING_REASON = {
    "NewReplicaSetAvailable": "Completed",
    "RolloutPaused": "Paused",
    "ReplicaSetCreateError": "Error",
    "ProgressDeadlineExceeded": "Timeout",
    "RolloutAborted": "Abort",
}
# Argo checks these one after the other, so the last one present wins.
_TRAFFIC_ROUTERS = (
    ("alb", "ALB"),
    ("ambassador", "Ambassador"),
    ("istio", "Istio"),
    ("nginx", "Nginx"),
    ("smi", "SMI"),
    ("appMesh", "AppMesh"),
)

_lock = threading.Lock()  # scrapes may run in another thread than the controllers
_rollouts: dict[tuple[str, str], dict[str, Any]] = {}
_analysis_runs: dict[tuple[str, str], dict[str, Any]] = {}


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == kind:
            return condition
    return None


def rollout_metric_phase(rollout: dict[str, Any]) -> str:
    """Argo's metric phase: from the Progressing condition's reason; InvalidSpec overrides."""
    status = rollout.get("status") or {}
    phase = "Progressing"
    progressing = _condition(status, "Progressing")
    if progressing is not None:
        phase = _PHASE_BY_PROGRESSING_REASON.get(str(progressing.get("reason")), phase)
    if _condition(status, "InvalidSpec") is not None:
        phase = "InvalidSpec"
    return phase


def rollout_strategy(rollout: dict[str, Any]) -> tuple[str, str]:
    """(strategy, traffic_router) labels as Argo computes them."""
    strategy = (rollout.get("spec") or {}).get("strategy") or {}
    if strategy.get("blueGreen") is not None:
        return "blueGreen", ""
    canary = strategy.get("canary")
    if canary is None:
        return "none", ""
    router = ""
    routing = canary.get("trafficRouting") or {}
    for key, label in _TRAFFIC_ROUTERS:
        if routing.get(key) is not None:
            router = label
    return "canary", router


def record_rollout(rollout: dict[str, Any]) -> None:
    """Remember the latest state of a Rollout for the info gauges (call after each reconcile)."""
    meta = rollout.get("metadata") or {}
    spec = rollout.get("spec") or {}
    status = rollout.get("status") or {}
    strategy, router = rollout_strategy(rollout)
    replicas = spec.get("replicas")
    snapshot = {
        "strategy": strategy,
        "traffic_router": router,
        "phase": rollout_metric_phase(rollout),
        "available": status.get("availableReplicas") or 0,
        "unavailable": (status.get("replicas") or 0) - (status.get("availableReplicas") or 0),
        "desired": 1 if replicas is None else replicas,
        "updated": status.get("updatedReplicas") or 0,
    }
    with _lock:
        _rollouts[(meta.get("namespace", ""), meta.get("name", ""))] = snapshot


def _remove_series(metric: Counter | Histogram, labelnames: list[str], **match: str) -> None:
    """Remove every series of `metric` whose labels include `match` (found through the public collect())."""
    found = set()
    for family in metric.collect():
        for sample in family.samples:
            if all(sample.labels.get(k) == v for k, v in match.items()):
                found.add(tuple(sample.labels[label] for label in labelnames))
    for values in found:
        with contextlib.suppress(KeyError):
            metric.remove(*values)


def forget_rollout(namespace: str, name: str) -> None:
    """The Rollout is gone: drop its info series and every series labelled with it."""
    with _lock:
        _rollouts.pop((namespace, name), None)
    for metric in (ROLLOUT_RECONCILE, ROLLOUT_RECONCILE_ERROR):
        _remove_series(metric, _NAMESPACE_NAME, namespace=namespace, name=name)
    _remove_series(ROLLOUT_EVENTS, [*_NAMESPACE_NAME, "type", "reason"], namespace=namespace, name=name)
    _remove_series(K8S_REQUESTS, _K8S_REQUEST_LABELS, kind="rollouts", namespace=namespace, name=name)


# ------------------------------------------------------------- analysis runs

ANALYSIS_PHASES = ("Pending", "Error", "Failed", "Successful", "Running", "Inconclusive")
_PROVIDER_TYPES = (
    ("prometheus", "Prometheus"),
    ("job", "Job"),
    ("kayenta", "Kayenta"),
    ("web", "Web"),
    ("datadog", "Datadog"),
    ("wavefront", "Wavefront"),
    ("newRelic", "NewRelic"),
    ("cloudWatch", "CloudWatch"),
    ("graphite", "Graphite"),
    ("influxdb", "Influxdb"),
    ("skywalking", "skywalking"),
    ("plugin", "RPCPlugin"),
)


def metric_provider_type(metric: dict[str, Any]) -> str:
    """Argo's provider type name of an analysis metric (the first provider set, in Argo's order)."""
    provider = metric.get("provider") or {}
    for key, label in _PROVIDER_TYPES:
        if provider.get(key) is not None:
            return label
    return "Unknown Provider"


def _dry_run_metrics(run: dict[str, Any]) -> set[str]:
    """Metric names matched by spec.dryRun rules (unanchored regular expressions, as in Argo)."""
    names = [str(m.get("name")) for m in (run.get("spec") or {}).get("metrics") or []]
    matched: set[str] = set()
    for rule in (run.get("spec") or {}).get("dryRun") or []:
        try:
            pattern = re.compile(str(rule.get("metricName", "")))
        except re.error:
            continue
        matched.update(name for name in names if pattern.search(name))
    return matched


def record_analysis_run(run: dict[str, Any]) -> None:
    """Remember the latest state of an AnalysisRun for the info gauges."""
    meta = run.get("metadata") or {}
    status = run.get("status") or {}
    results = {str(r.get("name")): r for r in status.get("metricResults") or [] if isinstance(r, dict)}
    dry_run = _dry_run_metrics(run)
    metrics = []
    for metric in (run.get("spec") or {}).get("metrics") or []:
        name = str(metric.get("name"))
        metrics.append(
            {
                "name": name,
                "type": metric_provider_type(metric),
                "dry_run": "true" if name in dry_run else "false",
                "phase": str((results.get(name) or {}).get("phase") or ""),
            }
        )
    snapshot = {"phase": str(status.get("phase") or ""), "metrics": metrics}
    with _lock:
        _analysis_runs[(meta.get("namespace", ""), meta.get("name", ""))] = snapshot


def forget_analysis_run(namespace: str, name: str) -> None:
    """The AnalysisRun is gone: drop its info series and every series labelled with it."""
    with _lock:
        _analysis_runs.pop((namespace, name), None)
    for metric in (ANALYSIS_RUN_RECONCILE, ANALYSIS_RUN_RECONCILE_ERROR):
        _remove_series(metric, _NAMESPACE_NAME, namespace=namespace, name=name)
    _remove_series(K8S_REQUESTS, _K8S_REQUEST_LABELS, kind="analysisruns", namespace=namespace, name=name)


# ----------------------------------------------------------------- collector


def _is(phase: str, candidate: str) -> float:
    if candidate == "Pending":
        return 1.0 if phase in ("Pending", "") else 0.0
    return 1.0 if phase == candidate else 0.0


class _InfoCollector(Collector):
    """Builds the info gauges from the recorded snapshots at scrape time."""

    def collect(self) -> Iterator[Metric]:
        with _lock:
            rollouts = sorted(_rollouts.items())
            runs = sorted(_analysis_runs.items())
        info = GaugeMetricFamily(
            "rollout_info",
            "Information about rollout.",
            labels=[*_NAMESPACE_NAME, "strategy", "traffic_router", "phase"],
        )
        phase_family = GaugeMetricFamily(
            "rollout_phase",
            "Information on the state of the rollout (DEPRECATED - use rollout_info)",
            labels=[*_NAMESPACE_NAME, "strategy", "phase"],
        )
        replicas = {
            field: GaugeMetricFamily(f"rollout_info_replicas_{field}", help_text, labels=_NAMESPACE_NAME)
            for field, help_text in (
                ("available", "The number of available replicas per rollout."),
                ("unavailable", "The number of unavailable replicas per rollout."),
                ("desired", "The number of desired replicas per rollout."),
                ("updated", "The number of updated replicas per rollout."),
            )
        }
        for (namespace, name), snap in rollouts:
            info.add_metric([namespace, name, snap["strategy"], snap["traffic_router"], snap["phase"]], 1)
            for field, family in replicas.items():
                family.add_metric([namespace, name], float(snap[field]))
            for candidate in ROLLOUT_PHASES:
                value = 1.0 if snap["phase"] == candidate else 0.0
                phase_family.add_metric([namespace, name, snap["strategy"], candidate], value)
        yield info
        yield from replicas.values()
        yield phase_family

        run_info = GaugeMetricFamily(
            "analysis_run_info", "Information about analysis run.", labels=[*_NAMESPACE_NAME, "phase"]
        )
        run_phase = GaugeMetricFamily(
            "analysis_run_phase",
            "Information on the state of the Analysis Run (DEPRECATED - use analysis_run_info)",
            labels=[*_NAMESPACE_NAME, "phase"],
        )
        metric_type = GaugeMetricFamily(
            "analysis_run_metric_type",
            "Information on the type of a specific metric in the Analysis Runs",
            labels=[*_NAMESPACE_NAME, "metric", "type"],
        )
        metric_phase = GaugeMetricFamily(
            "analysis_run_metric_phase",
            "Information on the duration of a specific metric in the Analysis Run",
            labels=[*_NAMESPACE_NAME, "metric", "type", "dry_run", "phase"],
        )
        for (namespace, name), snap in runs:
            run_info.add_metric([namespace, name, snap["phase"]], 1)
            for candidate in ANALYSIS_PHASES:
                run_phase.add_metric([namespace, name, candidate], _is(snap["phase"], candidate))
            for metric in snap["metrics"]:
                metric_type.add_metric([namespace, name, metric["name"], metric["type"]], 1)
                for candidate in ANALYSIS_PHASES:
                    metric_phase.add_metric(
                        [namespace, name, metric["name"], metric["type"], metric["dry_run"], candidate],
                        _is(metric["phase"], candidate),
                    )
        yield from (run_info, run_phase, metric_type, metric_phase)

        depth = GaugeMetricFamily("workqueue_depth", "Current depth of workqueue", labels=["name"])
        unfinished = GaugeMetricFamily(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has done that is in progress and hasn't been observed by work_duration. "
            "Large values indicate stuck threads. One can deduce the number of stuck threads by observing the "
            "rate at which this increases.",
            labels=["name"],
        )
        longest = GaugeMetricFamily(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running.",
            labels=["name"],
        )
        for queue in sorted(_queues, key=lambda q: q.name):
            now = queue.now()
            running = [now - started for started in list(queue.processing_since.values())]
            depth.add_metric([queue.name], float(len(queue)))
            unfinished.add_metric([queue.name], sum(running))
            longest.add_metric([queue.name], max(running, default=0.0))
        yield from (depth, unfinished, longest)

        controller_info = GaugeMetricFamily(
            "argo_rollouts_controller_info", "Running Argo-rollouts version", labels=["version"]
        )
        controller_info.add_metric([__version__], 1)
        yield controller_info


REGISTRY.register(_InfoCollector())


def reset_for_tests() -> None:
    """Forget every recorded object (tests share the process-wide registry)."""
    with _lock:
        _rollouts.clear()
        _analysis_runs.clear()


# ---------------------------------------------------------------------- HTTP


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def start_http(
    *,
    metrics_port: int,
    healthz_port: int,
    ready: Callable[[], bool],
    healthy: Callable[[], bool] = lambda: True,
    host: str = "0.0.0.0",
) -> list[web.AppRunner]:
    """Serve /metrics on metrics_port and /healthz, /readyz on healthz_port; clean up the runners to stop.

    Port 0 picks a free port (see `bound_port`). The two may share a port.
    """

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok") if healthy() else web.Response(status=503, text="unhealthy")

    async def readyz(_: web.Request) -> web.Response:
        return web.Response(text="ok") if ready() else web.Response(status=503, text="not ready")

    health_routes = [web.get("/healthz", healthz), web.get("/readyz", readyz)]
    metrics_routes = [web.get("/metrics", _metrics)]
    plan = (
        [(metrics_port, metrics_routes + health_routes)]
        if metrics_port == healthz_port and metrics_port != 0
        else [(metrics_port, metrics_routes), (healthz_port, health_routes)]
    )
    runners = []
    try:
        for port, routes in plan:
            app = web.Application()
            app.add_routes(routes)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, host, port).start()
    except BaseException:
        for runner in runners:
            await runner.cleanup()
        raise
    return runners


def bound_port(runner: web.AppRunner) -> int:
    """The port a runner from start_http listens on."""
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    raise RuntimeError("the server is not listening on a TCP port")
