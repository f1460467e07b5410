"""The Rollout resource (argoproj.io/v1alpha1), field for field as Argo Rollouts defines it.

Pod templates stay plain dicts: we never need core/v1 as typed objects, and a
dict round-trips whatever a newer Kubernetes adds. Traffic-routing and other
provider-specific blocks are kept as dicts too until a router uses them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from rollouts.api.common import IntOrString, InvalidValueError, K8sModel, LabelSelector, ObjectMeta, parse_duration
from rollouts.api.constants import (
    API_VERSION,
    DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS,
    DEFAULT_AUTO_PROMOTION_ENABLED,
    DEFAULT_MAX_SURGE,
    DEFAULT_MAX_UNAVAILABLE,
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_REPLICAS,
    DEFAULT_REVISION_HISTORY_LIMIT,
    DEFAULT_SCALE_DOWN_DELAY_SECONDS,
    DEFAULT_SUCCESSFUL_RUN_HISTORY_LIMIT,
    DEFAULT_UNSUCCESSFUL_RUN_HISTORY_LIMIT,
    ROLLOUT_KIND,
)


class ObjectRef(K8sModel):
    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    scale_down: Literal["never", "onsuccess", "progressively"] | None = None


class PodTemplateMetadata(K8sModel):
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


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
    limit: int


class RolloutAnalysis(K8sModel):
    templates: list[AnalysisTemplateRef] | None = None
    args: list[AnalysisRunArgument] | None = None
    dry_run: list[DryRun] | None = None
    measurement_retention: list[MeasurementRetention] | None = None
    analysis_run_metadata: AnalysisRunMetadata | None = None


class RolloutAnalysisBackground(RolloutAnalysis):
    starting_step: int | None = None


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
    weight: int | None = None
    replicas: int | None = None
    match_traffic_weight: bool | None = None


class StringMatch(K8sModel):
    exact: str | None = None
    prefix: str | None = None
    regex: str | None = None


class HeaderRoutingMatch(K8sModel):
    header_name: str
    header_value: StringMatch | None = None


class SetHeaderRoute(K8sModel):
    name: str | None = None
    match: list[HeaderRoutingMatch] | None = None


class RouteMatch(K8sModel):
    method: StringMatch | None = None
    path: StringMatch | None = None
    headers: dict[str, StringMatch] | None = None


class SetMirrorRoute(K8sModel):
    name: str
    match: list[RouteMatch] | None = None
    percentage: int | None = None


class PluginStep(K8sModel):
    name: str
    config: Any | None = None


class TemplateService(K8sModel):
    name: str | None = None


class RolloutExperimentTemplate(K8sModel):
    name: str
    spec_ref: str
    replicas: int | None = None
    metadata: PodTemplateMetadata | None = None
    selector: LabelSelector | None = None
    weight: int | None = None
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
    scale_down_delay_seconds: int | None = None


class CanaryStep(K8sModel):
    set_weight: int | None = None
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


class PreferredDuringScheduling(K8sModel):
    weight: int


class AntiAffinity(K8sModel):
    preferred_during_scheduling_ignored_during_execution: PreferredDuringScheduling | None = None
    required_during_scheduling_ignored_during_execution: dict[str, Any] | None = None


class PingPongSpec(K8sModel):
    ping_service: str
    pong_service: str


class ReplicaProgressThreshold(K8sModel):
    type: str
    value: int


class RolloutTrafficRouting(K8sModel):
    """Provider blocks (istio, nginx, alb, smi, ...) are kept as plain dicts until a router reads them."""

    istio: dict[str, Any] | None = None
    nginx: dict[str, Any] | None = None
    alb: dict[str, Any] | None = None
    smi: dict[str, Any] | None = None
    ambassador: dict[str, Any] | None = None
    app_mesh: dict[str, Any] | None = None
    traefik: dict[str, Any] | None = None
    managed_routes: list[dict[str, Any]] | None = None
    apisix: dict[str, Any] | None = None
    plugins: dict[str, Any] | None = None
    max_traffic_weight: int | None = None

    def providers(self) -> list[str]:
        """The traffic providers configured (their JSON names; "plugins" for plugin routers)."""
        names = ("istio", "nginx", "alb", "smi", "ambassador", "appMesh", "traefik", "apisix")
        found = [name for name in names if self.to_dict().get(name) is not None]
        if self.plugins:
            found.append("plugins")
        return found


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
    scale_down_delay_seconds: int | None = None
    scale_down_delay_revision_limit: int | None = None
    abort_scale_down_delay_seconds: int | None = None
    dynamic_stable_scale: bool | None = None
    ping_pong: PingPongSpec | None = None
    min_pods_per_replica_set: int | None = None
    replica_progress_threshold: ReplicaProgressThreshold | None = None

    def effective_max_surge(self) -> IntOrString:
        return self.max_surge if self.max_surge is not None else DEFAULT_MAX_SURGE

    def effective_max_unavailable(self) -> IntOrString:
        return self.max_unavailable if self.max_unavailable is not None else DEFAULT_MAX_UNAVAILABLE

    def effective_steps(self) -> list[CanaryStep]:
        return self.steps or []


class BlueGreenStrategy(K8sModel):
    active_service: str | None = None
    preview_service: str | None = None
    preview_replica_count: int | None = None
    auto_promotion_enabled: bool | None = None
    auto_promotion_seconds: int | None = None
    max_unavailable: IntOrString | None = None
    scale_down_delay_seconds: int | None = None
    scale_down_delay_revision_limit: int | None = None
    pre_promotion_analysis: RolloutAnalysis | None = None
    anti_affinity: AntiAffinity | None = None
    post_promotion_analysis: RolloutAnalysis | None = None
    preview_metadata: PodTemplateMetadata | None = None
    active_metadata: PodTemplateMetadata | None = None
    abort_scale_down_delay_seconds: int | None = None

    def effective_auto_promotion_enabled(self) -> bool:
        if self.auto_promotion_enabled is None:
            return DEFAULT_AUTO_PROMOTION_ENABLED
        return self.auto_promotion_enabled

    def effective_scale_down_delay_seconds(self) -> int:
        if self.scale_down_delay_seconds is None:
            return DEFAULT_SCALE_DOWN_DELAY_SECONDS
        return self.scale_down_delay_seconds

    def effective_abort_scale_down_delay_seconds(self) -> int:
        if self.abort_scale_down_delay_seconds is None:
            return DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS
        return self.abort_scale_down_delay_seconds


class RolloutStrategy(K8sModel):
    blue_green: BlueGreenStrategy | None = None
    canary: CanaryStrategy | None = None


class AnalysisRunStrategy(K8sModel):
    successful_run_history_limit: int | None = None
    unsuccessful_run_history_limit: int | None = None


class RollbackWindowSpec(K8sModel):
    revisions: int | None = None


class RolloutSpec(K8sModel):
    replicas: int | None = None
    selector: LabelSelector | None = None
    template: dict[str, Any] | None = None
    workload_ref: ObjectRef | None = None
    min_ready_seconds: int | None = None
    rollback_window: RollbackWindowSpec | None = None
    strategy: RolloutStrategy = Field(default_factory=RolloutStrategy)
    revision_history_limit: int | None = None
    paused: bool | None = None
    progress_deadline_seconds: int | None = None
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


class RolloutAnalysisRunStatus(K8sModel):
    name: str
    status: str
    message: str | None = None


class WeightDestination(K8sModel):
    weight: int = 0
    service_name: str | None = None
    pod_template_hash: str | None = None


class TrafficWeights(K8sModel):
    canary: WeightDestination = Field(default_factory=WeightDestination)
    stable: WeightDestination = Field(default_factory=WeightDestination)
    additional: list[WeightDestination] | None = None
    verified: bool | None = None


class CanaryStatus(K8sModel):
    current_step_analysis_run_status: RolloutAnalysisRunStatus | None = None
    current_background_analysis_run_status: RolloutAnalysisRunStatus | None = None
    current_experiment: str | None = None
    weights: TrafficWeights | None = None
    stable_ping_pong: str | None = None
    step_plugin_statuses: list[dict[str, Any]] | None = None


class BlueGreenStatus(K8sModel):
    preview_selector: str | None = None
    active_selector: str | None = None
    scale_up_preview_check_point: bool | None = None
    pre_promotion_analysis_run_status: RolloutAnalysisRunStatus | None = None
    post_promotion_analysis_run_status: RolloutAnalysisRunStatus | None = None


class AwsResourceRef(K8sModel):
    name: str = ""
    arn: str = ""
    full_name: str | None = None


class ALBStatus(K8sModel):
    load_balancer: AwsResourceRef | None = None
    canary_target_group: AwsResourceRef | None = None
    stable_target_group: AwsResourceRef | None = None
    ingress: str | None = None


class RolloutDurationStatus(K8sModel):
    rollout_started_at: str | None = None
    manual_pause_started_at: str | None = None
    total_manual_pause_duration_seconds: int | None = None
    finished_at: str | None = None
    completion_status: str | None = None  # Promoted | FastPromoted | Aborted | ...


class RolloutStatus(K8sModel):
    abort: bool | None = None
    pause_conditions: list[PauseCondition] | None = None
    controller_pause: bool | None = None
    aborted_at: str | None = None
    current_pod_hash: str | None = None
    current_step_hash: str | None = None
    replicas: int | None = None
    updated_replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    current_step_index: int | None = None
    collision_count: int | None = None
    observed_generation: str | None = None
    conditions: list[RolloutCondition] | None = None
    canary: CanaryStatus | None = None
    blue_green: BlueGreenStatus | None = None
    hpa_replicas: int | None = Field(default=None, alias="HPAReplicas")
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
