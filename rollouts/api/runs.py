"""Building an AnalysisRun from templates and a Rollout's arguments: shared by both controllers.

The rollout controller creates AnalysisRuns (as Argo's does) and the analysis
controller measures them; docs/architecture.md §2 has the two meet only through the
objects in the cluster, so the pure code that turns templates + arguments
into a run's spec lives here in api/, importable by both. Argo's rules:
templates' metrics are concatenated (a duplicate name is an error), their
args merged (the same arg with two values is an error) and filled with the
values the Rollout passes; `podTemplateHashValue` and `fieldRef` read the
Rollout. The caller fetches templates (from an informer cache) and a missing
one raises MissingTemplateError naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from rollouts.api.analysis import (
    AnalysisRun,
    AnalysisRunSpec,
    AnalysisTemplate,
    AnalysisTemplateSpec,
    Argument,
    Metric,
)
from rollouts.api.common import ObjectMeta
from rollouts.api.constants import POD_TEMPLATE_HASH_LABEL
from rollouts.api.rollout import AnalysisRunArgument, AnalysisTemplateRef, DryRun, MeasurementRetention


class ArgumentError(ValueError):
    """An argument that is missing, has no value, or a tag that names no argument."""


def merge_args(incoming: list[Argument] | None, template: list[Argument] | None) -> list[Argument]:
    """Argo's MergeArgs: template args, with values given by the caller; all must be set."""
    merged = [arg.model_copy(deep=True) for arg in template or []]
    by_name = {arg.name: arg for arg in merged}
    for arg in incoming or []:
        target = by_name.get(arg.name)
        if target is None:
            continue
        if arg.value is not None:
            target.value = arg.value
        elif arg.value_from is not None:
            target.value_from = arg.value_from
    for arg in merged:
        if arg.value is None and arg.value_from is None:
            raise ArgumentError(f"args.{arg.name} was not resolved")
    return merged


# --------------------------------------------------------------------------- values from a Rollout

_PATH_SPLIT = re.compile(r"[.\[\]]+")
_METADATA_MAP = re.compile(r"^metadata\.(labels|annotations)\['([^']*)'\]$")


def _field_value(obj: dict[str, Any], path: str) -> str:
    """A Rollout's field by path: `metadata.name`, `metadata.labels['app']`, `spec.replicas`."""
    match = _METADATA_MAP.match(path)
    if match:
        mapping = (obj.get("metadata") or {}).get(match.group(1)) or {}
        return str(mapping.get(match.group(2), ""))
    current: Any = obj
    for section in _PATH_SPLIT.split(path):
        if not section:
            continue
        if isinstance(current, list):
            if not section.isdigit():
                raise ArgumentError(f"invalid index '{section}'")
            index = int(section)
            if index >= len(current):
                raise ArgumentError(f"index {index} out of range")
            current = current[index]
        elif isinstance(current, dict):
            current = current.get(section)
        else:
            raise ArgumentError(f"invalid path {path} in rollout")
    if current is None:
        raise ArgumentError(f"invalid path {path} in rollout")
    if isinstance(current, list | dict):
        raise ArgumentError(f"path {path} in rollout must terminate in a primitive value")
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def rollout_arguments(
    args: list[AnalysisRunArgument] | None,
    *,
    rollout: dict[str, Any],
    stable_labels: dict[str, str] | None,
    latest_labels: dict[str, str] | None,
) -> list[Argument]:
    """Argo's BuildArgumentsForRolloutAnalysisRun: a Rollout's analysis args as run args.

    `podTemplateHashValue: Stable|Latest` reads the pod-template-hash label of
    the stable / newest ReplicaSet; `fieldRef.fieldPath` reads the Rollout.
    """
    out: list[Argument] = []
    for arg in args or []:
        value = arg.value
        source = arg.value_from
        if source is not None:
            if source.pod_template_hash_value is not None:
                labels = stable_labels if source.pod_template_hash_value == "Stable" else latest_labels
                value = (labels or {}).get(POD_TEMPLATE_HASH_LABEL, "")
            elif source.field_ref is not None:
                value = _field_value(rollout, source.field_ref.field_path)
        out.append(Argument(name=arg.name, value=value if value is not None else ""))
    return out


# --------------------------------------------------------------------------- templates


class TemplateError(ValueError):
    """Templates that cannot be merged into one run."""


class MissingTemplateError(TemplateError):
    def __init__(self, ref: AnalysisTemplateRef) -> None:
        kind = "ClusterAnalysisTemplate" if ref.cluster_scope else "AnalysisTemplate"
        super().__init__(f'{kind} "{ref.template_name}" not found')
        self.ref = ref


