"""Job provider: a Kubernetes Job per measurement; Complete is Successful, Failed is Failed.

Named, labelled and owned as Argo does it, so tools that know Argo find them:
name `<run uid>.<metric>.<n>` (n = measurements taken so far + 1, the metric
name shortened to keep 63 characters), label `analysisrun.argoproj.io/uid`
on the Job and its pods, annotations naming the run, its namespace and the
metric, and a controller owner reference to the AnalysisRun (so deleting the
run deletes its Jobs). `run` creates the Job and leaves the measurement
Running with a `resumeAt`; `resume` reads the Job, backing off as
sqrt(2 x elapsed) seconds between looks; a pod stuck on an image that cannot
be pulled makes the measurement Inconclusive instead of waiting forever.
`terminate` deletes the Job (foreground, so its pods go too) and
`garbage_collect` deletes the oldest Jobs beyond the retention limit. The
provider reads and deletes only Jobs in the run's own namespace that the run
owns: the Job reference sits in the run's status, which is not trusted.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from rollouts.analysis.providers.base import Clock, MetricProvider, utc_now
from rollouts.api.analysis import AnalysisRun, Measurement, Metric
from rollouts.api.constants import (
    ANALYSIS_FAILED,
    ANALYSIS_INCONCLUSIVE,
    ANALYSIS_RUN_KIND,
    ANALYSIS_SUCCESSFUL,
    API_VERSION,
)
from rollouts.api.timestamps import format_time, parse_time
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import KubeError, NotFoundError
from rollouts.kube.resources import JOBS, PODS

JOB_NAME_KEY = "job-name"
JOB_NAMESPACE_KEY = "job-namespace"
RUN_NAME_ANNOTATION = "analysisrun.argoproj.io/name"
RUN_NAMESPACE_ANNOTATION = "analysisrun.argoproj.io/namespace"
METRIC_NAME_ANNOTATION = "analysisrun.argoproj.io/metric-name"
RUN_UID_LABEL = "analysisrun.argoproj.io/uid"
DNS_LABEL_LIMIT = 63
_TERMINAL_WAITING_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})


def _job_index(run: AnalysisRun, metric_name: str) -> int:
    for result in (run.status.metric_results if run.status else None) or []:
        if result.name == metric_name:
            return (result.count or 0) + (result.error or 0) + 1
    return 1


def job_name(run: AnalysisRun, metric: Metric) -> str:
    """Argo's newJobName: `<uid>.<metric>.<n>`, the metric name cut to fit 63 characters."""
    uid = run.metadata.uid or ""
    index = _job_index(run, metric.name)
    name = f"{uid}.{metric.name}.{index}"
    if len(name) <= DNS_LABEL_LIMIT:
        return name
    over = len(name) - DNS_LABEL_LIMIT
    return f"{uid}.{metric.name[: len(metric.name) - over]}.{index}"


def build_job(run: AnalysisRun, metric: Metric) -> dict[str, Any]:
    """The Job object for one measurement of `metric` (the metric's own spec and metadata)."""
    spec_metric = metric.provider.job
    if spec_metric is None:
        raise ValueError("metric has no job provider")
    uid = run.metadata.uid or ""
    meta = spec_metric.metadata
    labels = dict((meta.labels if meta else None) or {})
    annotations = dict((meta.annotations if meta else None) or {})
    labels[RUN_UID_LABEL] = uid
    annotations[RUN_NAME_ANNOTATION] = run.metadata.name or ""
    annotations[RUN_NAMESPACE_ANNOTATION] = run.metadata.namespace or ""
    annotations[METRIC_NAME_ANNOTATION] = metric.name
    spec = _deep_copy(spec_metric.spec)
    template = spec.setdefault("template", {})
    template_meta = template.setdefault("metadata", {})
    pod_labels = dict(template_meta.get("labels") or {})
    pod_labels[RUN_UID_LABEL] = uid
    template_meta["labels"] = pod_labels
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(run, metric),
            "namespace": run.metadata.namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": ANALYSIS_RUN_KIND,
                    "name": run.metadata.name,
                    "uid": uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
    }


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _terminal_pod_error(pods: list[dict[str, Any]]) -> str | None:
    for pod in pods:
        status = pod.get("status") or {}
        for key in ("initContainerStatuses", "containerStatuses"):
            for container in status.get(key) or []:
                waiting = (container.get("state") or {}).get("waiting") or {}
                if waiting.get("reason") in _TERMINAL_WAITING_REASONS:
                    name = (pod.get("metadata") or {}).get("name")
                    return (
                        f"Pod {name}, container {container.get('name')} has terminal error "
                        f"({waiting.get('reason')}): {waiting.get('message', '')}"
                    )
    return None


