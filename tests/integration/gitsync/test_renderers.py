"""Each render tool through the whole loop: Jsonnet, Helm, Kustomize applied to the cluster."""

from __future__ import annotations

from pathlib import Path

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import DEPLOYMENTS
from tests.integration.gitsync.helpers import (
    CONFIGMAPS,
    create_gitsync,
    gitsync_manifest,
    status,
    synced_at,
    wait_gitsync,
)
from tests.kubetest import ControllerProcess
from tests.unit.gitsync.gitrepo import FIXTURES, git, make_repo

JSONNET_APP = """\
local lib = import 'lib/config.libsonnet';
function(replicas=1) {
  local base = { apiVersion: 'v1', kind: 'ConfigMap', data+: { env: std.extVar('env') } },
  ['cm-' + i]: base { metadata: { name: 'shard-' + i }, data+: { index: std.toString(i) } }
  for i in [1, 2, 3]
} + {
  settings: lib.configMap('settings') { data+: { replicas: std.toString(replicas) } },
}
"""

JSONNET_LIB = """\
{
  configMap(name):: {
    local this = self,
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: name, labels: { from: 'lib' } },
    hidden:: 'never rendered',
    data: { name: this.metadata.name },
  },
}
"""


async def test_jsonnet_app_with_ext_vars_tlas_and_library(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/main.jsonnet": JSONNET_APP, "vendor/lib/config.libsonnet": JSONNET_LIB})
    source = {
        "directory": {
            "jsonnet": {
                "extVars": [{"name": "env", "value": "staging"}],
                "tlas": [{"name": "replicas", "value": "3", "code": True}],
                "libs": ["vendor"],
            }
        }
    }
    await create_gitsync(kube_client, namespace, gitsync_manifest("jsonnet", repo, path="app", source=source))
    gs = await wait_gitsync(kube_client, namespace, "jsonnet", synced_at(git(repo, "rev-parse", "HEAD")), what="synced")
    assert {r["name"] for r in status(gs)["resources"]} == {"shard-1", "shard-2", "shard-3", "settings"}
    shard = await kube_client.get(CONFIGMAPS, namespace, "shard-2")
    assert shard["data"] == {"env": "staging", "index": "2"}
    settings = await kube_client.get(CONFIGMAPS, namespace, "settings")
    assert settings["data"] == {"name": "settings", "replicas": "3"}
    assert settings["metadata"]["labels"] == {"from": "lib"}


async def test_helm_chart_with_value_files_values_and_parameters(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "helm")
    source = {
        "helm": {
            "releaseName": "shop",
            "valueFiles": ["../envs/prod.yaml"],
            "values": "greeting: hi",
            "parameters": [
                {"name": "image", "value": "nginx:1.27"},
                {"name": "extra", "value": "007", "forceString": True},
            ],
        }
    }
    await create_gitsync(kube_client, namespace, gitsync_manifest("helm", repo, path="chart", source=source))
    await wait_gitsync(kube_client, namespace, "helm", synced_at(git(repo, "rev-parse", "HEAD")), what="synced")
    config = await kube_client.get(CONFIGMAPS, namespace, "shop-config")
    assert config["data"] == {"greeting": "hi", "replicas": "4", "image": "nginx:1.27", "extra": "007"}


async def test_kustomize_overlay(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "kustomize")
    source = {"kustomize": {"namePrefix": "p-", "images": ["nginx=registry.example/nginx:1.27"]}}
    await create_gitsync(kube_client, namespace, gitsync_manifest("kust", repo, path="overlays/prod", source=source))
    gs = await wait_gitsync(
        kube_client,
        namespace,
        "kust",
        lambda o: synced_at(git(repo, "rev-parse", "HEAD"))(o) and status(o)["health"]["status"] == "Healthy",
        what="synced and healthy",
    )
    assert (await kube_client.get(CONFIGMAPS, namespace, "p-settings"))["data"] == {"level": "prod"}
    deployment = await kube_client.get(DEPLOYMENTS, namespace, "p-web")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/nginx:1.27"
    assert {(r["kind"], r["health"]["status"]) for r in status(gs)["resources"]} == {
        ("ConfigMap", "Healthy"),
        ("Deployment", "Healthy"),
    }
