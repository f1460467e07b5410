"""The Rollout resource (argoproj.io/v1alpha1), field for field as Argo Rollouts defines it.

This module holds the resource, its spec and its status; the strategies and
what they reference live next to it, one module per concern (canary.py,
bluegreen.py, trafficrouting.py, analysisref.py, podtemplate.py). Their public
models are re-exported here, so `from rollouts.api.rollout import CanaryStep`
keeps working wherever a caller only thinks of "the Rollout's models".

Pod templates stay plain dicts: we never need core/v1 as typed objects, and a
dict round-trips whatever a newer Kubernetes adds.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from rollouts.api.analysisref import (
    AnalysisRunArgument,
    AnalysisRunMetadata,
    AnalysisTemplateRef,
    ArgumentValueFrom,
    DryRun,
    FieldRef,
    MeasurementRetention,
    RolloutAnalysis,
    RolloutAnalysisBackground,
    RolloutAnalysisRunStatus,
)
from rollouts.api.bluegreen import BlueGreenStatus, BlueGreenStrategy
from rollouts.api.canary import (
    CanaryStatus,
    CanaryStep,
    CanaryStrategy,
    PingPongSpec,
    PluginStep,
    ReplicaProgressThreshold,
    RolloutExperimentStep,
    RolloutExperimentStepAnalysisTemplateRef,
    RolloutExperimentTemplate,
    RolloutPause,
    SetCanaryScale,
    TemplateService,
)
from rollouts.api.common import K8sModel, LabelSelector, ObjectMeta
from rollouts.api.constants import (
    API_VERSION,
    DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS,
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_REPLICAS,
    DEFAULT_REVISION_HISTORY_LIMIT,
    DEFAULT_SCALE_DOWN_DELAY_SECONDS,
    DEFAULT_SUCCESSFUL_RUN_HISTORY_LIMIT,
    DEFAULT_UNSUCCESSFUL_RUN_HISTORY_LIMIT,
    ROLLOUT_KIND,
)
from rollouts.api.numbers import Int32, Int64
from rollouts.api.podtemplate import AntiAffinity, PodTemplateMetadata, PreferredDuringScheduling
from rollouts.api.trafficrouting import (
    ALBStatus,
    AwsResourceRef,
    HeaderRoutingMatch,
    RolloutTrafficRouting,
    RouteMatch,
    SetHeaderRoute,
    SetMirrorRoute,
    StringMatch,
    TrafficWeights,
    WeightDestination,
)


class ObjectRef(K8sModel):
    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    scale_down: Literal["never", "onsuccess", "progressively"] | None = None


class RolloutStrategy(K8sModel):
    blue_green: BlueGreenStrategy | None = None
    canary: CanaryStrategy | None = None


class AnalysisRunStrategy(K8sModel):
    successful_run_history_limit: Int32 | None = None
    unsuccessful_run_history_limit: Int32 | None = None


class RollbackWindowSpec(K8sModel):
    revisions: Int32 | None = None


class RolloutSpec(K8sModel):
    replicas: Int32 | None = None
    selector: LabelSelector | None = None
    template: dict[str, Any] | None = None
    workload_ref: ObjectRef | None = None
    min_ready_seconds: Int32 | None = None
    rollback_window: RollbackWindowSpec | None = None
    strategy: RolloutStrategy = Field(default_factory=RolloutStrategy)
    revision_history_limit: Int32 | None = None
    paused: bool | None = None
    progress_deadline_seconds: Int32 | None = None
    progress_deadline_abort: bool | None = None
    restart_at: str | None = None
    analysis: AnalysisRunStrategy | None = None

    def effective_replicas(self) -> int:
        return DEFAULT_REPLICAS if self.replicas is None else self.replicas

    def effective_revision_history_limit(self) -> int:
        if self.revision_history_limit is None:
            return DEFAULT_REVISION_HISTORY_LIMIT
        return self.revision_history_limit

    def effective_progress_deadline_seconds(self) -> int:
        if self.progress_deadline_seconds is None:
            return DEFAULT_PROGRESS_DEADLINE_SECONDS
        return self.progress_deadline_seconds

    def effective_min_ready_seconds(self) -> int:
        return self.min_ready_seconds or 0

    def effective_successful_run_history_limit(self) -> int:
        if self.analysis is None or self.analysis.successful_run_history_limit is None:
            return DEFAULT_SUCCESSFUL_RUN_HISTORY_LIMIT
        return self.analysis.successful_run_history_limit

    def effective_unsuccessful_run_history_limit(self) -> int:
        if self.analysis is None or self.analysis.unsuccessful_run_history_limit is None:
            return DEFAULT_UNSUCCESSFUL_RUN_HISTORY_LIMIT
        return self.analysis.unsuccessful_run_history_limit

    def scale_down_delay_seconds(self) -> int:
        """Argo's GetScaleDownDelaySecondsOrDefault: delay before the old ReplicaSet scales down.

        Blue-green: 30 unless set. Canary: only with traffic routing (30 unless
        set); a basic canary scales down at once.
        """
        blue_green, canary = self.strategy.blue_green, self.strategy.canary
        if blue_green is not None:
            return blue_green.effective_scale_down_delay_seconds()
        if canary is not None and canary.traffic_routing is not None:
            if canary.scale_down_delay_seconds is None:
                return DEFAULT_SCALE_DOWN_DELAY_SECONDS
            return canary.scale_down_delay_seconds
        return 0

    def abort_scale_down_delay_seconds(self) -> tuple[int | None, bool]:
        """Argo's GetAbortScaleDownDelaySecondsOrDefault: (delay, was it set explicitly).

        A delay of None means "never scale down on abort" (the user wrote 0).
        Blue-green defaults to 30; canary to 30 with traffic routing, else 0.
        """
        blue_green, canary = self.strategy.blue_green, self.strategy.canary
        explicit: int | None = None
        if blue_green is not None:
            explicit = blue_green.abort_scale_down_delay_seconds
        elif canary is not None and canary.traffic_routing is not None:
            explicit = canary.abort_scale_down_delay_seconds
        else:
            return 0, False
        if explicit is None:
            return DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS, False
        return (None if explicit == 0 else explicit), True


class PauseCondition(K8sModel):
    reason: str
    start_time: str


class RolloutCondition(K8sModel):
    type: str
    status: str
    last_update_time: str | None = None
    last_transition_time: str | None = None
    reason: str | None = None
    message: str | None = None


class RolloutDurationStatus(K8sModel):
    rollout_started_at: str | None = None
    manual_pause_started_at: str | None = None
    total_manual_pause_duration_seconds: Int64 | None = None
    finished_at: str | None = None
    completion_status: str | None = None  # Promoted | FastPromoted | Aborted | ...


class RolloutStatus(K8sModel):
    abort: bool | None = None
    pause_conditions: list[PauseCondition] | None = None
    controller_pause: bool | None = None
    aborted_at: str | None = None
    current_pod_hash: str | None = None
    current_step_hash: str | None = None
    replicas: Int32 | None = None
    updated_replicas: Int32 | None = None
    ready_replicas: Int32 | None = None
    available_replicas: Int32 | None = None
    current_step_index: Int32 | None = None
    collision_count: Int32 | None = None
    observed_generation: str | None = None
    conditions: list[RolloutCondition] | None = None
    canary: CanaryStatus | None = None
    blue_green: BlueGreenStatus | None = None
    hpa_replicas: Int32 | None = Field(default=None, alias="HPAReplicas")
    selector: str | None = None
    stable_rs: str | None = Field(default=None, alias="stableRS")
    restarted_at: str | None = None
    promote_full: bool | None = None
    phase: str | None = None
    message: str | None = None
    workload_observed_generation: str | None = None
    alb: ALBStatus | None = None
    albs: list[ALBStatus] | None = None
    duration: RolloutDurationStatus | None = None

    def condition(self, condition_type: str) -> RolloutCondition | None:
        for condition in self.conditions or []:
            if condition.type == condition_type:
                return condition
        return None


class Rollout(K8sModel):
    api_version: str = API_VERSION
    kind: str = ROLLOUT_KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: RolloutSpec = Field(default_factory=RolloutSpec)
    status: RolloutStatus | None = None

    @property
    def name(self) -> str:
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or ""


__all__ = [
    "ALBStatus",
    "AnalysisRunArgument",
    "AnalysisRunMetadata",
    "AnalysisRunStrategy",
    "AnalysisTemplateRef",
    "AntiAffinity",
    "ArgumentValueFrom",
    "AwsResourceRef",
    "BlueGreenStatus",
    "BlueGreenStrategy",
    "CanaryStatus",
    "CanaryStep",
    "CanaryStrategy",
    "DryRun",
    "FieldRef",
    "HeaderRoutingMatch",
    "MeasurementRetention",
    "ObjectRef",
    "PauseCondition",
    "PingPongSpec",
    "PluginStep",
    "PodTemplateMetadata",
    "PreferredDuringScheduling",
    "ReplicaProgressThreshold",
    "RollbackWindowSpec",
    "Rollout",
    "RolloutAnalysis",
    "RolloutAnalysisBackground",
    "RolloutAnalysisRunStatus",
    "RolloutCondition",
    "RolloutDurationStatus",
    "RolloutExperimentStep",
    "RolloutExperimentStepAnalysisTemplateRef",
    "RolloutExperimentTemplate",
    "RolloutPause",
    "RolloutSpec",
    "RolloutStatus",
    "RolloutStrategy",
    "RolloutTrafficRouting",
    "RouteMatch",
    "SetCanaryScale",
    "SetHeaderRoute",
    "SetMirrorRoute",
    "StringMatch",
    "TemplateService",
    "TrafficWeights",
    "WeightDestination",
]
