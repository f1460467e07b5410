"""Each CLI command against a real API server: exactly the fields Argo's plugin writes.

No controller runs here: the tests write a Rollout's status by hand (through the
status subresource, as a controller would), run the command in-process with
`main([...])`, and read back the object to check what changed and what did not.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.kinds import ANALYSIS_RUNS, ROLLOUTS
from rollouts.cli.get_cmd import Watcher
from rollouts.cli.main import main
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import DEPLOYMENTS, REPLICASETS
from tests.conftest import ClusterHandle
from tests.kubetest import rollout_manifest
from tests.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("crds")]

STEPS = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "1h"}}]


class Cli:
    """Runs `rollouts ...` in-process against the test cluster and namespace."""

    def __init__(self, cluster: ClusterHandle, namespace: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.kubeconfig = Path(cluster.kubeconfig)
        self.namespace = namespace
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([*argv, "--kubeconfig", str(self.kubeconfig), "-n", self.namespace])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture
def cli(cluster: ClusterHandle, namespace: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(cluster, namespace, capsys)


class WatchOpened:
    """Tells the test when a CLI command running in a thread has its watch in place.

    The commands' `Watcher` lists, then watches from the list, so a change made
    after `wait()` returns is one the command sees as a change: a test makes its
    change at that state instead of after a sleep that a slow start could outlast.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.event = threading.Event()
        entered = Watcher.__aenter__

        async def aenter(watcher: Watcher) -> Watcher:
            result = await entered(watcher)
            self.event.set()
            return result

        monkeypatch.setattr(Watcher, "__aenter__", aenter)

    async def wait(self, timeout: float = 60) -> None:
        assert await asyncio.to_thread(self.event.wait, timeout), "the command never started watching"


@pytest.fixture
def watch_opened(monkeypatch: pytest.MonkeyPatch) -> WatchOpened:
    return WatchOpened(monkeypatch)


async def make_rollout(
    client: KubeClient, namespace: str, name: str, *, status: dict[str, Any], spec: dict[str, Any] | None = None
) -> dict[str, Any]:
    # Hand-made status: an instance id no controller serves keeps the session's controller away.
    labels = {INSTANCE_ID_LABEL: "hand-made"}
    created = await client.create(ROLLOUTS, namespace, rollout_manifest(name, steps=STEPS, spec=spec, labels=labels))
    body = {"status": {"observedGeneration": str(created["metadata"]["generation"]), **status}}
    return await client.patch(ROLLOUTS, namespace, name, body, subresource="status")


PAUSED = {
    "phase": "Paused",
    "message": "CanaryPauseStep",
    "currentStepIndex": 1,
    "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}],
    "controllerPause": True,
    "stableRS": "aaaa",
    "currentPodHash": "bbbb",
}
HEALTHY = {"phase": "Healthy", "currentStepIndex": 4, "stableRS": "aaaa", "currentPodHash": "aaaa"}


async def test_promote_clears_pause_conditions_and_unpauses(cli: Cli, kube_client: KubeClient, namespace: str) -> None:
    before = await make_rollout(kube_client, namespace, "web", status=PAUSED, spec={"paused": True})
    code, out, err = cli("promote", "web")
    assert (code, out, err) == (0, "rollout 'web' promoted\n", "")
    after = await kube_client.get(ROLLOUTS, namespace, "web")
    assert "pauseConditions" not in after["status"]
    assert after["status"]["currentStepIndex"] == 1, "promote of a paused step leaves the index to the controller"
    assert after["status"]["controllerPause"] is True
    assert after["spec"]["paused"] is False
    assert after["spec"]["template"] == before["spec"]["template"]


async def test_promote_full_sets_promote_full(cli: Cli, kube_client: KubeClient, namespace: str) -> None:
    await make_rollout(kube_client, namespace, "web", status=PAUSED)
    assert cli("promote", "web", "--full")[:2] == (0, "rollout 'web' fully promoted\n")
    after = await kube_client.get(ROLLOUTS, namespace, "web")
    assert after["status"]["promoteFull"] is True
    assert after["status"]["pauseConditions"], "--full does not touch pause conditions"


