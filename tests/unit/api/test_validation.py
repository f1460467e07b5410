"""Rollout validation: valid specs pass, each invalid spec yields a message naming its field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rollouts.api import Rollout
from rollouts.api.common import LabelSelector
from rollouts.api.validation import rollout_errors, selector_matches, validate_rollout

TEMPLATE = {
    "metadata": {"labels": {"app": "shop"}},
    "spec": {"containers": [{"name": "shop", "image": "shop:1"}]},
}


def canary(**strategy: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "shop"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "shop"}},
            "template": copy.deepcopy(TEMPLATE),
            "strategy": {"canary": strategy},
        },
    }


def blue_green(**strategy: Any) -> dict[str, Any]:
    manifest = canary()
    manifest["spec"]["strategy"] = {"blueGreen": {"activeService": "shop-active", **strategy}}
    return manifest


ISTIO = {"istio": {"virtualService": {"name": "shop-vs", "routes": ["primary"]}}}
NGINX = {"nginx": {"stableIngress": "shop"}}


def errors_of(manifest: dict[str, Any]) -> list[str]:
    return validate_rollout(Rollout.model_validate(manifest))


def paths_of(manifest: dict[str, Any]) -> list[str]:
    return [error.path for error in rollout_errors(Rollout.model_validate(manifest))]


VALID = [
    pytest.param(canary(), id="canary-no-steps"),
    pytest.param(
        canary(steps=[{"setWeight": 20}, {"pause": {}}, {"pause": {"duration": "1m30s"}}, {"pause": {"duration": 10}}]),
        id="canary-steps",
    ),
    pytest.param(canary(maxSurge="0", maxUnavailable=1), id="surge-zero-unavailable-one"),
    pytest.param(
        canary(
            canaryService="shop-canary",
            stableService="shop-stable",
            trafficRouting={**ISTIO, "managedRoutes": [{"name": "hdr"}, {"name": "mirror"}]},
            steps=[
                {"setCanaryScale": {"weight": 10}},
                {"setHeaderRoute": {"name": "hdr", "match": [{"headerName": "x", "headerValue": {"exact": "1"}}]}},
                {"setMirrorRoute": {"name": "mirror", "percentage": 50, "match": [{"method": {"exact": "GET"}}]}},
                {"setWeight": 40},
                {"experiment": {"templates": [{"name": "c", "specRef": "canary", "weight": 5}]}},
            ],
        ),
        id="istio-route-steps",
    ),
    pytest.param(
        canary(
            canaryService="c",
            stableService="s",
            trafficRouting={**NGINX, "maxTrafficWeight": 1000},
            steps=[{"setWeight": 500}],
        ),
        id="nginx-max-weight",
    ),
    pytest.param(blue_green(previewService="shop-preview"), id="blue-green"),
    pytest.param(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Rollout",
            "metadata": {"name": "shop"},
            "spec": {
                "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop"},
                "strategy": {"canary": {"steps": [{"setWeight": 50}]}},
            },
        },
        id="workload-ref",
    ),
    pytest.param(
        {
            **canary(),
            "spec": {
                **canary()["spec"],
                "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["shop", "x"]}]},
            },
        },
        id="match-expressions",
    ),
]


@pytest.mark.parametrize("manifest", VALID)
def test_valid_rollouts_have_no_errors(manifest: dict[str, Any]) -> None:
    assert errors_of(manifest) == []


def _with_spec(**changes: Any) -> dict[str, Any]:
    manifest = canary()
    manifest["spec"].update(changes)
    return manifest


def _without(key: str) -> dict[str, Any]:
    manifest = canary()
    del manifest["spec"][key]
    return manifest


INVALID = [
    (_with_spec(strategy={}), "spec.strategy", "missing field"),
    (
        _with_spec(strategy={"canary": {}, "blueGreen": {"activeService": "a"}}),
        "spec.strategy",
        "Multiple Strategies",
    ),
    (_with_spec(replicas=-1), "spec.replicas", "greater than or equal to 0"),
    (_without("selector"), "spec.selector", "missing field '.spec.selector'"),
    (_with_spec(selector={}), "spec.selector", "empty selector"),
    (
        _with_spec(selector={"matchLabels": {"app": "other"}}),
        "spec.template.metadata.labels",
        "does not match",
    ),
    (
        _with_spec(selector={"matchExpressions": [{"key": "app", "operator": "Near", "values": ["x"]}]}),
        "spec.selector.matchExpressions[0].operator",
        "not a valid selector operator",
    ),
    (
        _with_spec(selector={"matchExpressions": [{"key": "app", "operator": "In"}]}),
        "spec.selector.matchExpressions[0].values",
        "must be specified",
    ),
    (_without("template"), "spec.template.spec.containers", "Required"),
    (
        _with_spec(template={"metadata": {"labels": {"app": "shop"}}, "spec": {"containers": [{"name": "a"}]}}),
        "spec.template.spec.containers[0].image",
        "Required",
    ),
    (
        _with_spec(template={**TEMPLATE, "spec": {**TEMPLATE["spec"], "restartPolicy": "Never"}}),
        "spec.template.spec.restartPolicy",
        "Always",
    ),
    (
        _with_spec(workloadRef={"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop"}),
        "spec.template",
        "must be empty",
    ),
    (
        _with_spec(
            template={
                **TEMPLATE,
                "spec": {"containers": [{"name": "a", "image": "b", "ports": [{"containerPort": "http"}]}]},
            }
        ),
        "spec.template.spec.containers[0].ports[0].containerPort",
        "expected an integer",
    ),
    (
        _with_spec(
            template={
                **TEMPLATE,
                "spec": {"containers": [{"name": "a", "image": "b", "resources": {"limits": {"cpu": "lots"}}}]},
            }
        ),
        "spec.template.spec.containers[0].resources.limits.cpu",
        "quantities must match",
    ),
    (_with_spec(minReadySeconds=600), "spec.progressDeadlineSeconds", "greater than minReadySeconds"),
    (_with_spec(revisionHistoryLimit=-2), "spec.revisionHistoryLimit", "greater than or equal to 0"),
    (canary(steps=[{"setWeight": 120}]), "spec.strategy.canary.steps[0].setWeight", "between 0 and 100"),
    (canary(steps=[{"pause": {}}, {"setWeight": -1}]), "spec.strategy.canary.steps[1].setWeight", "between 0 and 100"),
    (canary(steps=[{}]), "spec.strategy.canary.steps[0]", "Step must have one of"),
    (canary(steps=[{"setWeight": 10, "pause": {}}]), "spec.strategy.canary.steps[0]", "Step must have one of"),
    (canary(steps=[{"pause": {"duration": "ten"}}]), "spec.strategy.canary.steps[0].pause.duration", "Duration"),
    (canary(steps=[{"pause": {"duration": "-5s"}}]), "spec.strategy.canary.steps[0].pause.duration", "Duration"),
    (
        canary(steps=[{"setCanaryScale": {"replicas": 1}}]),
        "spec.strategy.canary.steps[0].setCanaryScale",
        "requires TrafficRouting",
    ),
    (
        canary(steps=[{"setHeaderRoute": {"name": "h"}}]),
        "spec.strategy.canary.steps[0].setHeaderRoute",
        "requires TrafficRouting",
    ),
    (
        canary(steps=[{"setMirrorRoute": {"name": "m"}}]),
        "spec.strategy.canary.steps[0].setMirrorRoute",
        "requires TrafficRouting",
    ),
    (
        canary(canaryService="c", stableService="s", trafficRouting=NGINX, steps=[{"setMirrorRoute": {"name": "m"}}]),
        "spec.strategy.canary.steps[0].setMirrorRoute",
        "supports Istio and Plugins",
    ),
    (
        canary(canaryService="c", stableService="s", trafficRouting=ISTIO, steps=[{"setHeaderRoute": {"name": "h"}}]),
        "spec.strategy.canary.trafficRouting.managedRoutes",
        "missing field",
    ),
    (
        canary(
            canaryService="c",
            stableService="s",
            trafficRouting={**ISTIO, "managedRoutes": [{"name": "other"}]},
            steps=[{"setHeaderRoute": {"name": "h"}}],
        ),
        "spec.strategy.canary.steps[0].setHeaderRoute",
        "managedRoutes",
    ),
    (
        canary(
            canaryService="c",
            stableService="s",
            trafficRouting={**ISTIO, "managedRoutes": [{"name": "h"}]},
            steps=[{"setHeaderRoute": {"name": "h", "match": [{"headerName": "x", "headerValue": {}}]}}],
        ),
        "spec.strategy.canary.steps[0].setHeaderRoute.match[0]",
        "StringMatch value missed",
    ),
    (
        canary(
            canaryService="c",
            stableService="s",
            trafficRouting={**ISTIO, "managedRoutes": [{"name": "m"}]},
            steps=[{"setMirrorRoute": {"name": "m", "match": [{"path": {"exact": "/", "prefix": "/a"}}]}}],
        ),
        "spec.strategy.canary.steps[0].setMirrorRoute.match[0].path",
        "exactly one",
    ),
    (
        canary(canaryService="c", stableService="s", trafficRouting=NGINX, steps=[{"setWeight": 101}]),
        "spec.strategy.canary.steps[0].setWeight",
        "between 0 and 100",
    ),
    (
        canary(
            canaryService="c",
            stableService="s",
            trafficRouting={**NGINX, "maxTrafficWeight": 10},
            steps=[{"setWeight": 20}],
        ),
        "spec.strategy.canary.steps[0].setWeight",
        "between 0 and 10",
    ),
    (
        canary(canaryService="c", stableService="s", trafficRouting={**ISTIO, "maxTrafficWeight": 10}),
        "spec.strategy.canary.trafficRouting.maxTrafficWeight",
        "Nginx and Plugins",
    ),
    (canary(maxSurge=0, maxUnavailable="0%"), "spec.strategy.canary.maxSurge", "both can not be zero"),
    (canary(maxSurge="lots"), "spec.strategy.canary.maxSurge", "invalid int or percentage"),
    (canary(maxUnavailable="1x%"), "spec.strategy.canary.maxUnavailable", "invalid int or percentage"),
    (canary(canaryService="svc", stableService="svc"), "spec.strategy.canary.stableService", "same service"),
    (canary(trafficRouting=NGINX, stableService="s"), "spec.strategy.canary.canaryService", "must to be set"),
    (canary(scaleDownDelaySeconds=30), "spec.strategy.canary.scaleDownDelaySeconds", "traffic routing"),
    (canary(dynamicStableScale=True), "spec.strategy.canary.dynamicStableScale", "traffic routing"),
    (
        canary(
            canaryService="c", stableService="s", trafficRouting=NGINX, dynamicStableScale=True, scaleDownDelaySeconds=5
        ),
        "spec.strategy.canary.dynamicStableScale",
        "cannot be used with scaleDownDelaySeconds",
    ),
    (
        canary(pingPong={"pingService": "p", "pongService": "p"}, trafficRouting=ISTIO),
        "spec.strategy.canary.pingPong.pingService",
        "same service",
    ),
    (
        canary(steps=[{"experiment": {"templates": [{"name": "c", "specRef": "canary", "weight": 5}]}}]),
        "spec.strategy.canary.steps[0].experiment.templates[0].weight",
        "TrafficRouting",
    ),
    (
        canary(steps=[{"experiment": {"duration": "soon", "templates": [{"name": "c", "specRef": "canary"}]}}]),
        "spec.strategy.canary.steps[0].experiment.duration",
        "invalid duration",
    ),
    (
        canary(
            steps=[
                {
                    "analysis": {
                        "templates": [{"templateName": "t"}],
                        "args": [{"name": "a", "valueFrom": {"fieldRef": {"fieldPath": "metadata.ownerReferences"}}}],
                    }
                }
            ]
        ),
        "spec.strategy.canary.steps[0].analysis.args[0].valueFrom.fieldRef.fieldPath",
        "downwardAPI",
    ),
    (
        canary(steps=[{"setWeight": 10}], analysis={"templates": [{"templateName": "t"}], "startingStep": 3}),
        "spec.strategy.canary.analysis.startingStep",
        "number of steps",
    ),
    (canary(antiAffinity={}), "spec.strategy.canary.antiAffinity", "exactly one strategy"),
    (
        canary(antiAffinity={"preferredDuringSchedulingIgnoredDuringExecution": {"weight": 0}}),
        "spec.strategy.canary.antiAffinity.preferredDuringSchedulingIgnoredDuringExecution.weight",
        "between 1-100",
    ),
    (
        _with_spec(strategy={"blueGreen": {"previewService": "p"}}),
        "spec.strategy.blueGreen.activeService",
        "missing field",
    ),
    (blue_green(previewService="shop-active"), "spec.strategy.blueGreen.activeService", "same service"),
    (
        blue_green(scaleDownDelayRevisionLimit=20),
        "spec.strategy.blueGreen.scaleDownDelayRevisionLimit",
        "revision history limit",
    ),
    (blue_green(previewReplicaCount=-1), "spec.strategy.blueGreen.previewReplicaCount", "greater than or equal"),
    (
        blue_green(
            antiAffinity={
                "requiredDuringSchedulingIgnoredDuringExecution": {},
                "preferredDuringSchedulingIgnoredDuringExecution": {"weight": 5},
            }
        ),
        "spec.strategy.blueGreen.antiAffinity",
        "exactly one",
    ),
]


@pytest.mark.parametrize(
    ("manifest", "path", "fragment"), INVALID, ids=[f"{i}-{case[1]}" for i, case in enumerate(INVALID)]
)
def test_each_invalid_spec_names_its_field(manifest: dict[str, Any], path: str, fragment: str) -> None:
    errors = errors_of(manifest)
    matching = [error for error in errors if error.startswith(f"{path}: ")]
    assert matching, f"no error for {path}; got {errors}"
    assert any(fragment in error for error in matching), matching


def test_one_bad_step_does_not_hide_others() -> None:
    manifest = canary(steps=[{"setWeight": 150}, {"pause": {"duration": "x"}}, {}])
    assert paths_of(manifest) == [
        "spec.strategy.canary.steps[0].setWeight",
        "spec.strategy.canary.steps[1].pause.duration",
        "spec.strategy.canary.steps[2]",
    ]


def test_route_steps_may_combine_with_a_weight_as_in_argo() -> None:
    # Argo only forbids combining setWeight, pause, experiment and analysis.
    manifest = canary(
        canaryService="c",
        stableService="s",
        trafficRouting={**ISTIO, "managedRoutes": [{"name": "h"}]},
        steps=[{"setWeight": 10, "setCanaryScale": {"weight": 10}}],
    )
    assert errors_of(manifest) == []


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"app": "a", "tier": "web"}, True),
        ({"app": "a", "tier": "db"}, False),
        ({"app": "a", "tier": "web", "legacy": "1"}, False),
        ({"tier": "web"}, False),
    ],
)
def test_selector_semantics(labels: dict[str, str], expected: bool) -> None:
    selector = LabelSelector.model_validate(
        {
            "matchLabels": {"app": "a"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["web"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "app", "operator": "Exists"},
                {"key": "tier", "operator": "NotIn", "values": ["db"]},
            ],
        }
    )
    assert selector_matches(selector, labels) is expected
