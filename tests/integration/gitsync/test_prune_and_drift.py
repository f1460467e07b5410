"""Prune (never of untracked objects) and drift: selfHeal reverts a manual edit, without it OutOfSync."""

from __future__ import annotations

from pathlib import Path

from rollouts.api.gitsync import TRACKING_ANNOTATION
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import DEPLOYMENTS
from tests.integration.gitsync.helpers import (
    CONFIGMAPS,
    configmap_yaml,
    create_gitsync,
    get_or_none,
    gitsync_manifest,
    status,
    synced_at,
    wait_gitsync,
)
from tests.kubetest import ControllerProcess
from tests.unit.gitsync.gitrepo import commit, git, make_repo
from tests.waiting import eventually


async def test_prune_deletes_only_tracked_objects_that_left_git(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "a.yaml": configmap_yaml("keep", v="1"),
            "b.yaml": configmap_yaml("goes", v="1"),
            "c.yaml": configmap_yaml("disowned", v="1"),
        },
    )
    # An object of the same kind nobody applied through Git: never pruned.
    await kube_client.create(CONFIGMAPS, namespace, {"metadata": {"name": "handmade"}, "data": {"v": "mine"}})
    await create_gitsync(kube_client, namespace, gitsync_manifest("pruner", repo))
    await wait_gitsync(kube_client, namespace, "pruner", synced_at(git(repo, "rev-parse", "HEAD")), what="first sync")
    # Someone takes "disowned" over by removing our tracking annotation: prune must leave it alone.
    await kube_client.patch(
        CONFIGMAPS, namespace, "disowned", {"metadata": {"annotations": {TRACKING_ANNOTATION: None}}}
    )
    (repo / "b.yaml").unlink()
    (repo / "c.yaml").unlink()
    second = commit(repo, "remove b and c")
    gs = await wait_gitsync(kube_client, namespace, "pruner", synced_at(second), what="synced after removal")
    assert await get_or_none(kube_client, CONFIGMAPS, namespace, "goes") is None
    assert await get_or_none(kube_client, CONFIGMAPS, namespace, "keep") is not None
    assert (await kube_client.get(CONFIGMAPS, namespace, "handmade"))["data"] == {"v": "mine"}
    assert (await kube_client.get(CONFIGMAPS, namespace, "disowned"))["data"] == {"v": "1"}
    results = {r["name"]: r["status"] for r in status(gs)["operationState"]["syncResult"]["resources"]}
    assert results["goes"] == "Pruned"
    assert "disowned" not in results  # no longer ours: not even a prune candidate
    assert {r["name"] for r in status(gs)["resources"]} == {"keep"}


async def test_without_prune_a_removed_object_stays_and_shows_out_of_sync(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": configmap_yaml("keep"), "b.yaml": configmap_yaml("stays")})
    await create_gitsync(kube_client, namespace, gitsync_manifest("noprune", repo, prune=False))
    await wait_gitsync(kube_client, namespace, "noprune", synced_at(git(repo, "rev-parse", "HEAD")), what="synced")
    (repo / "b.yaml").unlink()
    commit(repo, "remove b")
    gs = await wait_gitsync(
        kube_client,
        namespace,
        "noprune",
        lambda o: any(r.get("requiresPruning") for r in status(o).get("resources") or []),
        what="requires pruning",
    )
    assert status(gs)["sync"]["status"] == "OutOfSync"
    assert await get_or_none(kube_client, CONFIGMAPS, namespace, "stays") is not None


async def test_self_heal_reverts_a_manual_edit(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": configmap_yaml("settings", color="blue")})
    await create_gitsync(kube_client, namespace, gitsync_manifest("healer", repo, self_heal=True))
    await wait_gitsync(kube_client, namespace, "healer", synced_at(git(repo, "rev-parse", "HEAD")), what="synced")
    # What `kubectl edit` does: an update under another field manager.
    edited = await kube_client.get(CONFIGMAPS, namespace, "settings")
    edited["data"]["color"] = "red"
    await kube_client.replace(CONFIGMAPS, namespace, "settings", edited)
    await eventually(
        lambda: kube_client.get(CONFIGMAPS, namespace, "settings"),
        lambda cm: cm["data"] == {"color": "blue"},
        timeout=60,
        what="manual edit reverted",
    )
    await wait_gitsync(
        kube_client, namespace, "healer", lambda o: status(o).get("sync", {}).get("status") == "Synced", what="Synced"
    )


async def test_without_self_heal_a_manual_edit_shows_out_of_sync(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": configmap_yaml("settings", color="blue")})
    await create_gitsync(kube_client, namespace, gitsync_manifest("drifter", repo, self_heal=False))
    await wait_gitsync(kube_client, namespace, "drifter", synced_at(git(repo, "rev-parse", "HEAD")), what="synced")
    edited = await kube_client.get(CONFIGMAPS, namespace, "settings")
    edited["data"]["color"] = "red"
    await kube_client.replace(CONFIGMAPS, namespace, "settings", edited)
    gs = await wait_gitsync(
        kube_client,
        namespace,
        "drifter",
        lambda o: status(o).get("sync", {}).get("status") == "OutOfSync",
        what="OutOfSync after the edit",
    )
    drifted = [r for r in status(gs)["resources"] if r["status"] == "OutOfSync"]
    assert [r["name"] for r in drifted] == ["settings"]
    # Several refreshes later the edit is still there: nothing re-applied it.
    first_reconcile = status(gs)["reconciledAt"]
    await wait_gitsync(
        kube_client, namespace, "drifter", lambda o: status(o)["reconciledAt"] != first_reconcile, what="re-checked"
    )
    assert (await kube_client.get(CONFIGMAPS, namespace, "settings"))["data"] == {"color": "red"}


DEPLOYMENT_WITH_QUANTITIES = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sized
spec:
  replicas: 1
  selector: {matchLabels: {app: sized}}
  template:
    metadata: {labels: {app: sized}}
    spec:
      containers:
        - name: app
          image: app:v1
          resources:
            requests: {cpu: 0.5, memory: 1024Mi}
            limits: {cpu: 1000m, memory: 2048Mi}
"""


async def test_quantities_the_server_rewrites_are_not_drift(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"deployment.yaml": DEPLOYMENT_WITH_QUANTITIES})
    await create_gitsync(kube_client, namespace, gitsync_manifest("sized", repo, self_heal=False))
    gs = await wait_gitsync(kube_client, namespace, "sized", synced_at(git(repo, "rev-parse", "HEAD")), what="synced")
    live = await kube_client.get(DEPLOYMENTS, namespace, "sized")
    resources = live["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
    first_reconcile = status(gs)["reconciledAt"]
    rechecked = await wait_gitsync(
        kube_client, namespace, "sized", lambda o: status(o)["reconciledAt"] != first_reconcile, what="re-checked"
    )
    assert status(rechecked)["sync"]["status"] == "Synced", status(rechecked)["resources"]
