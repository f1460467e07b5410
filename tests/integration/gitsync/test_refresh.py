"""Refresh now: the rollouts.io/refresh annotation and the push webhook, with a refresh interval of an hour."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.devcluster.processes import free_ports
from rollouts.kube.client import KubeClient
from tests.conftest import ClusterHandle
from tests.integration.gitsync.helpers import (
    CONFIGMAPS,
    GITSYNCS,
    configmap_yaml,
    create_gitsync,
    gitsync_manifest,
    synced_at,
    wait_gitsync,
)
from tests.kubetest import ControllerProcess
from tests.unit.gitsync.gitrepo import commit, git, make_repo, write
from tests.waiting import eventually

WEBHOOK_INSTANCE = "gitsync-webhook-test"


@pytest.fixture(scope="module")
def webhook_controller(
    cluster: ClusterHandle, crds: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ControllerProcess, str]]:
    """A second controller (its own instance id, GitSync only) serving the webhook on 127.0.0.1."""
    (port,) = free_ports(1)
    process = ControllerProcess(
        kubeconfig=cluster.kubeconfig,
        log_path=tmp_path_factory.mktemp("webhook-controller") / "controller.log",
        extra_args=[
            "--controllers=gitsync",
            f"--instance-id={WEBHOOK_INSTANCE}",
            f"--gitsync-webhook-address=127.0.0.1:{port}",
        ],
    )
    process.start()
    yield process, f"http://127.0.0.1:{port}/api/webhook"
    assert process.stop() == 0, process.log()[-3000:]


async def post(url: str, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async def once() -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=json.dumps(payload), headers=headers) as r,
        ):
            return r.status, await r.json()

    return await eventually(once, timeout=60, what="webhook answers")  # the controller may still be starting


async def test_refresh_annotation_picks_up_a_commit_at_once_and_is_removed(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": configmap_yaml("settings", color="blue")})
    await create_gitsync(kube_client, namespace, gitsync_manifest("slow", repo, refresh="1h"))
    await wait_gitsync(kube_client, namespace, "slow", synced_at(git(repo, "rev-parse", "HEAD")), what="first sync")
    write(repo, "a.yaml", configmap_yaml("settings", color="green"))
    second = commit(repo, "green")
    await kube_client.patch(
        GITSYNCS, namespace, "slow", {"metadata": {"annotations": {"rollouts.io/refresh": "normal"}}}
    )
    gs = await wait_gitsync(kube_client, namespace, "slow", synced_at(second), what="refreshed to the new commit")
    assert (await kube_client.get(CONFIGMAPS, namespace, "settings"))["data"] == {"color": "green"}
    await wait_gitsync(
        kube_client,
        namespace,
        "slow",
        lambda o: "rollouts.io/refresh" not in (o["metadata"].get("annotations") or {}),
        what="refresh annotation removed",
    )
    assert gs["status"]["history"][-1]["revision"] == second


async def test_push_webhook_refreshes_gitsyncs_of_that_repository(
    kube_client: KubeClient,
    namespace: str,
    webhook_controller: tuple[ControllerProcess, str],
    tmp_path: Path,
) -> None:
    _, url = webhook_controller
    repo = make_repo(tmp_path / "repo", {"a.yaml": configmap_yaml("settings", color="blue")})
    manifest = gitsync_manifest("hooked", repo, refresh="1h")
    manifest["metadata"]["labels"] = {INSTANCE_ID_LABEL: WEBHOOK_INSTANCE}
    await create_gitsync(kube_client, namespace, manifest)
    await wait_gitsync(kube_client, namespace, "hooked", synced_at(git(repo, "rev-parse", "HEAD")), what="first sync")

    code, answer = await post(url, {"repository": {"clone_url": "https://git.example/other/repo.git"}})
    assert (code, answer) == (200, {"refreshed": []})

    write(repo, "a.yaml", configmap_yaml("settings", color="green"))
    second = commit(repo, "green")
    # GitHub's shape: the repository's clone URL (here the file:// URL of the repository on disk).
    code, answer = await post(url, {"ref": "refs/heads/main", "repository": {"clone_url": repo.as_uri() + "/"}})
    assert (code, answer) == (200, {"refreshed": [f"{namespace}/hooked"]})
    await wait_gitsync(kube_client, namespace, "hooked", synced_at(second), what="webhook refresh applied")
    assert (await kube_client.get(CONFIGMAPS, namespace, "settings"))["data"] == {"color": "green"}

    write(repo, "a.yaml", configmap_yaml("settings", color="red"))
    third = commit(repo, "red")
    # GitLab's shape: project.git_http_url.
    code, _ = await post(url, {"object_kind": "push", "project": {"git_http_url": str(repo)}})
    assert code == 200
    await wait_gitsync(kube_client, namespace, "hooked", synced_at(third), what="GitLab-style push applied")

    code, answer = await post(url, {"no": "repository"})
    assert code == 400


async def test_a_refresh_interval_below_the_floor_is_clamped_and_shown(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": configmap_yaml("settings")})
    await create_gitsync(kube_client, namespace, gitsync_manifest("eager", repo, refresh="1ms"))
    gs = await wait_gitsync(kube_client, namespace, "eager", synced_at(git(repo, "rev-parse", "HEAD")), what="synced")
    assert gs["status"]["refreshInterval"] == "10s"
