"""The canary strategy of a Rollout: its steps (setWeight, pause, experiment, analysis, ...) and status.

Defaults that Argo applies when a field is unset are methods here
(`effective_*`), so every reader gets the same default.
"""

from __future__ import annotations

from typing import Any

from rollouts.api.analysisref import (
    AnalysisRunArgument,
    AnalysisRunMetadata,
    DryRun,
    RolloutAnalysis,
    RolloutAnalysisBackground,
    RolloutAnalysisRunStatus,
)
from rollouts.api.common import IntOrString, InvalidValueError, K8sModel, LabelSelector, parse_duration
from rollouts.api.constants import DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE
from rollouts.api.numbers import Int32
from rollouts.api.podtemplate import AntiAffinity, PodTemplateMetadata
from rollouts.api.trafficrouting import RolloutTrafficRouting, SetHeaderRoute, SetMirrorRoute, TrafficWeights


class RolloutPause(K8sModel):
    duration: IntOrString | None = None

    def duration_seconds(self) -> int:
        """Argo's DurationSeconds: 0 when unset (pause until promoted), -1 when unparsable."""
        if self.duration is None:
            return 0
        try:
            seconds = parse_duration(self.duration)
        except InvalidValueError:
            return -1
        return int(seconds or 0)


class SetCanaryScale(K8sModel):
    weight: Int32 | None = None
    replicas: Int32 | None = None
    match_traffic_weight: bool | None = None


class PluginStep(K8sModel):
    name: str
    config: Any | None = None


class TemplateService(K8sModel):
    name: str | None = None


class RolloutExperimentTemplate(K8sModel):
    name: str
    spec_ref: str
    replicas: Int32 | None = None
    metadata: PodTemplateMetadata | None = None
    selector: LabelSelector | None = None
    weight: Int32 | None = None
    service: TemplateService | None = None


class RolloutExperimentStepAnalysisTemplateRef(K8sModel):
    name: str
    template_name: str
    cluster_scope: bool | None = None
    args: list[AnalysisRunArgument] | None = None
    required_for_completion: bool | None = None


class RolloutExperimentStep(K8sModel):
    templates: list[RolloutExperimentTemplate]
    duration: str | None = None
    analyses: list[RolloutExperimentStepAnalysisTemplateRef] | None = None
    dry_run: list[DryRun] | None = None
    analysis_run_metadata: AnalysisRunMetadata | None = None
    scale_down_delay_seconds: Int32 | None = None


class CanaryStep(K8sModel):
    set_weight: Int32 | None = None
    pause: RolloutPause | None = None
    experiment: RolloutExperimentStep | None = None
    analysis: RolloutAnalysis | None = None
    set_canary_scale: SetCanaryScale | None = None
    set_header_route: SetHeaderRoute | None = None
    set_mirror_route: SetMirrorRoute | None = None
    plugin: PluginStep | None = None

    def kinds(self) -> list[str]:
        """The step fields that are set (a valid step has exactly one)."""
        return [alias for name, alias in _STEP_FIELDS if getattr(self, name) is not None]


_STEP_FIELDS = (
    ("set_weight", "setWeight"),
    ("pause", "pause"),
    ("experiment", "experiment"),
    ("analysis", "analysis"),
    ("set_canary_scale", "setCanaryScale"),
    ("set_header_route", "setHeaderRoute"),
    ("set_mirror_route", "setMirrorRoute"),
    ("plugin", "plugin"),
)


class PingPongSpec(K8sModel):
    ping_service: str
    pong_service: str


class ReplicaProgressThreshold(K8sModel):
    type: str
    value: Int32


class CanaryStrategy(K8sModel):
    canary_service: str | None = None
    stable_service: str | None = None
    steps: list[CanaryStep] | None = None
    traffic_routing: RolloutTrafficRouting | None = None
    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None
    analysis: RolloutAnalysisBackground | None = None
    anti_affinity: AntiAffinity | None = None
    canary_metadata: PodTemplateMetadata | None = None
    stable_metadata: PodTemplateMetadata | None = None
    scale_down_delay_seconds: Int32 | None = None
    scale_down_delay_revision_limit: Int32 | None = None
    abort_scale_down_delay_seconds: Int32 | None = None
    dynamic_stable_scale: bool | None = None
    ping_pong: PingPongSpec | None = None
    min_pods_per_replica_set: Int32 | None = None
    replica_progress_threshold: ReplicaProgressThreshold | None = None

    def effective_max_surge(self) -> IntOrString:
        return self.max_surge if self.max_surge is not None else DEFAULT_MAX_SURGE

    def effective_max_unavailable(self) -> IntOrString:
        return self.max_unavailable if self.max_unavailable is not None else DEFAULT_MAX_UNAVAILABLE

    def effective_steps(self) -> list[CanaryStep]:
        return self.steps or []


class CanaryStatus(K8sModel):
    current_step_analysis_run_status: RolloutAnalysisRunStatus | None = None
    current_background_analysis_run_status: RolloutAnalysisRunStatus | None = None
    current_experiment: str | None = None
    weights: TrafficWeights | None = None
    stable_ping_pong: str | None = None
    step_plugin_statuses: list[dict[str, Any]] | None = None
