"""Validation of the canary strategy: replica bounds, services, ping-pong, traffic-routing-only fields and each step.

Split from validation.py by concern: the canary strategy and its step list are
where traffic routing adds checks, so they grow here without growing the rest.
"""

from __future__ import annotations

from typing import Any

from rollouts.api.common import InvalidValueError, parse_duration, scaled_value
from rollouts.api.rollout import CanaryStep, CanaryStrategy, PingPongSpec, RolloutTrafficRouting
from rollouts.api.validation_rules import (
    ALB_HEADER_VALUE,
    DUPLICATED_PING_PONG,
    DUPLICATED_SERVICES_CANARY,
    EXPERIMENT_WEIGHT_PROVIDER,
    EXPERIMENT_WEIGHT_WITHOUT_TRAFFIC_ROUTING,
    INVALID_CANARY_DYNAMIC_STABLE_SCALE,
    INVALID_CANARY_SCALE_DOWN_DELAY,
    INVALID_DURATION,
    INVALID_DYNAMIC_STABLE_SCALE_WITH_DELAY,
    INVALID_MAX_SURGE_MAX_UNAVAILABLE,
    INVALID_MAX_WEIGHT_PROVIDER,
    INVALID_PING_PONG,
    INVALID_SET_CANARY_SCALE,
    INVALID_SET_HEADER_ROUTE,
    INVALID_SET_MIRROR_ROUTE,
    INVALID_SET_WEIGHT,
    INVALID_STEP,
    INVALID_TRAFFIC_ROUTING,
    MISSED_ALB_ROOT_SERVICE,
    MISSING_FIELD,
    PING_PONG_ROUTER_ONLY,
    ROUTE_NOT_IN_MANAGED_ROUTES,
    STRING_MATCH_MISSING,
    FieldError,
    has_plugins,
    router,
    validate_anti_affinity,
    validate_args,
    validate_string_match,
)


def _requires_canary_and_stable_services(canary: CanaryStrategy) -> bool:
    routing = canary.traffic_routing
    if routing is None:
        return False
    istio = router(routing, "istio")
    return (
        (router(routing, "alb") is not None and canary.ping_pong is None)
        or (istio is not None and istio.get("destinationRule") is None and canary.ping_pong is None)
        or any(
            router(routing, name) is not None for name in ("smi", "apisix", "ambassador", "nginx", "appMesh", "traefik")
        )
    )


def validate_canary(canary: CanaryStrategy, errors: list[FieldError]) -> None:
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
        validate_args(canary.analysis.args or [], f"{path}.analysis.args", errors)
    validate_anti_affinity(canary.anti_affinity, f"{path}.antiAffinity", errors)


def _validate_ping_pong(
    ping_pong: PingPongSpec, *, routing: RolloutTrafficRouting | None, errors: list[FieldError]
) -> None:
    path = "spec.strategy.canary"
    if (
        routing is not None
        and router(routing, "alb") is None
        and router(routing, "istio") is None
        and not has_plugins(routing)
    ):
        errors.append(FieldError(f"{path}.trafficRouting.alb", PING_PONG_ROUTER_ONLY))
    if not ping_pong.ping_service:
        errors.append(FieldError(f"{path}.pingPong.pingService", INVALID_PING_PONG))
    if not ping_pong.pong_service:
        errors.append(FieldError(f"{path}.pingPong.pongService", INVALID_PING_PONG))
    if ping_pong.ping_service == ping_pong.pong_service:
        errors.append(FieldError(f"{path}.pingPong.pingService", DUPLICATED_PING_PONG))
    alb = router(routing, "alb")
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
            if router(routing, "nginx") is None and not has_plugins(routing):
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
            validate_args(step.analysis.args or [], f"{step_path}.analysis.args", errors)


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
        router(routing, "istio") is not None
        or router(routing, "alb") is not None
        or router(routing, "apisix") is not None
        or has_plugins(routing)
    ):
        errors.append(FieldError(route_path, INVALID_SET_HEADER_ROUTE))
        return
    alb = router(routing, "alb") is not None
    for match_index, match in enumerate(header_route.match or []):
        match_path = f"{route_path}.match[{match_index}]"
        if not alb:
            validate_string_match(match.header_value, match_path, errors)
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
    if routing is None or (router(routing, "istio") is None and not has_plugins(routing)):
        errors.append(FieldError(route_path, INVALID_SET_MIRROR_ROUTE))
    for match_index, route_match in enumerate(mirror_route.match or []):
        match_path = f"{route_path}.match[{match_index}]"
        if route_match.method is not None:
            validate_string_match(route_match.method, f"{match_path}.method", errors)
        if route_match.path is not None:
            validate_string_match(route_match.path, f"{match_path}.path", errors)
        for header, header_match in (route_match.headers or {}).items():
            validate_string_match(header_match, f"{match_path}.headers[{header}]", errors)
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
            router(routing, "alb") is not None
            or router(routing, "smi") is not None
            or router(routing, "istio") is not None
            or has_plugins(routing)
        ):
            errors.append(FieldError(weight_path, EXPERIMENT_WEIGHT_PROVIDER))
    for analysis_index, analysis in enumerate(experiment.analyses or []):
        validate_args(analysis.args or [], f"{step_path}.experiment.analyses[{analysis_index}].args", errors)
