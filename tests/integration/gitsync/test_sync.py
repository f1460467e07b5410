"""GitSync against the local control plane with real git repositories on disk.

The session `controller` fixture runs every registered controller, the
GitSync controller included; each test makes its own repository under
tmp_path and its own namespace, so tests never share state.
"""

from __future__ import annotations

from pathlib import Path

from rollouts.api.gitsync import TRACKING_ANNOTATION
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import DEPLOYMENTS
from tests.integration.gitsync.helpers import (
    CONFIGMAPS,
    configmap_yaml,
    create_gitsync,
    gitsync_manifest,
    status,
    synced_at,
    wait_gitsync,
)
from tests.kubetest import ControllerProcess
from tests.unit.gitsync.gitrepo import commit, git, make_repo, write
from tests.waiting import eventually

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: web:1
"""


async def test_plain_yaml_is_applied_tracked_and_healthy(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"app/config.yaml": configmap_yaml("settings", color="blue"), "app/web.yaml": DEPLOYMENT},
    )
    head = git(repo, "rev-parse", "HEAD")
    await create_gitsync(kube_client, namespace, gitsync_manifest("plain", repo, path="app"))
    gs = await wait_gitsync(
        kube_client,
        namespace,
        "plain",
        lambda o: synced_at(head)(o) and (status(o).get("health") or {}).get("status") == "Healthy",
        what="synced and healthy",
    )
    config = await kube_client.get(CONFIGMAPS, namespace, "settings")
    assert config["data"] == {"color": "blue"}
    annotation = config["metadata"]["annotations"][TRACKING_ANNOTATION]
    assert annotation == f"{namespace}/plain:/ConfigMap:{namespace}/settings"
    managers = {entry["manager"] for entry in config["metadata"]["managedFields"]}
    assert "rollouts-gitsync" in managers
    deployment = await kube_client.get(DEPLOYMENTS, namespace, "web")
    assert deployment["metadata"]["annotations"][TRACKING_ANNOTATION].endswith(f":apps/Deployment:{namespace}/web")
    s = status(gs)
    kinds = {(r["kind"], r["name"]): (r["status"], r["health"]["status"]) for r in s["resources"]}
    assert kinds == {("ConfigMap", "settings"): ("Synced", "Healthy"), ("Deployment", "web"): ("Synced", "Healthy")}
    assert [h["revision"] for h in s["history"]] == [head]
    assert s["reconciledAt"]


async def test_new_commit_is_applied_within_one_refresh(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"config.yaml": configmap_yaml("settings", color="blue")})
    await create_gitsync(kube_client, namespace, gitsync_manifest("commits", repo))
    await wait_gitsync(kube_client, namespace, "commits", synced_at(git(repo, "rev-parse", "HEAD")), what="first sync")
    write(repo, "config.yaml", configmap_yaml("settings", color="green"))
    second = commit(repo, "green")
    await eventually(
        lambda: kube_client.get(CONFIGMAPS, namespace, "settings"),
        lambda cm: cm["data"] == {"color": "green"},
        timeout=60,
        what="new commit applied",
    )
    gs = await wait_gitsync(kube_client, namespace, "commits", synced_at(second), what="synced to the second commit")
    assert [h["revision"] for h in status(gs)["history"]][-1] == second
    assert len(status(gs)["history"]) == 2
