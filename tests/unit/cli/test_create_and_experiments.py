"""Pure parts of `create`, `create analysisrun`, `completion` and the Experiment views."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.kinds import ANALYSIS_RUNS, ROLLOUTS
from rollouts.api.resource import Resource
from rollouts.cli import analysisrun_build, experiment_view, manifests
from rollouts.cli.completion_cmd import completion_script
from rollouts.cli.create_cmd import created_line
from rollouts.cli.main import CommandError, build_parser


def template(name: str, *, args: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    metric = {"name": f"{name}-metric", "provider": {"job": {"spec": {"template": {"spec": {}}}}}}
    body: dict[str, Any] = {"metrics": [metric], **spec}
    if args is not None:
        body["args"] = args
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": name}, "spec": body}


# ---------------------------------------------------------------- argument parsing


def test_create_flags_parse() -> None:
    args = build_parser().parse_args(["create", "-f", "a.yaml", "-f", "b.yaml", "-w"])
    assert args.filename == ["a.yaml", "b.yaml"] and args.watch and args.create_kind is None


def test_create_analysisrun_flags_parse() -> None:
    args = build_parser().parse_args(
        ["create", "ar", "--from", "t", "--global", "-a", "x=1", "-a", "y=a=b", "--generate-name", "p-"]
    )
    assert args.handler.__name__ == "create_analysis_run_command"
    assert (args.from_template, args.cluster_scope, args.argument, args.generate_name) == (
        "t",
        True,
        ["x=1", "y=a=b"],
        "p-",
    )


def test_name_and_generate_name_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["create", "analysisrun", "--from", "t", "--name", "a", "--generate-name", "b"])


def test_arg_flags() -> None:
    parsed = analysisrun_build.parse_arg_flags(["a=1", "b=x=y", "c="])
    assert [(a.name, a.value) for a in parsed] == [("a", "1"), ("b", "x=y"), ("c", "")]
    for bad in ("novalue", "=v"):
        with pytest.raises(CommandError, match="NAME=VALUE"):
            analysisrun_build.parse_arg_flags([bad])


# ---------------------------------------------------------------- building runs


def test_run_from_template_with_args_and_generated_name() -> None:
    raw = template("t", args=[{"name": "service"}, {"name": "port", "value": "80"}])
    run = analysisrun_build.build_analysis_run(
        (False, "t"),
        {(False, "t"): raw},
        args=analysisrun_build.parse_arg_flags(["service=web", "unknown=1"]),
        namespace="ns",
    )
    assert run["kind"] == "AnalysisRun" and run["apiVersion"] == "argoproj.io/v1alpha1"
    assert run["metadata"] == {"generateName": "t-", "namespace": "ns"}
    assert run["spec"]["args"] == [{"name": "service", "value": "web"}, {"name": "port", "value": "80"}]
    assert [m["name"] for m in run["spec"]["metrics"]] == ["t-metric"]


def test_run_name_and_instance_id() -> None:
    run = analysisrun_build.build_analysis_run(
        (True, "g"), {(True, "g"): template("g")}, args=[], namespace="ns", name="exact", instance_id="blue"
    )
    assert run["metadata"]["name"] == "exact" and "generateName" not in run["metadata"]
    assert run["metadata"]["labels"] == {INSTANCE_ID_LABEL: "blue"}
    assert INSTANCE_ID_LABEL == "argo-rollouts.argoproj.io/controller-instance-id"


def test_nested_templates_are_merged() -> None:
    outer = template("outer", templates=[{"templateName": "inner"}, {"templateName": "shared", "clusterScope": True}])
    assert analysisrun_build.nested_refs(outer) == [(False, "inner"), (True, "shared")]
    found = {(False, "outer"): outer, (False, "inner"): template("inner"), (True, "shared"): template("shared")}
    run = analysisrun_build.build_analysis_run((False, "outer"), found, args=[], namespace="ns")
    assert [m["name"] for m in run["spec"]["metrics"]] == ["outer-metric", "inner-metric", "shared-metric"]


def test_missing_argument_is_one_line_error() -> None:
    with pytest.raises(CommandError, match=r"args\.service was not resolved"):
        analysisrun_build.build_analysis_run(
            (False, "t"), {(False, "t"): template("t", args=[{"name": "service"}])}, args=[], namespace="ns"
        )


def test_empty_generated_name_is_refused() -> None:
    with pytest.raises(CommandError, match="name is invalid"):
        analysisrun_build.run_name("", name=None, generate_name=None)


# ---------------------------------------------------------------- manifests


def test_documents_yaml_json_and_lists() -> None:
    text = """
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: a}
---
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
"""
    assert [o["kind"] for o in manifests.parse_documents(text, source="f")] == ["Rollout", "ConfigMap"]
    as_json = '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}'
    assert manifests.parse_documents(as_json, source="f")[0]["kind"] == "Service"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no objects"),
        ("a: [", "not valid YAML"),
        ("- 1\n", "not an object"),
        ("kind: Rollout\nmetadata: {name: a}\n", "apiVersion and kind"),
        ("apiVersion: v1\nkind: Service\n", "metadata.name is required"),
    ],
)
def test_bad_documents(text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        manifests.parse_documents(text, source="f.yaml")


def test_missing_file() -> None:
    with pytest.raises(CommandError, match="cannot read /no/such/file"):
        manifests.read_objects("/no/such/file")


def test_created_lines_like_kubectl() -> None:
    assert created_line(ROLLOUTS, "web") == "rollout.argoproj.io/web created"
    assert created_line(ANALYSIS_RUNS, "r") == "analysisrun.argoproj.io/r created"
    assert created_line(Resource("", "v1", "services", "Service"), "s") == "service/s created"
    assert created_line(Resource("apps", "v1", "deployments", "Deployment"), "d") == "deployment.apps/d created"


# ---------------------------------------------------------------- completion


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_names_the_commands(shell: str) -> None:
    script = completion_script(shell)
    for word in ("create", "analysisrun", "completion", "experiments", "promote", "--instance-id", "--from"):
        assert word in script


def test_completion_rejects_other_shells() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["completion", "fish"])


# ---------------------------------------------------------------- experiments

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def experiment(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "exp", "namespace": "ns", "creationTimestamp": "2026-01-01T11:55:00Z"},
        "spec": {"duration": "10m", "templates": [{"name": "baseline", "replicas": 2}, {"name": "canary"}]},
        "status": status,
    }


def test_list_row_with_remaining_time() -> None:
    running = experiment(phase="Running", availableAt="2026-01-01T11:56:00Z")
    assert experiment_view.list_cells(running, now=NOW, all_namespaces=False) == ["exp", "Running", "10m", "6m", "5m"]
    done = experiment(phase="Successful", availableAt="2026-01-01T11:56:00Z")
    assert experiment_view.list_cells(done, now=NOW, all_namespaces=True) == [
        "ns",
        "exp",
        "Successful",
        "10m",
        "-",
        "5m",
    ]
    assert experiment_view.list_header(all_namespaces=True)[0] == "NAMESPACE"


def test_list_row_of_an_empty_object_does_not_raise() -> None:
    assert experiment_view.list_cells({}, now=NOW, all_namespaces=False) == ["", "", "-", "-", ""]


def test_get_experiment_text() -> None:
    exp = experiment(
        phase="Running",
        message="waiting",
        templateStatuses=[
            {"name": "baseline", "status": "Running", "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1},
            {"name": "canary", "status": "Progressing", "message": "slow"},
        ],
        analysisRuns=[{"name": "check", "analysisRun": "exp-check", "phase": "Successful"}],
    )
    text = experiment_view.render_experiment(exp, now=NOW)
    lines = text.splitlines()
    assert lines[0] == "Name:            exp"
    assert "Status:          ◌ Running" in lines
    assert "Message:         waiting" in lines
    assert any(line.split() == ["baseline", "Running", "2", "2", "2", "1"] for line in lines)
    assert any(line.split()[:3] == ["canary", "Progressing", "(slow)"] for line in lines)
    assert any(line.split() == ["check", "exp-check", "✔", "Successful"] for line in lines)
    assert experiment_view.render_experiment({}, now=NOW).splitlines()[0].startswith("Name:")
