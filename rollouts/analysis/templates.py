"""AnalysisTemplates and ClusterAnalysisTemplates merged into the spec of one AnalysisRun.

A Rollout names several templates; Argo concatenates their metrics (a
duplicate metric name is an error), merges their args (the same arg twice with
two different values is an error), and then fills the args with the values the
Rollout passes. The result is what an AnalysisRun carries, so that a run never
needs its templates again (they may change or vanish while it runs). Pure: the
caller fetches the templates and reports a missing one by name (see
`MissingTemplateError`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rollouts.analysis.args import ArgumentError, merge_args
from rollouts.api.analysis import (
    AnalysisRun,
    AnalysisRunSpec,
    AnalysisTemplate,
    AnalysisTemplateSpec,
    Argument,
    Metric,
)
from rollouts.api.common import ObjectMeta
from rollouts.api.rollout import AnalysisTemplateRef, DryRun, MeasurementRetention


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