async def test_promote_healthy_rollout_is_refused_without_writing(
    cli: Cli, kube_client: KubeClient, namespace: str
) -> None:
    before = await make_rollout(kube_client, namespace, "web", status=HEALTHY)
    code, out, err = cli("promote", "web")
    assert code == 1 and out == ""
    assert err == "error: rollout 'web' is Healthy and not paused: there is nothing to promote\n"
    after = await kube_client.get(ROLLOUTS, namespace, "web")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_abort_then_retry_write_status_abort(cli: Cli, kube_client: KubeClient, namespace: str) -> None:
    before = await make_rollout(kube_client, namespace, "web", status=PAUSED)
    assert cli("abort", "web")[:2] == (0, "rollout 'web' aborted\n")
    aborted = await kube_client.get(ROLLOUTS, namespace, "web")
    assert aborted["status"]["abort"] is True
    assert aborted["metadata"]["generation"] == before["metadata"]["generation"], "status only, no spec change"
    assert cli("retry", "rollout", "web")[:2] == (0, "rollout 'web' retried\n")
    assert (await kube_client.get(ROLLOUTS, namespace, "web"))["status"]["abort"] is False


async def test_pause_and_restart_write_spec(cli: Cli, kube_client: KubeClient, namespace: str) -> None:
    await make_rollout(kube_client, namespace, "web", status=HEALTHY)
    assert cli("pause", "web")[:2] == (0, "rollout 'web' paused\n")
    assert (await kube_client.get(ROLLOUTS, namespace, "web"))["spec"]["paused"] is True
    start = datetime.now(UTC).replace(microsecond=0)
    assert cli("restart", "web", "--in", "2m")[:2] == (0, "rollout 'web' restarts in 2m\n")
    restart_at = (await kube_client.get(ROLLOUTS, namespace, "web"))["spec"]["restartAt"]
    at = datetime.strptime(restart_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert start + timedelta(minutes=2) <= at <= start + timedelta(minutes=2, seconds=10)


async def test_set_image_on_rollout_and_on_workload_ref_deployment(
    cli: Cli, kube_client: KubeClient, namespace: str
) -> None:
    await make_rollout(kube_client, namespace, "web", status=HEALTHY)
    assert cli("set", "image", "web", "app=app:v2")[:2] == (0, 'rollout "web" image updated\n')
    template = (await kube_client.get(ROLLOUTS, namespace, "web"))["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "app:v2"
    code, _, err = cli("set", "image", "web", "nope=app:v3")
    assert code == 1 and err == 'error: unable to find container named "nope"\n'

    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api-deploy"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]},
            },
        },
    }
    await kube_client.create(DEPLOYMENTS, namespace, deployment)
    ref = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "api"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "api"}},
            "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api-deploy"},
            "strategy": {"canary": {}},
        },
    }
    await kube_client.create(ROLLOUTS, namespace, ref)
    assert cli("set", "image", "api", "*=z:9")[:2] == (0, 'deployment "api-deploy" image updated\n')
    containers = (await kube_client.get(DEPLOYMENTS, namespace, "api-deploy"))["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == ["z:9", "z:9"]


def replica_set(rollout: dict[str, Any], *, revision: int, image: str, pod_hash: str) -> dict[str, Any]:
    name = rollout["metadata"]["name"]
    labels = {"app": name, "rollouts-pod-template-hash": pod_hash}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{name}-{pod_hash}",
            "labels": labels,
            "annotations": {"rollout.argoproj.io/revision": str(revision)},
            "ownerReferences": [
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Rollout",
                    "name": name,
                    "uid": rollout["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


async def test_undo_restores_previous_revision_template(cli: Cli, kube_client: KubeClient, namespace: str) -> None:
    rollout = await make_rollout(kube_client, namespace, "web", status=HEALTHY)
    await kube_client.create(REPLICASETS, namespace, replica_set(rollout, revision=1, image="app:v0", pod_hash="h1"))
    await kube_client.create(REPLICASETS, namespace, replica_set(rollout, revision=2, image="app:v1", pod_hash="h2"))
    assert cli("undo", "web")[:2] == (0, "rollout 'web' undo\n")
    template = (await kube_client.get(ROLLOUTS, namespace, "web"))["spec"]["template"]
    assert template["metadata"]["labels"] == {"app": "web"}, "hash label removed"
    assert template["spec"]["containers"][0]["image"] == "app:v0"
    # The current template now matches revision 1: asking again for it is a no-op.
    assert cli("undo", "web", "--to-revision", "1")[:2] == (
        0,
        "skipped rollback (current template already matches revision 1)\n",
    )
    code, _, err = cli("undo", "web", "--to-revision", "9")
    assert code == 1 and err == "error: unable to find specified revision 9 in history\n"


async def test_terminate_analysis_run(cli: Cli, kube_client: KubeClient, namespace: str) -> None:
    run = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {"name": "web-run"},
        "spec": {"metrics": [{"name": "m", "provider": {"job": {"spec": {"template": {"spec": {}}}}}}]},
    }
    await kube_client.create(ANALYSIS_RUNS, namespace, run)
    assert cli("terminate", "analysisrun", "web-run")[:2] == (0, "analysisRun 'web-run' terminated\n")
    assert (await kube_client.get(ANALYSIS_RUNS, namespace, "web-run"))["spec"]["terminate"] is True


@pytest.mark.parametrize(
    "argv",
    [
        ("promote", "nope"),
        ("abort", "nope"),
        ("retry", "rollout", "nope"),
        ("pause", "nope"),
        ("restart", "nope"),
        ("set", "image", "nope", "a=b"),
        ("undo", "nope"),
        ("get", "rollout", "nope"),
        ("status", "nope"),
    ],
)
async def test_missing_rollout_is_one_line(cli: Cli, argv: tuple[str, ...]) -> None:
    code, out, err = cli(*argv)
    assert (code, out, err) == (1, "", 'error: rollouts.argoproj.io "nope" not found\n')


async def test_get_list_and_status_read_the_cluster(cli: Cli, kube_client: KubeClient, namespace: str) -> None:
    rollout = await make_rollout(kube_client, namespace, "web", status={**PAUSED, "replicas": 1, "updatedReplicas": 1})
    await kube_client.create(REPLICASETS, namespace, replica_set(rollout, revision=1, image="app:v1", pod_hash="bbbb"))
    # kube-controller-manager creates the pod and kwok runs it.
    await eventually(
        lambda: kube_client.get(REPLICASETS, namespace, "web-bbbb"),
        lambda rs: rs.get("status", {}).get("availableReplicas") == 1,
        what="replica set available",
    )
    code, out, _ = cli("get", "rollout", "web")
    assert code == 0
    lines = out.splitlines()
    assert lines[:4] == [
        "Name:            web",
        f"Namespace:       {namespace}",
        "Status:          ॥ Paused",
        "Message:         CanaryPauseStep",
    ]
    assert "  Step:          1/4" in lines and "  SetWeight:     20" in lines
    assert "Images:          app:v1 (canary)" in lines
    assert any(line.startswith("      └──□ web-bbbb-") and "✔ Running" in line for line in lines), out
    assert "\x1b[" not in out, "no colour when stdout is not a terminal"

    code, out, _ = cli("list", "rollouts")
    assert code == 0
    assert out.splitlines()[1].split() == ["web", "Canary", "Paused", "1/4", "20", "0/1", "5", "1", "0"]

    assert cli("status", "web", "--no-watch")[:2] == (0, "Paused - CanaryPauseStep\n")
    code, out, err = cli("status", "web", "--timeout", "1s")
    assert (code, out, err) == (1, "Paused - CanaryPauseStep\n", "error: Rollout status watch exceeded timeout\n")

    await kube_client.patch(
        ROLLOUTS,
        namespace,
        "web",
        {"status": {"phase": "Degraded", "message": "RolloutAborted: x"}},
        subresource="status",
    )
    code, out, err = cli("status", "web")
    assert (code, err) == (1, "error: The rollout is in a degraded state with message: RolloutAborted: x\n")


async def test_status_watch_returns_when_healthy(
    cli: Cli, kube_client: KubeClient, namespace: str, watch_opened: WatchOpened
) -> None:
    await make_rollout(
        kube_client,
        namespace,
        "web",
        status={**PAUSED, "phase": "Progressing", "message": "more replicas need to be updated"},
    )

    async def become_healthy() -> None:
        await watch_opened.wait()  # the command printed the Progressing state and watches for changes
        await kube_client.patch(
            ROLLOUTS, namespace, "web", {"status": {"phase": "Healthy", "message": ""}}, subresource="status"
        )

    task = asyncio.create_task(become_healthy())
    # main() blocks this thread; the patch above runs on our loop only after it returns,
    # so run the CLI in a thread to let both proceed.
    code, out, err = await asyncio.to_thread(cli, "status", "web", "--timeout", "30s")
    await task
    assert (code, err) == (0, "")
    assert out.splitlines() == ["Progressing - more replicas need to be updated", "Healthy"]
