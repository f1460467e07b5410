"""`rollouts controller` as a real process: health, readiness, metrics, JSON logs, SIGTERM, bad flags."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.kinds import ROLLOUTS
from rollouts.devcluster.processes import free_ports
from rollouts.kube.client import KubeClient
from tests.conftest import ClusterHandle
from tests.kubetest import rollout_manifest
from tests.waiting import eventually

pytestmark = pytest.mark.integration


def start(kubeconfig: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "rollouts", "controller", f"--kubeconfig={kubeconfig}", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as http:
        return await http.get(url)


async def test_serves_health_and_argo_metrics_logs_json_and_stops_on_sigterm(
    cluster: ClusterHandle, crds: None, kube_client: KubeClient, namespace: str, tmp_path: Path
) -> None:
    metrics_port, healthz_port = free_ports(2)
    instance = f"proc-{namespace}"
    log = tmp_path / "controller.log"
    process = start(
        cluster.kubeconfig,
        log,
        f"--namespace={namespace}",
        f"--instance-id={instance}",
        f"--metrics-port={metrics_port}",
        f"--healthz-port={healthz_port}",
        "--log-format=json",
        "--log-level=debug",
        "--workers=2",
    )
    try:
        health = await eventually(
            lambda: get(f"http://127.0.0.1:{healthz_port}/healthz"), lambda r: r.status_code == 200, timeout=30
        )
        assert health.text == "ok"
        await eventually(lambda: get(f"http://127.0.0.1:{healthz_port}/readyz"), lambda r: r.status_code == 200)
        labels = {INSTANCE_ID_LABEL: instance}
        manifest = rollout_manifest("web", replicas=1, steps=[{"setWeight": 50}], labels=labels)
        await kube_client.create(ROLLOUTS, namespace, manifest)
        text = (
            await eventually(
                lambda: get(f"http://127.0.0.1:{metrics_port}/metrics"),
                lambda r: f'rollout_info{{name="web",namespace="{namespace}"' in r.text,
                what="rollout_info for the new rollout",
            )
        ).text
        assert 'controller_clientset_k8s_request_total{kind="rollouts",name="N/A",namespace="' in text
        assert 'verb="List"' in text and 'verb="Watch"' in text
        assert f'rollout_reconcile_count{{name="web",namespace="{namespace}"}}' in text
        assert "argo_rollouts_controller_info" in text
        assert 'workqueue_adds_total{name="' in text and 'workqueue_depth{name="' in text
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
    output = log.read_text()
    assert code == 0, output[-3000:]
    records = [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert records, output[-2000:]
    assert all({"time", "level", "logger", "msg", "namespace", "name"} <= set(r) for r in records)
    assert records[-1]["msg"] == "stopped"
    assert not [line for line in output.splitlines() if not line.startswith("{")], "every line is JSON"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--controllers=nope"], "unknown controller(s) nope"),
        (["--workers=0"], "must be at least 1"),
        (["--leader-elect", "--lease-duration=1", "--renew-deadline=5"], "lease_duration > renew_deadline"),
    ],
)
async def test_bad_flags_are_one_clear_line(
    cluster: ClusterHandle, tmp_path: Path, args: list[str], message: str
) -> None:
    metrics_port, healthz_port = free_ports(2)
    log = tmp_path / "bad.log"
    process = start(cluster.kubeconfig, log, f"--metrics-port={metrics_port}", f"--healthz-port={healthz_port}", *args)
    code = await asyncio.to_thread(process.wait, 30)
    output = log.read_text()
    assert code != 0
    assert message in output
    assert "Traceback" not in output


async def test_a_missing_kubeconfig_is_one_clear_line(tmp_path: Path) -> None:
    log = tmp_path / "missing.log"
    process = start(tmp_path / "nope.yaml", log)
    code = await asyncio.to_thread(process.wait, 30)
    output = log.read_text()
    assert code == 1
    missing = tmp_path / "nope.yaml"
    assert output == f"error: cannot load Kubernetes configuration: kubeconfig {missing} does not exist\n"
    assert "Traceback" not in output
