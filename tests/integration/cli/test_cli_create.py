"""`create -f`, `create analysisrun`, `list experiments` and `get experiment` against a real API server.

No controller serves the objects made here: they carry an instance id no
controller runs with, so what is checked is exactly what the commands wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.kinds import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, CLUSTER_ANALYSIS_TEMPLATES, EXPERIMENTS, ROLLOUTS
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import CONFIGMAPS, SERVICES
from tests.conftest import ClusterHandle
from tests.integration.cli.test_cli_patches import Cli
from tests.kubetest import rollout_manifest

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("crds")]

HAND_MADE = {INSTANCE_ID_LABEL: "hand-made"}


@pytest.fixture
def cli(cluster: ClusterHandle, namespace: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(cluster, namespace, capsys)


def analysis_template(name: str, *, kind: str = "AnalysisTemplate") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "args": [{"name": "service"}, {"name": "port", "value": "80"}],
            "metrics": [{"name": "ok", "provider": {"web": {"url": "http://{{args.service}}:{{args.port}}/"}}}],
        },
    }


def write(tmp_path: Path, *objects: dict[str, Any]) -> str:
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    return str(path)


async def test_create_file_with_argo_and_plain_kinds(
    cli: Cli, kube_client: KubeClient, namespace: str, tmp_path: Path
) -> None:
    rollout = rollout_manifest("web", steps=[{"setWeight": 20}, {"pause": {}}], labels=HAND_MADE)
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "b"}}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}},
    }
    path = write(tmp_path, rollout, analysis_template("check"), config, service)
    code, out, err = cli("create", "-f", path)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "rollout.argoproj.io/web created",
        "analysistemplate.argoproj.io/check created",
        "configmap/settings created",
        "service/web created",
    ]
    assert (await kube_client.get(ROLLOUTS, namespace, "web"))["metadata"]["labels"] == HAND_MADE
    assert (await kube_client.get(ANALYSIS_TEMPLATES, namespace, "check"))["spec"]["args"][0] == {"name": "service"}
    assert (await kube_client.get(CONFIGMAPS, namespace, "settings"))["data"] == {"a": "b"}
    await kube_client.get(SERVICES, namespace, "web")

    code, out, err = cli("create", "-f", path)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and "already exists" in err


async def test_create_unknown_kind_creates_nothing(
    cli: Cli, kube_client: KubeClient, namespace: str, tmp_path: Path
) -> None:
    odd = {"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "g"}}
    path = write(tmp_path, analysis_template("first"), odd)
    code, out, err = cli("create", "-f", path)
    assert (code, out) == (1, "")
    assert err == 'error: no kind "Gadget" is registered for version "v1"\n'
    assert (await kube_client.list(ANALYSIS_TEMPLATES, namespace))["items"] == []


async def test_create_and_watch_prints_the_rollout(cli: Cli, namespace: str, tmp_path: Path) -> None:
    path = write(tmp_path, rollout_manifest("watched", steps=[{"setWeight": 20}], labels=HAND_MADE))
    code, out, err = cli("create", "-f", path, "-w", "--timeout-seconds", "1")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "rollout.argoproj.io/watched created"
    assert "Name:            watched" in lines


async def test_create_analysisrun_from_template(cli: Cli, kube_client: KubeClient, namespace: str) -> None:
    await kube_client.create(ANALYSIS_TEMPLATES, namespace, analysis_template("check"))
    code, out, err = cli("create", "analysisrun", "--from", "check", "-a", "service=web", "--instance-id", "hand-made")
    assert (code, err) == (0, "")
    assert out.startswith("analysisrun.argoproj.io/check-") and out.endswith(" created\n")
    name = out.split("/")[1].split()[0]
    run = await kube_client.get(ANALYSIS_RUNS, namespace, name)
    assert run["metadata"]["labels"] == HAND_MADE
    assert run["spec"]["args"] == [{"name": "service", "value": "web"}, {"name": "port", "value": "80"}]
    assert [m["name"] for m in run["spec"]["metrics"]] == ["ok"]

    code, out, err = cli("create", "analysisrun", "--from", "check", "--instance-id", "hand-made")
    assert (code, out, err) == (1, "", "error: args.service was not resolved\n")
    code, out, err = cli("create", "ar", "--from", "nope")
    assert (code, out, err) == (1, "", 'error: analysistemplates.argoproj.io "nope" not found\n')


async def test_create_analysisrun_from_cluster_template(cli: Cli, kube_client: KubeClient, namespace: str) -> None:
    name = f"{namespace}-global"
    await kube_client.create(CLUSTER_ANALYSIS_TEMPLATES, None, analysis_template(name, kind="ClusterAnalysisTemplate"))
    try:
        code, out, err = cli(
            "create", "ar", "--global", "--from", name, "-a", "service=api", "--name", "exact", "--instance-id", "x"
        )
        assert (code, out, err) == (0, "analysisrun.argoproj.io/exact created\n", "")
        run = await kube_client.get(ANALYSIS_RUNS, namespace, "exact")
        assert run["spec"]["args"][0] == {"name": "service", "value": "api"}
    finally:
        await kube_client.delete(CLUSTER_ANALYSIS_TEMPLATES, None, name)


async def test_list_and_get_experiments(cli: Cli, kube_client: KubeClient, namespace: str) -> None:
    code, out, err = cli("list", "experiments")
    assert (code, out, err) == (0, "", "No resources found.\n")
    template = rollout_manifest("x")["spec"]["template"]
    experiment = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": "exp", "labels": HAND_MADE},
        "spec": {
            "duration": "10m",
            "templates": [
                {"name": "baseline", "replicas": 1, "selector": {"matchLabels": {"app": "x"}}, "template": template}
            ],
        },
    }
    await kube_client.create(EXPERIMENTS, namespace, experiment)
    status = {
        "phase": "Running",
        "message": "all good",
        "templateStatuses": [
            {"name": "baseline", "status": "Running", "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}
        ],
        "analysisRuns": [{"name": "check", "analysisRun": "exp-check", "phase": "Running"}],
    }
    await kube_client.patch(EXPERIMENTS, namespace, "exp", {"status": status})  # no status subresource (as Argo)
    code, out, err = cli("list", "experiments")
    assert (code, err) == (0, "")
    assert out.splitlines()[0].split() == ["NAME", "STATUS", "DURATION", "REMAINING", "AGE"]
    assert out.splitlines()[1].split()[:4] == ["exp", "Running", "10m", "-"]
    code, out, err = cli("get", "experiment", "exp")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:4] == [
        "Name:            exp",
        f"Namespace:       {namespace}",
        "Status:          ◌ Running",
        "Message:         all good",
    ]
    assert any(line.split() == ["baseline", "Running", "1", "1", "1", "1"] for line in lines)
    assert any(line.split() == ["check", "exp-check", "◌", "Running"] for line in lines)
    code, out, err = cli("get", "exp", "missing")
    assert (code, out, err) == (1, "", 'error: experiments.argoproj.io "missing" not found\n')