TemplateLookup = Callable[[AnalysisTemplateRef], AnalysisTemplate | None]


def collect_templates(
    refs: Sequence[AnalysisTemplateRef], lookup: TemplateLookup
) -> tuple[list[AnalysisTemplate], list[AnalysisTemplate]]:
    """The templates `refs` name, nested `spec.templates` included, each once.

    Returns (namespaced, cluster-scoped), in the order Argo finds them. `lookup`
    reads a template (from an informer cache) and returns None when it does
    not exist, which raises MissingTemplateError naming it. A template that
    refers back to itself is taken once instead of recursing forever.
    """
    templates: list[AnalysisTemplate] = []
    cluster_templates: list[AnalysisTemplate] = []
    seen: set[tuple[bool, str]] = set()

    def visit(ref_list: Sequence[AnalysisTemplateRef]) -> None:
        for ref in ref_list:
            key = (bool(ref.cluster_scope), ref.template_name)
            if key in seen:
                continue
            found = lookup(ref)
            if found is None:
                raise MissingTemplateError(ref)
            seen.add(key)
            (cluster_templates if ref.cluster_scope else templates).append(found)
            if found.spec.templates:
                visit(found.spec.templates)

    visit(refs)
    return templates, cluster_templates


def _flatten_args(specs: Sequence[AnalysisTemplateSpec]) -> list[Argument]:
    combined: list[Argument] = []
    for spec in specs:
        for arg in spec.args or []:
            for index, previous in enumerate(combined):
                if previous.name != arg.name:
                    continue
                if previous.value is not None and arg.value is not None and previous.value != arg.value:
                    raise TemplateError(
                        f"Argument `{arg.name}` specified multiple times with different values: "
                        f"'{previous.value}', '{arg.value}'"
                    )
                if previous.value is None:
                    combined[index] = arg
                break
            else:
                combined.append(arg)
    return combined


def _unique_rules(rules: list[DryRun] | list[MeasurementRetention], what: str) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.metric_name in seen:
            raise TemplateError(f"two {what} metric rules have the same name '{rule.metric_name}'")
        seen.add(rule.metric_name)


def flatten_templates(
    templates: Sequence[AnalysisTemplate], cluster_templates: Sequence[AnalysisTemplate] = ()
) -> AnalysisTemplateSpec:
    """One spec from several templates: namespaced ones first, then cluster-scoped ones."""
    specs = [t.spec for t in templates] + [t.spec for t in cluster_templates]
    metrics: list[Metric] = []
    names: set[str] = set()
    for spec in specs:
        for metric in spec.metrics or []:
            if metric.name in names:
                raise TemplateError(f"two metrics have the same name '{metric.name}'")
            names.add(metric.name)
            metrics.append(metric)
    dry_run = [rule for spec in specs for rule in spec.dry_run or []]
    _unique_rules(dry_run, "Dry-Run")
    retention = [rule for spec in specs for rule in spec.measurement_retention or []]
    _unique_rules(retention, "Measurement Retention")
    return AnalysisTemplateSpec(
        metrics=metrics,
        args=_flatten_args(specs) or None,
        dry_run=dry_run or None,
        measurement_retention=retention or None,
    )


def new_run_from_templates(
    templates: Sequence[AnalysisTemplate],
    cluster_templates: Sequence[AnalysisTemplate] = (),
    *,
    args: list[Argument] | None = None,
    dry_run: list[DryRun] | None = None,
    measurement_retention: list[MeasurementRetention] | None = None,
    metadata: ObjectMeta | None = None,
) -> AnalysisRun:
    """Argo's NewAnalysisRunFromTemplates: the run a Rollout creates from its templates."""
    spec = flatten_templates(templates, cluster_templates)
    try:
        merged_args = merge_args(args, spec.args)
    except ArgumentError as err:
        raise TemplateError(str(err)) from err
    all_dry_run = list(dry_run or []) + list(spec.dry_run or [])
    _unique_rules(all_dry_run, "Dry-Run")
    all_retention = list(measurement_retention or []) + list(spec.measurement_retention or [])
    _unique_rules(all_retention, "Measurement Retention")
    return AnalysisRun(
        metadata=metadata or ObjectMeta(),
        spec=AnalysisRunSpec(
            metrics=list(spec.metrics or []),
            args=merged_args or None,
            dry_run=all_dry_run or None,
            measurement_retention=all_retention or None,
        ),
    )