class JobProvider(MetricProvider):
    kind = "job"

    def __init__(self, kube: KubeClient, *, clock: Clock = utc_now) -> None:
        super().__init__(clock=clock)
        self.kube = kube

    async def run(self, run: AnalysisRun, metric: Metric) -> Measurement:
        measurement = self.started()
        try:
            job = build_job(run, metric)
        except ValueError as err:
            return self.error(measurement, str(err))
        namespace = job["metadata"]["namespace"]
        try:
            created = await self.kube.create(JOBS, namespace, job)
        except KubeError as err:
            if err.status != 409:
                return self.error(measurement, f"job create failed: {err}")
            # Created by an earlier reconcile that crashed before writing status: adopt it
            # only if it belongs to this run.
            try:
                created = await self.kube.get(JOBS, namespace, job["metadata"]["name"])
            except KubeError as get_err:
                return self.error(measurement, f"job create failed: {get_err}")
            if not self._owned(run, created):
                return self.error(measurement, f"job create failed: {err}")
        measurement.metadata = {
            JOB_NAME_KEY: created["metadata"]["name"],
            JOB_NAMESPACE_KEY: created["metadata"]["namespace"],
        }
        measurement.resume_at = measurement.started_at
        return measurement

    def _job_ref(self, run: AnalysisRun, measurement: Measurement) -> tuple[str, str]:
        """The Job a measurement refers to, always in the run's own namespace.

        The measurement metadata lives in the run's status, which anyone who
        may write the run can edit: a `job-namespace` naming another namespace
        is refused, never followed.
        """
        metadata = measurement.metadata or {}
        name = metadata.get(JOB_NAME_KEY)
        if not name:
            raise ValueError("job metadata reference missing")
        namespace = run.metadata.namespace or ""
        named = metadata.get(JOB_NAMESPACE_KEY)
        if named and named != namespace:
            raise ValueError(f"job {name} is not in the AnalysisRun's namespace {namespace}")
        return namespace, name

    def _owned(self, run: AnalysisRun, job: dict[str, Any]) -> bool:
        owners = (job.get("metadata") or {}).get("ownerReferences") or []
        return any(o.get("uid") == run.metadata.uid and o.get("controller") for o in owners)

    async def _owned_job(self, run: AnalysisRun, measurement: Measurement) -> dict[str, Any]:
        """Read the measurement's Job, refusing one this run does not own (a name edited into status)."""
        namespace, name = self._job_ref(run, measurement)
        job = await self.kube.get(JOBS, namespace, name)
        if not self._owned(run, job):
            raise ValueError(f"job {name} is not owned by this AnalysisRun")
        return job

    async def resume(self, run: AnalysisRun, metric: Metric, measurement: Measurement) -> Measurement:
        measurement = measurement.model_copy()
        now = self.clock()
        try:
            job = await self._owned_job(run, measurement)
        except (ValueError, KubeError) as err:
            return self.error(measurement, str(err))
        namespace = job["metadata"]["namespace"]
        for condition in (job.get("status") or {}).get("conditions") or []:
            if condition.get("status") not in (None, "True"):
                continue
            if condition.get("type") == "Complete":
                measurement.phase = ANALYSIS_SUCCESSFUL
            elif condition.get("type") == "Failed":
                measurement.phase = ANALYSIS_FAILED
                measurement.message = condition.get("message") or measurement.message
        if measurement.phase in (ANALYSIS_SUCCESSFUL, ANALYSIS_FAILED):
            measurement.finished_at = format_time(now)
            measurement.resume_at = None
            return measurement
        selector = ((job.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if selector:
            try:
                pods = await self.kube.list(
                    PODS,
                    namespace,
                    label_selector=",".join(f"{k}={v}" for k, v in sorted(selector.items())),
                )
            except KubeError as err:
                return self.error(measurement, str(err))
            problem = _terminal_pod_error(pods.get("items") or [])
            if problem:
                measurement.phase = ANALYSIS_INCONCLUSIVE
                measurement.message = problem
                measurement.finished_at = format_time(now)
                measurement.resume_at = None
                return measurement
        started = parse_time(measurement.started_at) or now
        elapsed = max((now - started).total_seconds(), 0.0)
        delay = max(math.sqrt(2 * elapsed), 1.0)
        measurement.resume_at = format_time(now + timedelta(seconds=delay))
        return measurement

    async def _delete(self, job: dict[str, Any]) -> None:
        meta = job["metadata"]
        try:
            # The uid precondition: never a Job that replaced ours under the same name.
            await self.kube.delete(JOBS, meta["namespace"], meta["name"], propagation="Foreground", uid=meta.get("uid"))
        except NotFoundError:
            return

    async def terminate(self, run: AnalysisRun, metric: Metric, measurement: Measurement) -> Measurement:
        measurement = measurement.model_copy()
        try:
            await self._delete(await self._owned_job(run, measurement))
        except NotFoundError:
            pass  # already gone
        except (ValueError, KubeError) as err:
            return self.error(measurement, str(err))
        measurement.phase = ANALYSIS_INCONCLUSIVE
        measurement.finished_at = format_time(self.clock())
        measurement.resume_at = None
        return measurement

    async def garbage_collect(self, run: AnalysisRun, metric: Metric, limit: int) -> None:
        namespace = run.metadata.namespace
        listed = await self.kube.list(JOBS, namespace, label_selector=f"{RUN_UID_LABEL}={run.metadata.uid}")
        jobs = [
            job
            for job in listed.get("items") or []
            if self._owned(run, job)
            and (job.get("metadata", {}).get("annotations") or {}).get(METRIC_NAME_ANNOTATION) in (None, metric.name)
        ]
        jobs.sort(key=lambda job: job.get("metadata", {}).get("creationTimestamp") or "")
        for job in jobs[: max(len(jobs) - limit, 0)]:
            await self._delete(job)
