"""Arguments and templates: substitution, merging, values taken from a Rollout."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.analysis.args import (
    ArgumentError,
    argument_values,
    merge_args,
    redact,
    resolve_metric,
    rollout_arguments,
    substitute,
)
from rollouts.api.analysis import (
    AnalysisTemplate,
    Argument,
    ClusterAnalysisTemplate,
    Metric,
)
from rollouts.api.rollout import AnalysisRunArgument, AnalysisTemplateRef, DryRun
from rollouts.api.runs import (
    MissingTemplateError,
    TemplateError,
    collect_templates,
    flatten_templates,
    new_run_from_templates,
)


def template(name: str, *metrics: str, args: list[dict[str, Any]] | None = None) -> AnalysisTemplate:
    return AnalysisTemplate.model_validate(
        {
            "metadata": {"name": name},
            "spec": {
                "metrics": [{"name": m, "provider": {"prometheus": {"query": "q{{args.service}}"}}} for m in metrics],
                "args": args or [],
            },
        }
    )


def test_substitute_allows_spaces_and_rejects_unknown_tags() -> None:
    assert substitute("a{{args.x}}b{{ args.x }}", {"x": "1"}) == "a1b1"
    with pytest.raises(ArgumentError, match=r"failed to resolve \{\{args.y\}\}"):
        substitute("{{args.y}}", {"x": "1"})


def test_resolve_metric_escapes_values_inside_json() -> None:
    metric = Metric.model_validate(
        {
            "name": "m",
            "successCondition": "result == '{{args.expected}}'",
            "provider": {"prometheus": {"query": 'sum(rate(x{service="{{args.service}}"}[5m]))'}},
        }
    )
    resolved = resolve_metric(metric, {"service": 'a"b\nc', "expected": "ok"})
    assert resolved.provider.prometheus.query == 'sum(rate(x{service="a"b\nc"}[5m]))'  # type: ignore[union-attr]
    assert resolved.success_condition == "result == 'ok'"


def test_argument_values() -> None:
    args = [
        Argument(name="plain", value="v"),
        Argument.model_validate({"name": "token", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}),
    ]
    assert argument_values(args) == {"plain": "v", "token": "temp-for-secret"}
    assert argument_values(args, {"token": "real"}) == {"plain": "v", "token": "real"}
    with pytest.raises(ArgumentError, match="key 'k' does not exist in secret 's'"):
        argument_values(args, {})
    with pytest.raises(ArgumentError, match='argument "missing" was not supplied'):
        argument_values([Argument(name="missing")])


def test_redact() -> None:
    assert redact("a secret and secret", ["secret", ""]) == "a ***** and *****"
    assert redact(None, ["x"]) is None


def test_merge_args() -> None:
    template_args = [Argument(name="service"), Argument(name="threshold", value="0.9")]
    merged = merge_args([Argument(name="service", value="web"), Argument(name="unused", value="x")], template_args)
    assert [(a.name, a.value) for a in merged] == [("service", "web"), ("threshold", "0.9")]
    assert template_args[0].value is None  # the template is not modified
    with pytest.raises(ArgumentError, match=r"args\.service was not resolved"):
        merge_args([], template_args)


def test_flatten_templates_concatenates_metrics_and_args() -> None:
    first = template("a", "m1", args=[{"name": "service"}])
    second = template("b", "m2", args=[{"name": "service", "value": "web"}, {"name": "x"}])
    cluster = ClusterAnalysisTemplate.model_validate(template("c", "m3").to_dict())
    spec = flatten_templates([first, second], [cluster])
    assert [m.name for m in spec.metrics or []] == ["m1", "m2", "m3"]
    assert [(a.name, a.value) for a in spec.args or []] == [("service", "web"), ("x", None)]


def test_flatten_templates_rejects_duplicates() -> None:
    with pytest.raises(TemplateError, match="two metrics have the same name 'm'"):
        flatten_templates([template("a", "m"), template("b", "m")])
    conflicting = [
        template("a", "m1", args=[{"name": "s", "value": "1"}]),
        template("b", "m2", args=[{"name": "s", "value": "2"}]),
    ]
    with pytest.raises(TemplateError, match="specified multiple times with different values"):
        flatten_templates(conflicting)


def test_new_run_from_templates() -> None:
    run = new_run_from_templates(
        [template("a", "m1", args=[{"name": "service"}])],
        args=[Argument(name="service", value="web")],
        dry_run=[DryRun(metric_name="m1")],
    )
    assert [m.name for m in run.spec.metrics] == ["m1"]
    assert [(a.name, a.value) for a in run.spec.args or []] == [("service", "web")]
    assert [d.metric_name for d in run.spec.dry_run or []] == ["m1"]
    with pytest.raises(TemplateError, match=r"args\.service was not resolved"):
        new_run_from_templates([template("a", "m1", args=[{"name": "service"}])])


def test_collect_templates_follows_nested_references_once() -> None:
    inner = template("inner", "m-inner")
    cluster = ClusterAnalysisTemplate.model_validate(template("shared", "m-shared").to_dict())
    outer = template("outer", "m-outer")
    outer.spec.templates = [
        AnalysisTemplateRef(template_name="inner"),
        AnalysisTemplateRef(template_name="shared", cluster_scope=True),
        AnalysisTemplateRef(template_name="outer"),  # a cycle is taken once
    ]
    store = {(False, "outer"): outer, (False, "inner"): inner, (True, "shared"): cluster}

    def lookup(ref: AnalysisTemplateRef) -> AnalysisTemplate | None:
        return store.get((bool(ref.cluster_scope), ref.template_name))

    refs = [AnalysisTemplateRef(template_name="outer"), AnalysisTemplateRef(template_name="inner")]
    templates, cluster_templates = collect_templates(refs, lookup)
    assert [t.metadata.name for t in templates] == ["outer", "inner"]
    assert [t.metadata.name for t in cluster_templates] == ["shared"]
    spec = flatten_templates(templates, cluster_templates)
    assert [m.name for m in spec.metrics or []] == ["m-outer", "m-inner", "m-shared"]
    with pytest.raises(MissingTemplateError, match='AnalysisTemplate "nope" not found'):
        collect_templates([AnalysisTemplateRef(template_name="nope")], lookup)


def test_missing_template_error_names_it() -> None:
    assert str(MissingTemplateError(AnalysisTemplateRef(template_name="rate"))) == ('AnalysisTemplate "rate" not found')
    ref = AnalysisTemplateRef(template_name="rate", cluster_scope=True)
    assert "ClusterAnalysisTemplate" in str(MissingTemplateError(ref))


def test_rollout_arguments() -> None:
    rollout = {
        "metadata": {"name": "web", "labels": {"app": "shop"}, "annotations": {"team": "a"}},
        "spec": {"replicas": 3, "strategy": {"canary": {"steps": [{"setWeight": 20}]}}},
    }
    args = [
        AnalysisRunArgument.model_validate(a)
        for a in [
            {"name": "plain", "value": "v"},
            {"name": "stable", "valueFrom": {"podTemplateHashValue": "Stable"}},
            {"name": "latest", "valueFrom": {"podTemplateHashValue": "Latest"}},
            {"name": "name", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {
                "name": "app",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}},
            },
            {"name": "replicas", "valueFrom": {"fieldRef": {"fieldPath": "spec.replicas"}}},
            {
                "name": "weight",
                "valueFrom": {"fieldRef": {"fieldPath": "spec.strategy.canary.steps[0].setWeight"}},
            },
        ]
    ]
    values = rollout_arguments(
        args,
        rollout=rollout,
        stable_labels={"rollouts-pod-template-hash": "abc"},
        latest_labels={"rollouts-pod-template-hash": "def"},
    )
    assert {a.name: a.value for a in values} == {
        "plain": "v",
        "stable": "abc",
        "latest": "def",
        "name": "web",
        "app": "shop",
        "replicas": "3",
        "weight": "20",
    }
    bad = [AnalysisRunArgument.model_validate({"name": "x", "valueFrom": {"fieldRef": {"fieldPath": "spec.nothing"}}})]
    with pytest.raises(ArgumentError, match=r"invalid path spec\.nothing in rollout"):
        rollout_arguments(bad, rollout=rollout, stable_labels=None, latest_labels=None)
