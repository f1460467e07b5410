"""Forbidden requests and live views (get -w, list -w) against a real API server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.api.kinds import ROLLOUTS
from rollouts.api.resource import Resource
from rollouts.kube.client import KubeClient
from tests.conftest import ClusterHandle
from tests.integration.cli.test_cli_patches import PAUSED, Cli, WatchOpened, make_rollout

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("crds")]

SERVICE_ACCOUNTS = Resource("", "v1", "serviceaccounts", "ServiceAccount")


@pytest.fixture
def cli(cluster: ClusterHandle, namespace: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(cluster, namespace, capsys)


@pytest.fixture
def watch_opened(monkeypatch: pytest.MonkeyPatch) -> WatchOpened:
    return WatchOpened(monkeypatch)


async def token_kubeconfig(client: KubeClient, cluster: ClusterHandle, namespace: str, path: Path) -> Path:
    """A kubeconfig for a fresh service account that has no permissions at all."""
    await client.create(SERVICE_ACCOUNTS, namespace, {"metadata": {"name": "nobody"}})
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 600}}
    answer = await client.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/nobody/token", body=request)
    admin = yaml.safe_load(await asyncio.to_thread(Path(cluster.kubeconfig).read_text))
    cluster_entry = admin["clusters"][0]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster_entry],
        "users": [{"name": "nobody", "user": {"token": answer["status"]["token"]}}],
        "contexts": [{"name": "nobody", "context": {"cluster": cluster_entry["name"], "user": "nobody"}}],
        "current-context": "nobody",
    }
    await asyncio.to_thread(path.write_text, yaml.safe_dump(config))
    return path


async def test_forbidden_is_one_line(
    kube_client: KubeClient, cluster: ClusterHandle, namespace: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rollouts.cli.main import main

    await make_rollout(kube_client, namespace, "web", status=PAUSED)
    kubeconfig = await token_kubeconfig(kube_client, cluster, namespace, tmp_path / "nobody")
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["abort", "web", "--kubeconfig", str(kubeconfig), "-n", namespace])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: forbidden: ") and "cannot patch resource" in err and err.count("\n") == 1
    assert "abort" not in (await kube_client.get(ROLLOUTS, namespace, "web"))["status"]


async def test_get_watch_prints_each_change_when_not_a_terminal(
    cli: Cli, kube_client: KubeClient, namespace: str, watch_opened: WatchOpened
) -> None:
    await make_rollout(kube_client, namespace, "web", status=PAUSED)

    async def change() -> None:
        await watch_opened.wait()  # the first rendering is out; the change below is seen as a change
        body: dict[str, Any] = {"status": {"phase": "Progressing", "message": "more replicas need to be updated"}}
        await kube_client.patch(ROLLOUTS, namespace, "web", body, subresource="status")

    task = asyncio.create_task(change())
    # -w ends only at its timeout: long enough that a loaded machine still delivers the change before it.
    code, out, err = await asyncio.to_thread(cli, "get", "rollout", "web", "-w", "--timeout-seconds", "10")
    await task
    assert (code, err) == (0, "")
    renderings = out.split("\n\nName:")
    assert len(renderings) == 2, out
    assert "॥ Paused" in renderings[0] and "◌ Progressing" in renderings[1]


async def test_list_watch_prints_changed_rows(
    cli: Cli, kube_client: KubeClient, namespace: str, watch_opened: WatchOpened
) -> None:
    await make_rollout(kube_client, namespace, "web", status=PAUSED)

    async def change() -> None:
        await watch_opened.wait()  # the first rendering is out; the change below is seen as a change
        await kube_client.patch(ROLLOUTS, namespace, "web", {"status": {"currentStepIndex": 2}}, subresource="status")

    async def run_list() -> tuple[int, str, str]:
        # list -w runs until interrupted; bound it from outside with a thread timeout.
        return await asyncio.to_thread(cli, "list", "rollouts", "-w", "--timeout-seconds", "10")

    task = asyncio.create_task(change())
    code, out, _ = await run_list()
    await task
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split()[:3] == ["NAME", "STRATEGY", "STATUS"]
    assert lines[1].split()[:5] == ["web", "Canary", "Paused", "1/4", "20"]
    assert lines[2].split()[:5] == ["web", "Canary", "Paused", "2/4", "60"]


async def test_get_watch_on_a_terminal_redraws_in_place(
    cli: Cli, kube_client: KubeClient, namespace: str, monkeypatch: pytest.MonkeyPatch, watch_opened: WatchOpened
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats stdout as a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    await make_rollout(kube_client, namespace, "web", status=PAUSED)

    async def change() -> None:
        await watch_opened.wait()  # the first rendering is out; the change below is seen as a change
        await kube_client.patch(ROLLOUTS, namespace, "web", {"status": {"message": "Changed"}}, subresource="status")

    task = asyncio.create_task(change())
    code, out, _ = await asyncio.to_thread(cli, "get", "rollout", "web", "-w", "--timeout-seconds", "8")
    await task
    assert code == 0
    assert "\x1b[" in out, "coloured and cursor-controlled on a terminal"
    assert "Changed" in out
    code, out, _ = await asyncio.to_thread(cli, "get", "rollout", "web", "--no-color")
    assert code == 0 and "\x1b[3" not in out
