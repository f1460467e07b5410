"""Spec validation the CRD schema cannot express, with messages that name the field.

Mirrors the checks of Argo Rollouts' `pkg/apis/rollouts/validation` that need
no cluster access: exactly one strategy, one action per canary step, weights
in range, a selector that matches the template, the services a strategy
needs, features that need (a particular kind of) traffic routing, anti-affinity
shape, durations that parse. The messages are Argo's where Argo has one, so a
user moving from Argo sees the same text; the paths are the real field paths
(Argo itself drops the `canary`/`blueGreen` segment), e.g.
`spec.strategy.canary.steps[2].setWeight: SetWeight needs to be between 0 and 100`.

`validate_rollout` returns plain strings `path: message` (the InvalidSpec
condition shows the first); `rollout_errors` returns them as `FieldError`s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rollouts.api.common import InvalidValueError, LabelSelector, parse_duration, scaled_value
from rollouts.api.podhash import TemplateTypeError, go_json_pod_template
from rollouts.api.rollout import (
    AnalysisRunArgument,
    AntiAffinity,
    BlueGreenStrategy,
    CanaryStep,
    CanaryStrategy,
    PingPongSpec,
    Rollout,
    RolloutTrafficRouting,
    StringMatch,
)

MISSING_FIELD = "Rollout has missing field '{}'"
INVALID_SET_WEIGHT = "SetWeight needs to be between 0 and {}"
INVALID_STEP = "Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause"
INVALID_STRATEGY = "Multiple Strategies can not be listed"
INVALID_DURATION = "Duration needs to be greater than 0"
INVALID_MAX_SURGE_MAX_UNAVAILABLE = "MaxSurge and MaxUnavailable both can not be zero"
DUPLICATED_SERVICES_BLUE_GREEN = (
    "This rollout uses the same service for the active and preview services, but two different services are required."
)
DUPLICATED_SERVICES_CANARY = (
    "This rollout uses the same service for the stable and canary services, but two different services are required."
)
DUPLICATED_PING_PONG = (
    "This rollout uses the same service for the ping and pong services, but two different services are required."
)
INVALID_PING_PONG = "Ping service and Pong service must to be set to use Ping-Pong feature"
PING_PONG_ROUTER_ONLY = "Ping-pong feature works with the ALB, Istio, and plugin-based traffic routers only"
MISSED_ALB_ROOT_SERVICE = "Root service field is required for the configuration with ALB and ping-pong feature enabled"
INVALID_ANTI_AFFINITY_STRATEGY = "AntiAffinity must have exactly one strategy listed"
INVALID_ANTI_AFFINITY_WEIGHT = "AntiAffinity weight must be between 1-100"
SCALE_DOWN_LIMIT_LARGER_THAN_REVISION_LIMIT = (
    "This rollout's revision history limit can not be smaller than the rollout's scale down limit"
)
INVALID_TRAFFIC_ROUTING = "Canary service and Stable service must to be set to use Traffic Routing"
INVALID_ANALYSIS_ARGS = "Analyses arguments must refer to valid object metadata supported by downwardAPI"
INVALID_CANARY_SCALE_DOWN_DELAY = "Canary scaleDownDelaySeconds can only be used with traffic routing"
INVALID_CANARY_DYNAMIC_STABLE_SCALE = "Canary dynamicStableScale can only be used with traffic routing"
INVALID_DYNAMIC_STABLE_SCALE_WITH_DELAY = "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds"
INVALID_MAX_WEIGHT_PROVIDER = "Canary maxTrafficWeight in traffic routing only supported in Nginx and Plugins"
INVALID_SET_CANARY_SCALE = "SetCanaryScale requires TrafficRouting to be set"
INVALID_SET_HEADER_ROUTE = "SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix"
INVALID_SET_MIRROR_ROUTE = "SetMirrorRoute requires TrafficRouting, supports Istio and Plugins"
STRING_MATCH_MULTIPLE = "StringMatch match value must have exactly one of the following: exact, regex, prefix"
STRING_MATCH_MISSING = "StringMatch value missed, match value must have one of the following: exact, regex, prefix"
ALB_HEADER_VALUE = "SetHeaderRoute match value invalid. ALB supports 'exact' value only"
ROUTE_NOT_IN_MANAGED_ROUTES = (
    "Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes"
)
EXPERIMENT_WEIGHT_WITHOUT_TRAFFIC_ROUTING = "Experiment template weight cannot be set unless TrafficRouting is enabled"
EXPERIMENT_WEIGHT_PROVIDER = (
    "Experiment template weight is only available for TrafficRouting with SMI, ALB, Istio and Plugins at this time"
)
SELECTOR_DOES_NOT_MATCH = "`selector` does not match template `labels`"

_DOWNWARD_METADATA = re.compile(r"^metadata\.(name|namespace|uid|labels|annotations)(\['[^']*'\])?$")
_SELECTOR_OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist"}


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: `path` in dotted/indexed form, e.g. `spec.strategy.canary.steps[0]`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def validate_rollout(rollout: Rollout) -> list[str]:
    """Every problem with the rollout's spec as `path: message`; empty when it is valid."""
    return [str(error) for error in rollout_errors(rollout)]


