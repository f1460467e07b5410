"""Experiment (argoproj.io/v1alpha1): parsed and round-tripped; not yet run by a controller."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from rollouts.api.common import K8sModel, LabelSelector, ObjectMeta
from rollouts.api.constants import (
    API_VERSION,
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_SCALE_DOWN_DELAY_SECONDS,
    EXPERIMENT_KIND,
)
from rollouts.api.numbers import Int32
from rollouts.api.rollout import AnalysisRunArgument, AnalysisRunMetadata, DryRun, MeasurementRetention, TemplateService


class TemplateSpec(K8sModel):
    name: str
    replicas: Int32 | None = None
    min_ready_seconds: Int32 | None = None
    selector: LabelSelector | None = None
    template: dict[str, Any] | None = None
    service: TemplateService | None = None


class ExperimentAnalysisTemplateRef(K8sModel):
    name: str
    template_name: str
    cluster_scope: bool | None = None
    args: list[AnalysisRunArgument] | None = None
    required_for_completion: bool | None = None


class ExperimentSpec(K8sModel):
    templates: list[TemplateSpec] = Field(default_factory=list)
    duration: str | None = None
    progress_deadline_seconds: Int32 | None = None
    terminate: bool | None = None
    analyses: list[ExperimentAnalysisTemplateRef] | None = None
    scale_down_delay_seconds: Int32 | None = None
    dry_run: list[DryRun] | None = None
    measurement_retention: list[MeasurementRetention] | None = None
    analysis_run_metadata: AnalysisRunMetadata | None = None

    def effective_progress_deadline_seconds(self) -> int:
        if self.progress_deadline_seconds is None:
            return DEFAULT_PROGRESS_DEADLINE_SECONDS
        return self.progress_deadline_seconds

    def effective_scale_down_delay_seconds(self) -> int:
        if self.scale_down_delay_seconds is None:
            return DEFAULT_SCALE_DOWN_DELAY_SECONDS
        return self.scale_down_delay_seconds


class TemplateStatus(K8sModel):
    name: str
    replicas: Int32 = 0
    updated_replicas: Int32 = 0
    ready_replicas: Int32 = 0
    available_replicas: Int32 = 0
    collision_count: Int32 | None = None
    status: str | None = None
    message: str | None = None
    last_transition_time: str | None = None
    service_name: str | None = None
    pod_template_hash: str | None = None


class ExperimentCondition(K8sModel):
    type: str
    status: str
    last_update_time: str | None = None
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None


class ExperimentAnalysisRunStatus(K8sModel):
    name: str
    analysis_run: str
    phase: str
    message: str | None = None


class ExperimentStatus(K8sModel):
    phase: str | None = None
    message: str | None = None
    template_statuses: list[TemplateStatus] | None = None
    available_at: str | None = None
    conditions: list[ExperimentCondition] | None = None
    analysis_runs: list[ExperimentAnalysisRunStatus] | None = None


class Experiment(K8sModel):
    api_version: str = API_VERSION
    kind: str = EXPERIMENT_KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ExperimentSpec = Field(default_factory=ExperimentSpec)
    status: ExperimentStatus | None = None
