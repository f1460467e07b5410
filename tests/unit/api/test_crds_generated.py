"""crds/ and the chart's copy are exactly what hack/gen_crds.py makes from the models."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import yaml

REPO = Path(__file__).resolve().parents[3]


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_crds", REPO / "hack" / "gen_crds.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_crds"] = module
    spec.loader.exec_module(module)
    return module


def test_crds_are_up_to_date() -> None:
    generator = load_generator()
    files = generator.render_all()
    for directory in (REPO / "crds", REPO / "charts" / "rollouts" / "files" / "crds"):
        on_disk = {p.name: p.read_text() for p in directory.glob("*.yaml")}
        assert on_disk == files, f"{directory} is stale: run .venv/bin/python hack/gen_crds.py"


def test_rollout_crd_has_argo_subresources_and_short_names() -> None:
    rollout = yaml.safe_load((REPO / "crds" / "rollouts.argoproj.io.yaml").read_text())
    version = rollout["spec"]["versions"][0]
    assert version["subresources"]["scale"] == {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.HPAReplicas",
        "labelSelectorPath": ".status.selector",
    }
    assert "status" in version["subresources"]
    assert rollout["spec"]["names"]["shortNames"] == ["ro"]
    spec_schema = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    canary = spec_schema["properties"]["strategy"]["properties"]["canary"]["properties"]
    assert canary["maxSurge"] == {"x-kubernetes-int-or-string": True}
    assert spec_schema["properties"]["template"]["x-kubernetes-preserve-unknown-fields"] is True
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert "HPAReplicas" in status and "stableRS" in status


def test_short_names() -> None:
    names = {}
    for path in (REPO / "crds").glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        names[crd["spec"]["names"]["kind"]] = crd["spec"]["names"]["shortNames"]
    assert names == {
        "Rollout": ["ro"],
        "AnalysisTemplate": ["at"],
        "ClusterAnalysisTemplate": ["cat"],
        "AnalysisRun": ["ar"],
        "Experiment": ["exp"],
        "GitSync": ["gs"],
    }


def test_only_rollouts_and_gitsyncs_have_a_status_subresource() -> None:
    # Argo's controller patches AnalysisRun and Experiment status on the object
    # itself; a status subresource there would make those patches drop status.
    subresources = {}
    for path in (REPO / "crds").glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        subresources[crd["spec"]["names"]["kind"]] = sorted(crd["spec"]["versions"][0]["subresources"])
    assert subresources == {
        "Rollout": ["scale", "status"],
        "AnalysisTemplate": [],
        "ClusterAnalysisTemplate": [],
        "AnalysisRun": [],
        "Experiment": [],
        "GitSync": ["status"],
    }


def test_pod_templates_get_argos_api_server_defaults() -> None:
    # Argo's CRDs default ports[].protocol etc.; the stored template (and so the
    # pod-template hash) must come out the same with ours.
    def at(node: dict, *path: str) -> dict:
        for key in path:
            node = node["items"] if key == "[]" else node["properties"][key]
        return node

    def spec_schema(name: str) -> dict:
        crd = yaml.safe_load((REPO / "crds" / name).read_text())
        return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]

    templates = {
        "rollouts.argoproj.io.yaml": ("template",),
        "experiments.argoproj.io.yaml": ("templates", "[]", "template"),
        "analysistemplates.argoproj.io.yaml": ("metrics", "[]", "provider", "job", "spec", "template"),
        "analysisruns.argoproj.io.yaml": ("metrics", "[]", "provider", "job", "spec", "template"),
    }
    for name, path in templates.items():
        template = at(spec_schema(name), *path)
        assert template["x-kubernetes-preserve-unknown-fields"] is True
        for containers in ("containers", "initContainers", "ephemeralContainers"):
            port = at(template, "spec", containers, "[]", "ports", "[]")
            assert port["properties"]["protocol"] == {"type": "string", "default": "TCP"}, (name, containers)
        grpc = at(template, "spec", "containers", "[]", "readinessProbe", "grpc", "service")
        assert grpc == {"type": "string", "default": ""}
    datadog = at(spec_schema("analysisruns.argoproj.io.yaml"), "metrics", "[]", "provider", "datadog")
    assert datadog["properties"]["interval"]["default"] == "5m"


# Every integer field Argo's CRDs (v1.8.3) declare int32/int64 that our models
# type (traffic-router blocks, step plugin statuses and the Kayenta and New Relic
# providers stay free-form here), by path; "[]" is a list's items.
ARGO_INTEGER_FORMATS = {
    "rollouts.argoproj.io.yaml": {
        "spec.analysis.successfulRunHistoryLimit": "int32",
        "spec.analysis.unsuccessfulRunHistoryLimit": "int32",
        "spec.minReadySeconds": "int32",
        "spec.progressDeadlineSeconds": "int32",
        "spec.replicas": "int32",
        "spec.revisionHistoryLimit": "int32",
        "spec.rollbackWindow.revisions": "int32",
        "spec.strategy.blueGreen.abortScaleDownDelaySeconds": "int32",
        "spec.strategy.blueGreen.antiAffinity.preferredDuringSchedulingIgnoredDuringExecution.weight": "int32",
        "spec.strategy.blueGreen.autoPromotionSeconds": "int32",
        "spec.strategy.blueGreen.postPromotionAnalysis.measurementRetention.[].limit": "int32",
        "spec.strategy.blueGreen.prePromotionAnalysis.measurementRetention.[].limit": "int32",
        "spec.strategy.blueGreen.previewReplicaCount": "int32",
        "spec.strategy.blueGreen.scaleDownDelayRevisionLimit": "int32",
        "spec.strategy.blueGreen.scaleDownDelaySeconds": "int32",
        "spec.strategy.canary.abortScaleDownDelaySeconds": "int32",
        "spec.strategy.canary.analysis.measurementRetention.[].limit": "int32",
        "spec.strategy.canary.analysis.startingStep": "int32",
        "spec.strategy.canary.antiAffinity.preferredDuringSchedulingIgnoredDuringExecution.weight": "int32",
        "spec.strategy.canary.minPodsPerReplicaSet": "int32",
        "spec.strategy.canary.scaleDownDelayRevisionLimit": "int32",
        "spec.strategy.canary.scaleDownDelaySeconds": "int32",
        "spec.strategy.canary.steps.[].analysis.measurementRetention.[].limit": "int32",
        "spec.strategy.canary.steps.[].experiment.templates.[].replicas": "int32",
        "spec.strategy.canary.steps.[].experiment.templates.[].weight": "int32",
        "spec.strategy.canary.steps.[].setCanaryScale.replicas": "int32",
        "spec.strategy.canary.steps.[].setCanaryScale.weight": "int32",
        "spec.strategy.canary.steps.[].setMirrorRoute.percentage": "int32",
        "spec.strategy.canary.steps.[].setWeight": "int32",
        "spec.strategy.canary.trafficRouting.maxTrafficWeight": "int32",
        "status.HPAReplicas": "int32",
        "status.availableReplicas": "int32",
        "status.canary.weights.additional.[].weight": "int32",
        "status.canary.weights.canary.weight": "int32",
        "status.canary.weights.stable.weight": "int32",
        "status.collisionCount": "int32",
        "status.currentStepIndex": "int32",
        "status.readyReplicas": "int32",
        "status.replicas": "int32",
        "status.updatedReplicas": "int32",
    },
    "analysisruns.argoproj.io.yaml": {
        "spec.measurementRetention.[].limit": "int32",
        "spec.metrics.[].provider.prometheus.timeout": "int64",
        "spec.metrics.[].provider.web.timeoutSeconds": "int64",
        "spec.ttlStrategy.secondsAfterCompletion": "int32",
        "spec.ttlStrategy.secondsAfterFailure": "int32",
        "spec.ttlStrategy.secondsAfterSuccess": "int32",
        "status.dryRunSummary.count": "int32",
        "status.dryRunSummary.error": "int32",
        "status.dryRunSummary.failed": "int32",
        "status.dryRunSummary.inconclusive": "int32",
        "status.dryRunSummary.successful": "int32",
        "status.metricResults.[].consecutiveError": "int32",
        "status.metricResults.[].consecutiveSuccess": "int32",
        "status.metricResults.[].count": "int32",
        "status.metricResults.[].error": "int32",
        "status.metricResults.[].failed": "int32",
        "status.metricResults.[].inconclusive": "int32",
        "status.metricResults.[].successful": "int32",
        "status.runSummary.count": "int32",
        "status.runSummary.error": "int32",
        "status.runSummary.failed": "int32",
        "status.runSummary.inconclusive": "int32",
        "status.runSummary.successful": "int32",
    },
    "experiments.argoproj.io.yaml": {
        "spec.measurementRetention.[].limit": "int32",
        "spec.progressDeadlineSeconds": "int32",
        "spec.scaleDownDelaySeconds": "int32",
        "spec.templates.[].minReadySeconds": "int32",
        "spec.templates.[].replicas": "int32",
        "status.templateStatuses.[].availableReplicas": "int32",
        "status.templateStatuses.[].collisionCount": "int32",
        "status.templateStatuses.[].readyReplicas": "int32",
        "status.templateStatuses.[].replicas": "int32",
        "status.templateStatuses.[].updatedReplicas": "int32",
    },
}


def test_integer_fields_carry_argos_formats() -> None:
    for name, formats in ARGO_INTEGER_FORMATS.items():
        crd = yaml.safe_load((REPO / "crds" / name).read_text())
        root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for path, wanted in formats.items():
            node = root
            for key in path.split("."):
                node = node["items"] if key == "[]" else node["properties"][key]
            assert node == {"type": "integer", "format": wanted}, (name, path, node)


def test_no_integer_field_is_left_without_a_format() -> None:
    # Every integer we model is bounded (rollouts/api/numbers.py), so every one has a format.
    def walk(node: dict, path: str, found: list[str]) -> None:
        if node.get("type") == "integer" and "format" not in node:
            found.append(path)
        for key, child in (node.get("properties") or {}).items():
            walk(child, f"{path}.{key}", found)
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[]", found)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}{{}}", found)

    unformatted: list[str] = []
    for path in (REPO / "crds").glob("*.argoproj.io.yaml"):
        crd = yaml.safe_load(path.read_text())
        walk(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], path.name, unformatted)
    assert unformatted == []
