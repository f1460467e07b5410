"""`rollouts gitsync diff` and `rollouts gitsync sync` as a user runs them (a real child process)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rollouts.kube.client import KubeClient
from tests.conftest import ClusterHandle
from tests.integration.gitsync.helpers import (
    CONFIGMAPS,
    configmap_yaml,
    create_gitsync,
    get_or_none,
    gitsync_manifest,
    status,
    wait_gitsync,
)
from tests.kubetest import ControllerProcess
from tests.unit.gitsync.gitrepo import git, make_repo


async def rollouts(cluster: ClusterHandle, namespace: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rollouts",
        *args,
        f"--kubeconfig={cluster.kubeconfig}",
        "-n",
        namespace,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_diff_then_sync_then_diff_after_a_manual_edit(
    kube_client: KubeClient, cluster: ClusterHandle, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": configmap_yaml("settings", color="blue")})
    head = git(repo, "rev-parse", "HEAD")
    # No automated policy: nothing is applied until someone syncs.
    await create_gitsync(kube_client, namespace, gitsync_manifest("manual", repo, automated=False))
    await wait_gitsync(
        kube_client,
        namespace,
        "manual",
        lambda o: status(o).get("sync", {}).get("status") == "OutOfSync",
        what="OutOfSync",
    )
    assert await get_or_none(kube_client, CONFIGMAPS, namespace, "settings") is None

    code, out, _ = await rollouts(cluster, namespace, "gitsync", "diff", "manual")
    assert code == 1
    assert f"+++ desired/core/ConfigMap/{namespace}/settings" in out
    assert "+  color: blue" in out

    code, out, err = await rollouts(cluster, namespace, "gitsync", "sync", "manual")
    assert code == 0, err
    assert out.splitlines()[0].startswith("gitsync 'manual': Succeeded")
    assert f"Synced        ConfigMap {namespace}/settings" in out
    assert (await kube_client.get(CONFIGMAPS, namespace, "settings"))["data"] == {"color": "blue"}
    gs = await wait_gitsync(
        kube_client, namespace, "manual", lambda o: status(o)["sync"]["status"] == "Synced", what="Synced"
    )
    assert status(gs)["sync"]["revision"] == head
    assert "rollouts.io/refresh" not in (gs["metadata"].get("annotations") or {})

    code, out, _ = await rollouts(cluster, namespace, "gitsync", "diff", "manual")
    assert (code, out) == (0, "")

    edited = await kube_client.get(CONFIGMAPS, namespace, "settings")
    edited["data"]["color"] = "red"
    await kube_client.replace(CONFIGMAPS, namespace, "settings", edited)
    code, out, _ = await rollouts(cluster, namespace, "gitsync", "diff", "manual")
    assert code == 1
    assert "-  color: red" in out and "+  color: blue" in out


async def test_sync_and_diff_of_a_missing_gitsync_are_one_line_errors(
    cluster: ClusterHandle, namespace: str, controller: ControllerProcess
) -> None:
    for command in ("diff", "sync"):
        code, _out, err = await rollouts(cluster, namespace, "gitsync", command, "nope")
        assert code == 1
        assert err == 'error: gitsyncs.rollouts.io "nope" not found\n'


async def test_sync_reports_a_failed_sync_with_exit_code_1(
    kube_client: KubeClient, cluster: ClusterHandle, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_Valid\n"})
    await create_gitsync(kube_client, namespace, gitsync_manifest("invalid", repo, automated=False))
    code, out, _ = await rollouts(cluster, namespace, "gitsync", "sync", "invalid")
    assert code == 1
    assert out.startswith("gitsync 'invalid': Failed")
    assert "Not_Valid" in out


async def test_diff_of_a_secret_masks_its_values(
    kube_client: KubeClient, cluster: ClusterHandle, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\nstringData:\n  token: s3cr3t-value\n"
    repo = make_repo(tmp_path / "repo", {"secret.yaml": secret})
    await create_gitsync(kube_client, namespace, gitsync_manifest("secrets", repo, automated=False))
    await wait_gitsync(
        kube_client,
        namespace,
        "secrets",
        lambda o: status(o).get("sync", {}).get("status") == "OutOfSync",
        what="OutOfSync",
    )
    code, out, _ = await rollouts(cluster, namespace, "gitsync", "diff", "secrets")
    assert code == 1
    assert "token: ++++++++" in out
    assert "s3cr3t" not in out and "czNjcjN0LXZhbHVl" not in out  # neither the value nor its base64