def rollout_errors(rollout: Rollout) -> list[FieldError]:
    errors: list[FieldError] = []
    _validate_spec(rollout, errors)
    strategy = rollout.spec.strategy
    if strategy.canary is None and strategy.blue_green is None:
        errors.append(
            FieldError("spec.strategy", MISSING_FIELD.format(".spec.strategy.canary or .spec.strategy.blueGreen"))
        )
    elif strategy.canary is not None and strategy.blue_green is not None:
        errors.append(FieldError("spec.strategy", INVALID_STRATEGY))
    elif strategy.blue_green is not None:
        _validate_blue_green(rollout, strategy.blue_green, errors)
    elif strategy.canary is not None:
        _validate_canary(strategy.canary, errors)
    return errors


# --------------------------------------------------------------------------- spec


def selector_matches(selector: LabelSelector, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels AND every matchExpression)."""
    for key, value in (selector.match_labels or {}).items():
        if labels.get(key) != value:
            return False
    for requirement in selector.match_expressions or []:
        present = requirement.key in labels
        values = requirement.values or []
        if requirement.operator == "In" and not (present and labels[requirement.key] in values):
            return False
        if requirement.operator == "NotIn" and present and labels[requirement.key] in values:
            return False
        if requirement.operator == "Exists" and not present:
            return False
        if requirement.operator == "DoesNotExist" and present:
            return False
    return True


def _validate_spec(rollout: Rollout, errors: list[FieldError]) -> None:
    spec = rollout.spec
    if spec.effective_replicas() < 0:
        errors.append(FieldError("spec.replicas", "must be greater than or equal to 0"))
    selector = spec.selector
    selector_ok = True
    if spec.workload_ref is None:
        if selector is None:
            errors.append(FieldError("spec.selector", MISSING_FIELD.format(".spec.selector")))
            selector_ok = False
        elif not selector.match_labels and not selector.match_expressions:
            errors.append(FieldError("spec.selector", "empty selector is invalid for deployment"))
            selector_ok = False
    elif spec.template:
        errors.append(FieldError("spec.template", "template must be empty for workload reference rollout"))
    if selector is not None:
        for index, requirement in enumerate(selector.match_expressions or []):
            path = f"spec.selector.matchExpressions[{index}]"
            if requirement.operator not in _SELECTOR_OPERATORS:
                errors.append(
                    FieldError(f"{path}.operator", f"not a valid selector operator: {requirement.operator!r}")
                )
                selector_ok = False
            elif requirement.operator in {"In", "NotIn"} and not requirement.values:
                errors.append(FieldError(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
                selector_ok = False
            elif requirement.operator in {"Exists", "DoesNotExist"} and requirement.values:
                errors.append(
                    FieldError(f"{path}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
                )
                selector_ok = False
    if spec.workload_ref is None:
        _validate_template(spec.template or {}, selector if selector_ok else None, errors)
    if spec.effective_min_ready_seconds() < 0:
        errors.append(FieldError("spec.minReadySeconds", "must be greater than or equal to 0"))
    if spec.effective_revision_history_limit() < 0:
        errors.append(FieldError("spec.revisionHistoryLimit", "must be greater than or equal to 0"))
    deadline = spec.effective_progress_deadline_seconds()
    if deadline < 0:
        errors.append(FieldError("spec.progressDeadlineSeconds", "must be greater than or equal to 0"))
    if deadline <= spec.effective_min_ready_seconds():
        errors.append(FieldError("spec.progressDeadlineSeconds", "must be greater than minReadySeconds"))


def _validate_template(template: dict[str, Any], selector: LabelSelector | None, errors: list[FieldError]) -> None:
    metadata = template.get("metadata") or {}
    labels = metadata.get("labels") or {}
    if selector is not None and not selector_matches(selector, labels):
        errors.append(FieldError("spec.template.metadata.labels", SELECTOR_DOES_NOT_MATCH))
    try:
        go_json_pod_template(template)
    except TemplateTypeError as error:
        path, _, message = str(error).partition(": ")
        errors.append(FieldError(path, message))
        return
    pod_spec = template.get("spec") or {}
    containers = pod_spec.get("containers") or []
    if not containers:
        errors.append(FieldError("spec.template.spec.containers", "Required value"))
    for index, container in enumerate(containers):
        if not isinstance(container, dict):
            errors.append(FieldError(f"spec.template.spec.containers[{index}]", "must be an object"))
            continue
        if not container.get("name"):
            errors.append(FieldError(f"spec.template.spec.containers[{index}].name", "Required value"))
        if not container.get("image"):
            errors.append(FieldError(f"spec.template.spec.containers[{index}].image", "Required value"))
    restart_policy = pod_spec.get("restartPolicy")
    if restart_policy not in (None, "Always"):
        errors.append(FieldError("spec.template.spec.restartPolicy", 'Unsupported value: only "Always" is supported'))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errors.append(
            FieldError(
                "spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicaSet is not Supported"
            )
        )


# --------------------------------------------------------------------------- blue-green


def _validate_blue_green(rollout: Rollout, blue_green: BlueGreenStrategy, errors: list[FieldError]) -> None:
    path = "spec.strategy.blueGreen"
    if not blue_green.active_service:
        errors.append(FieldError(f"{path}.activeService", MISSING_FIELD.format(f".{path}.activeService")))
    elif blue_green.active_service == blue_green.preview_service:
        errors.append(FieldError(f"{path}.activeService", DUPLICATED_SERVICES_BLUE_GREEN))
    limit = blue_green.scale_down_delay_revision_limit
    if limit is not None and rollout.spec.effective_revision_history_limit() < limit:
        errors.append(FieldError(f"{path}.scaleDownDelayRevisionLimit", SCALE_DOWN_LIMIT_LARGER_THAN_REVISION_LIMIT))
    for name, value in (
        ("previewReplicaCount", blue_green.preview_replica_count),
        ("autoPromotionSeconds", blue_green.auto_promotion_seconds),
        ("scaleDownDelaySeconds", blue_green.scale_down_delay_seconds),
        ("abortScaleDownDelaySeconds", blue_green.abort_scale_down_delay_seconds),
    ):
        if value is not None and value < 0:
            errors.append(FieldError(f"{path}.{name}", "must be greater than or equal to 0"))
    _validate_anti_affinity(blue_green.anti_affinity, f"{path}.antiAffinity", errors)


# --------------------------------------------------------------------------- canary


def _provider(routing: RolloutTrafficRouting | None, name: str) -> dict[str, Any] | None:
    """A provider block (istio, nginx, alb, ...) of trafficRouting, by its JSON name."""
    if routing is None:
        return None
    value = routing.to_dict().get(name)
    if value is None:
        return None
    return value if isinstance(value, dict) else {}


def _has_plugins(routing: RolloutTrafficRouting | None) -> bool:
    return routing is not None and bool(routing.plugins)


def _requires_canary_and_stable_services(canary: CanaryStrategy) -> bool:
    routing = canary.traffic_routing
    if routing is None:
        return False
    istio = _provider(routing, "istio")
    return (
        (_provider(routing, "alb") is not None and canary.ping_pong is None)
        or (istio is not None and istio.get("destinationRule") is None and canary.ping_pong is None)
        or any(
            _provider(routing, name) is not None
            for name in ("smi", "apisix", "ambassador", "nginx", "appMesh", "traefik")
        )
    )


def _validate_canary(canary: CanaryStrategy, errors: list[FieldError]) -> None:
    path = "spec.strategy.canary"
    routing = canary.traffic_routing
    try:
        surge = scaled_value(canary.effective_max_surge(), 100, round_up=True)
        unavailable = scaled_value(canary.effective_max_unavailable(), 100, round_up=False)
        if surge == 0 and unavailable == 0:
            errors.append(FieldError(f"{path}.maxSurge", INVALID_MAX_SURGE_MAX_UNAVAILABLE))
    except InvalidValueError as error:
        field = "maxSurge" if _bad_int_or_percent(canary.max_surge) else "maxUnavailable"
        errors.append(FieldError(f"{path}.{field}", str(error)))
    if canary.canary_service and canary.stable_service and canary.canary_service == canary.stable_service:
        errors.append(FieldError(f"{path}.stableService", DUPLICATED_SERVICES_CANARY))
    if canary.ping_pong is not None:
        _validate_ping_pong(canary.ping_pong, routing=routing, errors=errors)
    if _requires_canary_and_stable_services(canary):
        if not canary.stable_service:
            errors.append(FieldError(f"{path}.stableService", INVALID_TRAFFIC_ROUTING))
        if not canary.canary_service:
            errors.append(FieldError(f"{path}.canaryService", INVALID_TRAFFIC_ROUTING))
    _validate_routing_dependent_fields(canary, errors)
    for name, value in (
        ("scaleDownDelaySeconds", canary.scale_down_delay_seconds),
        ("abortScaleDownDelaySeconds", canary.abort_scale_down_delay_seconds),
        ("minPodsPerReplicaSet", canary.min_pods_per_replica_set),
    ):
        if value is not None and value < 0:
            errors.append(FieldError(f"{path}.{name}", "must be greater than or equal to 0"))
    _validate_steps(canary, errors)
    if canary.analysis is not None:
        starting_step = canary.analysis.starting_step
        if starting_step is not None and not 0 <= starting_step <= len(canary.effective_steps()):
            errors.append(FieldError(f"{path}.analysis.startingStep", "must be between 0 and the number of steps"))
        _validate_args(canary.analysis.args or [], f"{path}.analysis.args", errors)
    _validate_anti_affinity(canary.anti_affinity, f"{path}.antiAffinity", errors)


def _validate_ping_pong(
    ping_pong: PingPongSpec, *, routing: RolloutTrafficRouting | None, errors: list[FieldError]
) -> None:
    path = "spec.strategy.canary"
    if (
        routing is not None
        and _provider(routing, "alb") is None
        and _provider(routing, "istio") is None
        and not _has_plugins(routing)
    ):
        errors.append(FieldError(f"{path}.trafficRouting.alb", PING_PONG_ROUTER_ONLY))
    if not ping_pong.ping_service:
        errors.append(FieldError(f"{path}.pingPong.pingService", INVALID_PING_PONG))
    if not ping_pong.pong_service:
        errors.append(FieldError(f"{path}.pingPong.pongService", INVALID_PING_PONG))
    if ping_pong.ping_service == ping_pong.pong_service:
        errors.append(FieldError(f"{path}.pingPong.pingService", DUPLICATED_PING_PONG))
    alb = _provider(routing, "alb")
    if alb is not None and not alb.get("rootService"):
        errors.append(FieldError(f"{path}.trafficRouting.alb.rootService", MISSED_ALB_ROOT_SERVICE))


def _validate_routing_dependent_fields(canary: CanaryStrategy, errors: list[FieldError]) -> None:
    """Fields that need a traffic router (or conflict with one)."""
    path = "spec.strategy.canary"
    routing = canary.traffic_routing
    if routing is None:
        if canary.scale_down_delay_seconds is not None:
            errors.append(FieldError(f"{path}.scaleDownDelaySeconds", INVALID_CANARY_SCALE_DOWN_DELAY))
        if canary.dynamic_stable_scale:
            errors.append(FieldError(f"{path}.dynamicStableScale", INVALID_CANARY_DYNAMIC_STABLE_SCALE))
    else:
        if canary.scale_down_delay_seconds is not None and canary.dynamic_stable_scale:
            errors.append(FieldError(f"{path}.dynamicStableScale", INVALID_DYNAMIC_STABLE_SCALE_WITH_DELAY))
        if routing.max_traffic_weight is not None:
            if _provider(routing, "nginx") is None and not _has_plugins(routing):
                errors.append(FieldError(f"{path}.trafficRouting.maxTrafficWeight", INVALID_MAX_WEIGHT_PROVIDER))
            elif routing.max_traffic_weight < 1:
                errors.append(FieldError(f"{path}.trafficRouting.maxTrafficWeight", "must be greater than 0"))


def _bad_int_or_percent(value: Any) -> bool:
    try:
        scaled_value(value, 100, round_up=True)
    except InvalidValueError:
        return True
    return False


def _validate_steps(canary: CanaryStrategy, errors: list[FieldError]) -> None:
    path = "spec.strategy.canary"
    routing = canary.traffic_routing
    max_weight = routing.max_traffic_weight if routing is not None and routing.max_traffic_weight else 100
    for index, step in enumerate(canary.effective_steps()):
        step_path = f"{path}.steps[{index}]"
        kinds = step.kinds()
        # Argo rejects a step with none of the actions, or with more than one of
        # setWeight / pause / experiment / analysis (route and scale steps may combine).
        primary = [kind for kind in kinds if kind in {"setWeight", "pause", "experiment", "analysis"}]
        if not kinds or len(primary) > 1:
            errors.append(FieldError(step_path, INVALID_STEP))
        if step.set_weight is not None and not 0 <= step.set_weight <= max_weight:
            errors.append(FieldError(f"{step_path}.setWeight", INVALID_SET_WEIGHT.format(max_weight)))
        if step.pause is not None and step.pause.duration is not None:
            try:
                seconds = parse_duration(step.pause.duration)
            except InvalidValueError:
                seconds = -1
            if seconds is not None and seconds < 0:
                errors.append(FieldError(f"{step_path}.pause.duration", INVALID_DURATION))
        if step.set_canary_scale is not None:
            _validate_canary_scale_step(step, step_path, routing=routing, max_weight=max_weight, errors=errors)
        if step.set_header_route is not None:
            _validate_header_route_step(step, step_path, routing=routing, errors=errors)
        if step.set_mirror_route is not None:
            _validate_mirror_route_step(step, step_path, routing=routing, errors=errors)
        if routing is not None and (step.set_header_route is not None or step.set_mirror_route is not None):
            _validate_managed_route_names(step, step_path, routing=routing, errors=errors)
        if step.experiment is not None:
            _validate_experiment_step(step, step_path, routing=routing, errors=errors)
        if step.analysis is not None:
            _validate_args(step.analysis.args or [], f"{step_path}.analysis.args", errors)


def _validate_canary_scale_step(
    step: CanaryStep,
    step_path: str,
    *,
    routing: RolloutTrafficRouting | None,
    max_weight: int,
    errors: list[FieldError],
) -> None:
    if routing is None:
        errors.append(FieldError(f"{step_path}.setCanaryScale", INVALID_SET_CANARY_SCALE))
    scale = step.set_canary_scale
    assert scale is not None
    if scale.weight is not None and not 0 <= scale.weight <= max_weight:
        errors.append(FieldError(f"{step_path}.setCanaryScale.weight", INVALID_SET_WEIGHT.format(max_weight)))
    if scale.replicas is not None and scale.replicas < 0:
        errors.append(FieldError(f"{step_path}.setCanaryScale.replicas", "must be greater than or equal to 0"))


def _validate_header_route_step(
    step: CanaryStep, step_path: str, *, routing: RolloutTrafficRouting | None, errors: list[FieldError]
) -> None:
    route_path = f"{step_path}.setHeaderRoute"
    header_route = step.set_header_route
    assert header_route is not None
    if routing is None or not (
        _provider(routing, "istio") is not None
        or _provider(routing, "alb") is not None
        or _provider(routing, "apisix") is not None
        or _has_plugins(routing)
    ):
        errors.append(FieldError(route_path, INVALID_SET_HEADER_ROUTE))
        return
    alb = _provider(routing, "alb") is not None
    for match_index, match in enumerate(header_route.match or []):
        match_path = f"{route_path}.match[{match_index}]"
        if not alb:
            _validate_string_match(match.header_value, match_path, errors)
            continue
        value = match.header_value
        if value is None:
            errors.append(FieldError(match_path, STRING_MATCH_MISSING))
        elif not value.exact or value.regex or value.prefix:
            errors.append(FieldError(match_path, ALB_HEADER_VALUE))


def _validate_mirror_route_step(
    step: CanaryStep, step_path: str, *, routing: RolloutTrafficRouting | None, errors: list[FieldError]
) -> None:
    route_path = f"{step_path}.setMirrorRoute"
    mirror_route = step.set_mirror_route
    assert mirror_route is not None
    if routing is None or (_provider(routing, "istio") is None and not _has_plugins(routing)):
        errors.append(FieldError(route_path, INVALID_SET_MIRROR_ROUTE))
    for match_index, route_match in enumerate(mirror_route.match or []):
        match_path = f"{route_path}.match[{match_index}]"
        if route_match.method is not None:
            _validate_string_match(route_match.method, f"{match_path}.method", errors)
        if route_match.path is not None:
            _validate_string_match(route_match.path, f"{match_path}.path", errors)
        for header, header_match in (route_match.headers or {}).items():
            _validate_string_match(header_match, f"{match_path}.headers[{header}]", errors)
    if mirror_route.percentage is not None and not 0 <= mirror_route.percentage <= 100:
        errors.append(FieldError(f"{route_path}.percentage", "must be between 0 and 100"))


def _validate_managed_route_names(
    step: CanaryStep, step_path: str, *, routing: RolloutTrafficRouting, errors: list[FieldError]
) -> None:
    """A header or mirror route step must name one of trafficRouting.managedRoutes."""
    managed_routes = routing.managed_routes
    if managed_routes is None:
        errors.append(
            FieldError(
                "spec.strategy.canary.trafficRouting.managedRoutes",
                MISSING_FIELD.format("spec.strategy.canary.trafficRouting.managedRoutes"),
            )
        )
        return
    route_names = {route.get("name") for route in managed_routes if isinstance(route, dict)}
    for name, route_step in (("setHeaderRoute", step.set_header_route), ("setMirrorRoute", step.set_mirror_route)):
        if route_step is not None and route_step.name not in route_names:
            errors.append(FieldError(f"{step_path}.{name}", ROUTE_NOT_IN_MANAGED_ROUTES))


def _validate_experiment_step(
    step: CanaryStep, step_path: str, *, routing: RolloutTrafficRouting | None, errors: list[FieldError]
) -> None:
    experiment = step.experiment
    assert experiment is not None
    if experiment.duration is not None:
        try:
            parse_duration(experiment.duration)
        except InvalidValueError as error:
            errors.append(FieldError(f"{step_path}.experiment.duration", str(error)))
    for template_index, template in enumerate(experiment.templates):
        if template.weight is None:
            continue
        weight_path = f"{step_path}.experiment.templates[{template_index}].weight"
        if routing is None:
            errors.append(FieldError(weight_path, EXPERIMENT_WEIGHT_WITHOUT_TRAFFIC_ROUTING))
        elif not (
            _provider(routing, "alb") is not None
            or _provider(routing, "smi") is not None
            or _provider(routing, "istio") is not None
            or _has_plugins(routing)
        ):
            errors.append(FieldError(weight_path, EXPERIMENT_WEIGHT_PROVIDER))
    for analysis_index, analysis in enumerate(experiment.analyses or []):
        _validate_args(analysis.args or [], f"{step_path}.experiment.analyses[{analysis_index}].args", errors)


def _validate_string_match(match: StringMatch | None, path: str, errors: list[FieldError]) -> None:
    if match is None:
        errors.append(FieldError(path, STRING_MATCH_MISSING))
        return
    chosen = sum(1 for value in (match.exact, match.regex, match.prefix) if value)
    if chosen == 0:
        errors.append(FieldError(path, STRING_MATCH_MISSING))
    elif chosen > 1:
        errors.append(FieldError(path, STRING_MATCH_MULTIPLE))


def _validate_args(args: list[AnalysisRunArgument], path: str, errors: list[FieldError]) -> None:
    for index, arg in enumerate(args):
        value_from = arg.value_from
        if value_from is None or value_from.field_ref is None:
            continue
        field_path = value_from.field_ref.field_path
        if field_path.startswith("metadata") and not _DOWNWARD_METADATA.match(field_path):
            errors.append(FieldError(f"{path}[{index}].valueFrom.fieldRef.fieldPath", INVALID_ANALYSIS_ARGS))


def _validate_anti_affinity(anti_affinity: AntiAffinity | None, path: str, errors: list[FieldError]) -> None:
    if anti_affinity is None:
        return
    preferred = anti_affinity.preferred_during_scheduling_ignored_during_execution
    required = anti_affinity.required_during_scheduling_ignored_during_execution
    if (preferred is None) == (required is None):
        errors.append(FieldError(path, INVALID_ANTI_AFFINITY_STRATEGY))
    if preferred is not None and not 1 <= preferred.weight <= 100:
        errors.append(
            FieldError(f"{path}.preferredDuringSchedulingIgnoredDuringExecution.weight", INVALID_ANTI_AFFINITY_WEIGHT)
        )
