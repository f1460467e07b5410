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
This module checks the spec, the pod template and blue-green; the canary
strategy and its steps are in validation_canary.py, Argo's messages and the
checks both share in validation_rules.py.
"""

from __future__ import annotations

from typing import Any

from rollouts.api.common import LabelSelector
from rollouts.api.podhash import TemplateTypeError, go_json_pod_template
from rollouts.api.rollout import (
    BlueGreenStrategy,
    Rollout,
)
from rollouts.api.validation_canary import validate_canary
from rollouts.api.validation_rules import (
    DUPLICATED_SERVICES_BLUE_GREEN,
    INVALID_STRATEGY,
    MISSING_FIELD,
    SCALE_DOWN_LIMIT_LARGER_THAN_REVISION_LIMIT,
    SELECTOR_DOES_NOT_MATCH,
    FieldError,
    validate_anti_affinity,
)

_SELECTOR_OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist"}


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
        validate_canary(strategy.canary, errors)
    return errors


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
    validate_anti_affinity(blue_green.anti_affinity, f"{path}.antiAffinity", errors)
