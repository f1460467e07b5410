"""What every Rollout validator shares: Argo's messages, the error type, and checks used by more than one strategy.

The messages are Argo Rollouts' own (pkg/apis/rollouts/validation), so a user
moving from Argo sees the same text; they live here once for validation.py
(spec, template, blue-green) and validation_canary.py (canary, steps, routes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rollouts.api.rollout import AnalysisRunArgument, AntiAffinity, RolloutTrafficRouting, StringMatch

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


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: `path` in dotted/indexed form, e.g. `spec.strategy.canary.steps[0]`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def router(routing: RolloutTrafficRouting | None, name: str) -> dict[str, Any] | None:
    """A provider block (istio, nginx, alb, ...) of trafficRouting, by its JSON name."""
    if routing is None:
        return None
    value = routing.to_dict().get(name)
    if value is None:
        return None
    return value if isinstance(value, dict) else {}


def has_plugins(routing: RolloutTrafficRouting | None) -> bool:
    return routing is not None and bool(routing.plugins)


def validate_string_match(match: StringMatch | None, path: str, errors: list[FieldError]) -> None:
    if match is None:
        errors.append(FieldError(path, STRING_MATCH_MISSING))
        return
    chosen = sum(1 for value in (match.exact, match.regex, match.prefix) if value)
    if chosen == 0:
        errors.append(FieldError(path, STRING_MATCH_MISSING))
    elif chosen > 1:
        errors.append(FieldError(path, STRING_MATCH_MULTIPLE))


def validate_args(args: list[AnalysisRunArgument], path: str, errors: list[FieldError]) -> None:
    for index, arg in enumerate(args):
        value_from = arg.value_from
        if value_from is None or value_from.field_ref is None:
            continue
        field_path = value_from.field_ref.field_path
        if field_path.startswith("metadata") and not _DOWNWARD_METADATA.match(field_path):
            errors.append(FieldError(f"{path}[{index}].valueFrom.fieldRef.fieldPath", INVALID_ANALYSIS_ARGS))


def validate_anti_affinity(anti_affinity: AntiAffinity | None, path: str, errors: list[FieldError]) -> None:
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
