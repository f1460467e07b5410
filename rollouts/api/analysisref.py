"""How a Rollout (and an Experiment) points at analysis: template references, arguments, run status.

These models are the rollout side of analysis: which templates to run with
which arguments, dry-run and retention settings, and the run status the
rollout records. The AnalysisTemplate/AnalysisRun resources themselves live in
rollouts.api.analysis, which reuses some of these (the same JSON shapes).
"""

from __future__ import annotations

from typing import Literal

from rollouts.api.common import K8sModel
from rollouts.api.numbers import Int32
from rollouts.api.podtemplate import PodTemplateMetadata


class AnalysisRunMetadata(PodTemplateMetadata):
    pass


class FieldRef(K8sModel):
    field_path: str


class ArgumentValueFrom(K8sModel):
    pod_template_hash_value: Literal["Stable", "Latest"] | None = None
    field_ref: FieldRef | None = None


class AnalysisRunArgument(K8sModel):
    name: str
    value: str | None = None
    value_from: ArgumentValueFrom | None = None


class AnalysisTemplateRef(K8sModel):
    template_name: str
    cluster_scope: bool | None = None


class DryRun(K8sModel):
    metric_name: str


class MeasurementRetention(K8sModel):
    metric_name: str
    limit: Int32


class RolloutAnalysis(K8sModel):
    templates: list[AnalysisTemplateRef] | None = None
    args: list[AnalysisRunArgument] | None = None
    dry_run: list[DryRun] | None = None
    measurement_retention: list[MeasurementRetention] | None = None
    analysis_run_metadata: AnalysisRunMetadata | None = None


class RolloutAnalysisBackground(RolloutAnalysis):
    starting_step: Int32 | None = None


class RolloutAnalysisRunStatus(K8sModel):
    name: str
    status: str
    message: str | None = None
