"""Spec validation the CRD schema cannot express, with messages that name the field.

Mirrors the checks of Argo Rollouts' pkg/apis/rollouts/validation that matter
for safety: exactly one strategy, one action per canary step, weights in range,
a selector that matches the template, the services a strategy needs, features
that need traffic routing. Each error is `path: message` so the user (and the
InvalidSpec condition) sees which field is wrong.
"""

from __future__ import annotations

from rollouts.api.common import InvalidValueError, is_percent, parse_duration, scaled_value
from rollouts.api.rollout import Rollout


def _selector_matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def validate_rollout(rollout: Rollout) -> list[str]:
    errors: list[str] = []
    spec = rollout.spec
    strategy = spec.strategy
    if (strategy.canary is None) == (strategy.blue_green is None):
        errors.append("spec.strategy: exactly one of canary or blueGreen must be set")
    if spec.replicas is not None and spec.replicas < 0:
        errors.append("spec.replicas: must be greater than or equal to 0")
    if spec.workload_ref is None:
        if not spec.template:
            errors.append("spec.template: required when spec.workloadRef is not set")
        selector = spec.selector
        if selector is None or (not selector.match_labels and not selector.match_expressions):
            errors.append("spec.selector: required and must not be empty")
        elif selector.match_labels:
            labels = ((spec.template or {}).get("metadata") or {}).get("labels") or {}
            if not _selector_matches(selector.match_labels, labels):
                errors.append("spec.selector: selector does not match template labels (spec.template.metadata.labels)")
    elif spec.template:
        errors.append("spec.template: must not be set together with spec.workloadRef")
    if spec.progress_deadline_seconds is not None and spec.min_ready_seconds is not None:
        if spec.progress_deadline_seconds <= spec.min_ready_seconds:
            errors.append("spec.progressDeadlineSeconds: must be greater than spec.minReadySeconds")
    canary = strategy.canary
    if canary is not None:
        path = "spec.strategy.canary"
        try:
            surge = scaled_value(canary.effective_max_surge(), 100, round_up=True)
            unavailable = scaled_value(canary.effective_max_unavailable(), 100, round_up=False)
            if surge == 0 and unavailable == 0:
                errors.append(f"{path}.maxSurge: maxSurge and maxUnavailable cannot both be 0")
            if is_percent(canary.max_unavailable) and unavailable > 100:
                errors.append(f"{path}.maxUnavailable: must not be greater than 100%")
        except InvalidValueError as error:
            errors.append(f"{path}.maxSurge/maxUnavailable: {error}")
        max_weight = 100
        if canary.traffic_routing is not None and canary.traffic_routing.max_traffic_weight:
            max_weight = canary.traffic_routing.max_traffic_weight
        if canary.canary_service and canary.canary_service == canary.stable_service:
            errors.append(f"{path}.stableService: must differ from canaryService")
        for index, step in enumerate(canary.steps or []):
            step_path = f"{path}.steps[{index}]"
            kinds = step.kinds()
            if len(kinds) != 1:
                errors.append(
                    f"{step_path}: exactly one of setWeight, pause, experiment, analysis, setCanaryScale, setHeaderRoute, setMirrorRoute, plugin must be set (got {len(kinds)})"
                )
                continue
            if step.set_weight is not None and not 0 <= step.set_weight <= max_weight:
                errors.append(f"{step_path}.setWeight: must be between 0 and {max_weight}")
            if step.pause is not None and step.pause.duration is not None:
                try:
                    duration = parse_duration(step.pause.duration)
                    if duration is not None and duration < 0:
                        errors.append(f"{step_path}.pause.duration: must be non-negative")
                except InvalidValueError as error:
                    errors.append(f"{step_path}.pause.duration: {error}")
            if canary.traffic_routing is None:
                for name in ("setCanaryScale", "setHeaderRoute", "setMirrorRoute"):
                    if name in kinds:
                        errors.append(f"{step_path}.{name}: requires spec.strategy.canary.trafficRouting")
            if step.set_canary_scale is not None:
                scale = step.set_canary_scale
                chosen = [
                    x
                    for x in (
                        scale.weight is not None,
                        scale.replicas is not None,
                        bool(scale.match_traffic_weight),
                    )
                    if x
                ]
                if len(chosen) != 1:
                    errors.append(
                        f"{step_path}.setCanaryScale: exactly one of weight, replicas, matchTrafficWeight must be set"
                    )
        if canary.analysis is not None and canary.analysis.starting_step is not None:
            if not 0 <= canary.analysis.starting_step <= len(canary.steps or []):
                errors.append(f"{path}.analysis.startingStep: must be within the steps")
    blue_green = strategy.blue_green
    if blue_green is not None:
        path = "spec.strategy.blueGreen"
        if not blue_green.active_service:
            errors.append(f"{path}.activeService: required")
        elif blue_green.active_service == blue_green.preview_service:
            errors.append(f"{path}.previewService: must differ from activeService")
        if blue_green.preview_replica_count is not None and blue_green.preview_replica_count < 0:
            errors.append(f"{path}.previewReplicaCount: must be greater than or equal to 0")
        if blue_green.auto_promotion_seconds is not None and blue_green.auto_promotion_seconds < 0:
            errors.append(f"{path}.autoPromotionSeconds: must be greater than or equal to 0")
    return errors
