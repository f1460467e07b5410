"""The models read every fixture manifest and write it back unchanged, defaults included."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from rollouts.api import AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate, Experiment, Rollout
from rollouts.api.common import K8sModel
from rollouts.api.gitsync import GitSync
from rollouts.api.validation import validate_rollout

MANIFESTS = Path(__file__).resolve().parents[2] / "fixtures" / "manifests"
MODELS: dict[str, type[K8sModel]] = {
    "Rollout": Rollout,
    "AnalysisTemplate": AnalysisTemplate,
    "ClusterAnalysisTemplate": ClusterAnalysisTemplate,
    "AnalysisRun": AnalysisRun,
    "Experiment": Experiment,
    "GitSync": GitSync,
}


def argo_documents() -> list[Any]:
    params = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document["apiVersion"].split("/")[0] in ("argoproj.io", "rollouts.io"):
                name = f"{path.stem}:{document['kind']}/{document['metadata']['name']}"
                params.append(pytest.param(document, id=name))
    return params


DOCUMENTS = argo_documents()


def test_fixtures_cover_every_kind() -> None:
    kinds = {param.values[0]["kind"] for param in DOCUMENTS}
    assert kinds == set(MODELS)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_round_trip_without_loss(document: dict[str, Any]) -> None:
    original = copy.deepcopy(document)
    model = MODELS[document["kind"]].model_validate(document)
    assert model.to_dict() == original
    # Through JSON as the API server sends it, too.
    again = MODELS[document["kind"]].model_validate(orjson.loads(orjson.dumps(model.to_dict())))
    assert again.to_dict() == original


@pytest.mark.parametrize("document", [p for p in DOCUMENTS if p.values[0]["kind"] == "Rollout"])
def test_fixture_rollouts_are_valid(document: dict[str, Any]) -> None:
    assert validate_rollout(Rollout.model_validate(document)) == []


def load(name: str, kind: str, index: int = 0) -> dict[str, Any]:
    documents = [d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d and d["kind"] == kind]
    document: dict[str, Any] = documents[index]
    return document


def test_typed_access_to_canary_fields() -> None:
    rollout = Rollout.model_validate(load("canary-traffic-routing.yaml", "Rollout"))
    canary = rollout.spec.strategy.canary
    assert canary is not None and canary.analysis is not None and canary.traffic_routing is not None
    assert canary.analysis.starting_step == 2
    assert [t.template_name for t in canary.analysis.templates or []] == ["success-rate", "shared-latency"]
    args = {arg.name: arg for arg in canary.analysis.args or []}
    assert args["hash"].value_from is not None
    assert args["hash"].value_from.pod_template_hash_value == "Latest"
    assert args["team"].value_from is not None and args["team"].value_from.field_ref is not None
    assert args["team"].value_from.field_ref.field_path == "metadata.labels['team']"
    assert canary.traffic_routing.istio is not None
    assert canary.traffic_routing.istio["virtualService"]["name"] == "checkout"
    assert canary.traffic_routing.providers() == ["istio"]
    steps = canary.effective_steps()
    assert [step.kinds() for step in steps[:4]] == [
        ["setCanaryScale"],
        ["setHeaderRoute"],
        ["setMirrorRoute"],
        ["setWeight"],
    ]
    assert steps[1].set_header_route is not None and steps[1].set_header_route.match is not None
    header_value = steps[1].set_header_route.match[0].header_value
    assert header_value is not None and header_value.exact == "yes"
    assert steps[4].pause is not None and steps[4].pause.duration_seconds() == 120


def test_typed_access_to_status() -> None:
    rollout = Rollout.model_validate(load("status-rollout.yaml", "Rollout"))
    status = rollout.status
    assert status is not None and status.canary is not None and status.canary.weights is not None
    assert status.hpa_replicas == 5 and status.stable_rs == "58f4d9c6b"
    assert status.observed_generation == "4"
    assert status.canary.weights.canary.weight == 25
    assert status.canary.weights.stable.pod_template_hash == "58f4d9c6b"
    paused = status.condition("Paused")
    assert paused is not None and paused.reason == "RolloutPaused"
    assert status.condition("Healthy") is None
    blue_green = Rollout.model_validate(load("status-rollout.yaml", "Rollout", 1)).status
    assert blue_green is not None and blue_green.blue_green is not None
    assert blue_green.blue_green.pre_promotion_analysis_run_status is not None
    assert blue_green.blue_green.pre_promotion_analysis_run_status.status == "Failed"


def test_analysis_run_and_experiment_status() -> None:
    run = AnalysisRun.model_validate(load("status-analysisrun.yaml", "AnalysisRun"))
    assert run.status is not None and run.status.metric_results is not None
    result = run.status.metric_results[0]
    assert result.consecutive_error == 1 and result.measurements is not None
    assert result.measurements[1].resume_at == "2026-01-02T03:11:00Z"
    assert run.spec.ttl_strategy is not None and run.spec.ttl_strategy.seconds_after_failure == 7200
    experiment = Experiment.model_validate(load("status-experiment.yaml", "Experiment"))
    assert experiment.status is not None and experiment.status.template_statuses is not None
    assert experiment.status.template_statuses[0].pod_template_hash == "5f7d6c8b9"
    assert experiment.status.analysis_runs is not None
    assert experiment.status.analysis_runs[0].analysis_run == "inventory-6b9d8c7f5-4-0-smoke"


def test_unknown_fields_survive_read_modify_write() -> None:
    document = load("future-fields.yaml", "Rollout")
    rollout = Rollout.model_validate(document)
    rollout.spec.replicas = 2
    written = rollout.to_dict()
    assert written["spec"]["replicas"] == 2
    assert written["spec"]["futureTopLevelKnob"] == "enabled"
    assert written["spec"]["strategy"]["canary"]["futureCanaryOption"] == {"nested": [1, 2, 3]}
    assert written["spec"]["strategy"]["canary"]["steps"][0]["futureStepNote"] == "hello"
    assert written["spec"]["strategy"]["canary"]["steps"][1]["pause"]["untilApproved"] is False
    assert written["spec"]["template"]["spec"]["containers"][0]["futureContainerField"] == 3


MINIMAL = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Rollout",
    "metadata": {"name": "m"},
    "spec": {
        "selector": {"matchLabels": {"app": "m"}},
        "template": {"metadata": {"labels": {"app": "m"}}, "spec": {"containers": [{"name": "m", "image": "m"}]}},
        "strategy": {"canary": {}},
    },
}


def test_defaults_are_available_but_never_written() -> None:
    rollout = Rollout.model_validate(copy.deepcopy(MINIMAL))
    spec = rollout.spec
    assert spec.effective_replicas() == 1
    assert spec.effective_revision_history_limit() == 10
    assert spec.effective_progress_deadline_seconds() == 600
    assert spec.effective_min_ready_seconds() == 0
    assert spec.effective_successful_run_history_limit() == 5
    assert spec.effective_unsuccessful_run_history_limit() == 5
    canary = spec.strategy.canary
    assert canary is not None
    assert canary.effective_max_surge() == "25%"
    assert canary.effective_max_unavailable() == "25%"
    assert canary.effective_steps() == []
    assert spec.scale_down_delay_seconds() == 0  # basic canary: no delay
    assert spec.abort_scale_down_delay_seconds() == (0, False)
    assert rollout.to_dict() == MINIMAL


def test_blue_green_defaults() -> None:
    document = copy.deepcopy(MINIMAL)
    document["spec"]["strategy"] = {"blueGreen": {"activeService": "a"}}
    rollout = Rollout.model_validate(document)
    blue_green = rollout.spec.strategy.blue_green
    assert blue_green is not None
    assert blue_green.effective_auto_promotion_enabled() is True
    assert blue_green.effective_scale_down_delay_seconds() == 30
    assert rollout.spec.scale_down_delay_seconds() == 30
    assert rollout.spec.abort_scale_down_delay_seconds() == (30, False)
    blue_green.abort_scale_down_delay_seconds = 0
    assert rollout.spec.abort_scale_down_delay_seconds() == (None, True)
    assert rollout.to_dict()["spec"]["strategy"] == {
        "blueGreen": {"activeService": "a", "abortScaleDownDelaySeconds": 0}
    }


def test_canary_with_traffic_routing_delays_scale_down() -> None:
    rollout = Rollout.model_validate(load("canary-nginx.yaml", "Rollout"))
    assert rollout.spec.scale_down_delay_seconds() == 45
    assert rollout.spec.abort_scale_down_delay_seconds() == (30, False)


def test_metric_and_experiment_defaults() -> None:
    template = AnalysisTemplate.model_validate(load("analysistemplate-web.yaml", "AnalysisTemplate"))
    metrics = template.spec.metrics or []
    assert metrics[0].effective_consecutive_error_limit() == 4
    assert metrics[0].provider.kinds() == ["web"]
    experiment = Experiment.model_validate(load("experiment.yaml", "Experiment"))
    assert experiment.spec.effective_progress_deadline_seconds() == 120
    assert Experiment.model_validate({"spec": {}}).spec.effective_scale_down_delay_seconds() == 30


@pytest.mark.parametrize(("duration", "seconds"), [(None, 0), (30, 30), ("45", 45), ("1m30s", 90), ("oops", -1)])
def test_pause_duration_seconds_like_argo(duration: int | str | None, seconds: int) -> None:
    from rollouts.api.rollout import RolloutPause

    assert RolloutPause(duration=duration).duration_seconds() == seconds


def test_camel_case_and_python_names_both_accepted() -> None:
    by_alias = Rollout.model_validate({"spec": {"revisionHistoryLimit": 3}})
    by_name = Rollout(spec={"revision_history_limit": 3})  # type: ignore[arg-type]
    assert by_alias.spec.revision_history_limit == by_name.spec.revision_history_limit == 3
    assert by_name.to_dict()["spec"]["revisionHistoryLimit"] == 3
