"""Experiment (argoproj.io/v1alpha1): parsed and round-tripped; not yet run by a controller."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from rollouts.api.common import K8sModel, LabelSelector, ObjectMeta
from rollouts.api.constants import API_VERSION, EXPERIMENT_KIND
from rollouts.api.rollout import AnalysisRunArgument, DryRun, MeasurementRetention, TemplateService


class TemplateSpec(K8sModel):
    name: str
    replicas: int | None = None
    min_ready_seconds: int | None = None
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
    progress_deadline_seconds: int | None = None
    terminate: bool | None = None
    analyses: list[ExperimentAnalysisTemplateRef] | None = None
    scale_down_delay_seconds: int | None = None
    dry_run: list[DryRun] | None = None
    measurement_retention: list[MeasurementRetention] | None = None


class Experiment(K8sModel):
    api_version: str = API_VERSION
    kind: str = EXPERIMENT_KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ExperimentSpec = Field(default_factory=ExperimentSpec)
    status: dict[str, Any] | None = None
