"""AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun (argoproj.io/v1alpha1).

The providers we implement (prometheus, web, job) are typed; the others Argo
knows (datadog, newRelic, cloudWatch, ...) are kept as dicts so that templates
using them still parse, round-trip and get a clear "provider not supported"
measurement error rather than a rejected object.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from rollouts.api.common import IntOrString, K8sModel, ObjectMeta
from rollouts.api.constants import (
    ANALYSIS_RUN_KIND,
    ANALYSIS_TEMPLATE_KIND,
    API_VERSION,
    CLUSTER_ANALYSIS_TEMPLATE_KIND,
    DEFAULT_CONSECUTIVE_ERROR_LIMIT,
)
from rollouts.api.numbers import Int32, Int64
from rollouts.api.rollout import AnalysisTemplateRef, DryRun, FieldRef, MeasurementRetention


class SecretKeyRef(K8sModel):
    name: str
    key: str


class ValueFrom(K8sModel):
    secret_key_ref: SecretKeyRef | None = None
    field_ref: FieldRef | None = None


class Argument(K8sModel):
    name: str
    value: str | None = None
    value_from: ValueFrom | None = None


class BasicAuthConfig(K8sModel):
    username: str | None = None
    password: str | None = None


class Authentication(K8sModel):
    sigv4: dict[str, Any] | None = None
    oauth2: dict[str, Any] | None = None
    basic_auth: BasicAuthConfig | None = None


class WebMetricHeader(K8sModel):
    key: str
    value: str


class PrometheusRangeQueryArgs(K8sModel):
    start: str | None = None
    end: str | None = None
    step: str | None = None


class PrometheusMetric(K8sModel):
    address: str | None = None
    query: str | None = None
    authentication: Authentication | None = None
    timeout: Int64 | None = None
    insecure: bool | None = None
    headers: list[WebMetricHeader] | None = None
    range_query: PrometheusRangeQueryArgs | None = None


class WebMetric(K8sModel):
    method: str | None = None
    url: str
    headers: list[WebMetricHeader] | None = None
    body: str | None = None
    timeout_seconds: Int64 | None = None
    json_path: str | None = None
    insecure: bool | None = None
    json_body: Any | None = None
    authentication: Authentication | None = None


class JobMetric(K8sModel):
    metadata: ObjectMeta | None = None
    spec: dict[str, Any]


class MetricProvider(K8sModel):
    prometheus: PrometheusMetric | None = None
    web: WebMetric | None = None
    job: JobMetric | None = None
    kayenta: dict[str, Any] | None = None
    datadog: dict[str, Any] | None = None
    wavefront: dict[str, Any] | None = None
    new_relic: dict[str, Any] | None = None
    cloud_watch: dict[str, Any] | None = None
    graphite: dict[str, Any] | None = None
    influxdb: dict[str, Any] | None = None
    skywalking: dict[str, Any] | None = None
    plugin: dict[str, Any] | None = None

    def kinds(self) -> list[str]:
        """The provider keys that are set (a valid metric has exactly one)."""
        data = self.to_dict()
        return sorted(data)


class Metric(K8sModel):
    name: str
    interval: str | None = None
    initial_delay: str | None = None
    count: IntOrString | None = None
    success_condition: str | None = None
    failure_condition: str | None = None
    failure_limit: IntOrString | None = None
    inconclusive_limit: IntOrString | None = None
    consecutive_error_limit: IntOrString | None = None
    consecutive_success_limit: IntOrString | None = None
    provider: MetricProvider = Field(default_factory=MetricProvider)

    def effective_consecutive_error_limit(self) -> IntOrString:
        if self.consecutive_error_limit is None:
            return DEFAULT_CONSECUTIVE_ERROR_LIMIT
        return self.consecutive_error_limit


class AnalysisTemplateSpec(K8sModel):
    metrics: list[Metric] | None = None
    args: list[Argument] | None = None
    dry_run: list[DryRun] | None = None
    measurement_retention: list[MeasurementRetention] | None = None
    templates: list[AnalysisTemplateRef] | None = None


class AnalysisTemplate(K8sModel):
    api_version: str = API_VERSION
    kind: str = ANALYSIS_TEMPLATE_KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: AnalysisTemplateSpec = Field(default_factory=AnalysisTemplateSpec)


class ClusterAnalysisTemplate(AnalysisTemplate):
    kind: str = CLUSTER_ANALYSIS_TEMPLATE_KIND


class TTLStrategy(K8sModel):
    seconds_after_completion: Int32 | None = None
    seconds_after_failure: Int32 | None = None
    seconds_after_success: Int32 | None = None


class AnalysisRunSpec(K8sModel):
    metrics: list[Metric] = Field(default_factory=list)
    args: list[Argument] | None = None
    terminate: bool | None = None
    dry_run: list[DryRun] | None = None
    measurement_retention: list[MeasurementRetention] | None = None
    ttl_strategy: TTLStrategy | None = None


class Measurement(K8sModel):
    phase: str
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    value: str | None = None
    metadata: dict[str, str] | None = None
    resume_at: str | None = None


class MetricResult(K8sModel):
    name: str
    phase: str
    measurements: list[Measurement] | None = None
    message: str | None = None
    count: Int32 | None = None
    successful: Int32 | None = None
    failed: Int32 | None = None
    inconclusive: Int32 | None = None
    error: Int32 | None = None
    consecutive_error: Int32 | None = None
    dry_run: bool | None = None
    metadata: dict[str, str] | None = None
    consecutive_success: Int32 | None = None


class RunSummary(K8sModel):
    count: Int32 | None = None
    successful: Int32 | None = None
    failed: Int32 | None = None
    inconclusive: Int32 | None = None
    error: Int32 | None = None


class AnalysisRunStatus(K8sModel):
    phase: str | None = None
    message: str | None = None
    metric_results: list[MetricResult] | None = None
    started_at: str | None = None
    run_summary: RunSummary | None = None
    dry_run_summary: RunSummary | None = None
    completed_at: str | None = None


class AnalysisRun(K8sModel):
    api_version: str = API_VERSION
    kind: str = ANALYSIS_RUN_KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: AnalysisRunSpec = Field(default_factory=AnalysisRunSpec)
    status: AnalysisRunStatus | None = None
