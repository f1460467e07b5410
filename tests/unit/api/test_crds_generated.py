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
