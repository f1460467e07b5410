"""The local control plane behaves like a real cluster: controllers, scheduler and kwok work."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client.api_client import ApiClient

from rollouts.devcluster import JOB_FAIL_LABEL, NEVER_READY_LABEL
from tests.conftest import ClusterHandle
from tests.waiting import eventually

pytestmark = pytest.mark.integration


def pod_template(labels: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]},
    }


async def test_nodes_are_ready(kube_api: ApiClient) -> None:
    nodes = await k8s.CoreV1Api(kube_api).list_node()
    assert len(nodes.items) >= 1
    for node in nodes.items:
        ready = [c for c in node.status.conditions if c.type == "Ready"]
        assert ready and ready[0].status == "True", node.metadata.name


async def test_deployment_becomes_available(kube_api: ApiClient, namespace: str) -> None:
    apps = k8s.AppsV1Api(kube_api)
    await apps.create_namespaced_deployment(
        namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": pod_template({"app": "web"}),
            },
        },
    )
    deployment = await eventually(
        lambda: apps.read_namespaced_deployment("web", namespace),
        lambda d: (d.status.available_replicas or 0) == 3,
        what="deployment web with 3 available replicas",
    )
    assert deployment.status.ready_replicas == 3
    pods = await k8s.CoreV1Api(kube_api).list_namespaced_pod(namespace, label_selector="app=web")
    assert len(pods.items) == 3
    assert {p.status.phase for p in pods.items} == {"Running"}
    assert all(p.spec.node_name for p in pods.items), "the scheduler bound every pod"


async def test_never_ready_pod_keeps_replicaset_at_two_of_three(kube_api: ApiClient, namespace: str) -> None:
    core = k8s.CoreV1Api(kube_api)
    apps = k8s.AppsV1Api(kube_api)
    # A bare pod the ReplicaSet will adopt (same labels), marked never-ready.
    broken = pod_template({"app": "mixed", NEVER_READY_LABEL: "true"})
    await core.create_namespaced_pod(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "broken", **broken["metadata"]},
            "spec": broken["spec"],
        },
    )
    await eventually(
        lambda: core.read_namespaced_pod("broken", namespace),
        lambda p: p.status.phase == "Running",
        what="the never-ready pod to run",
    )
    await apps.create_namespaced_replica_set(
        namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "mixed"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "mixed"}},
                "template": pod_template({"app": "mixed"}),
            },
        },
    )
    replica_set = await eventually(
        lambda: apps.read_namespaced_replica_set("mixed", namespace),
        lambda rs: rs.status.replicas == 3 and (rs.status.ready_replicas or 0) == 2,
        what="replicaset with 3 pods of which 2 ready",
    )
    assert replica_set.status.available_replicas == 2
    pod = await core.read_namespaced_pod("broken", namespace)
    assert pod.metadata.owner_references[0].name == "mixed", "the RS adopted the broken pod"
    ready = [c for c in pod.status.conditions if c.type == "Ready"]
    assert ready[0].status == "False"


def job(name: str, labels: dict[str, str]) -> dict[str, Any]:
    template = pod_template(labels)
    template["spec"]["restartPolicy"] = "Never"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"backoffLimit": 0, "template": template},
    }


def has_condition(job_obj: Any, condition_type: str) -> bool:
    conditions = job_obj.status.conditions or []
    return any(c.type == condition_type and c.status == "True" for c in conditions)


async def test_job_completes_and_marked_job_fails(kube_api: ApiClient, namespace: str) -> None:
    batch = k8s.BatchV1Api(kube_api)
    await batch.create_namespaced_job(namespace, job("ok", {"app": "ok"}))
    await batch.create_namespaced_job(namespace, job("bad", {"app": "bad", JOB_FAIL_LABEL: "true"}))
    done = await eventually(
        lambda: batch.read_namespaced_job("ok", namespace),
        lambda j: has_condition(j, "Complete"),
        what="job ok to complete",
    )
    assert done.status.succeeded == 1
    failed = await eventually(
        lambda: batch.read_namespaced_job("bad", namespace),
        lambda j: has_condition(j, "Failed"),
        what="job bad to fail",
    )
    assert (failed.status.succeeded or 0) == 0


def _pids_in(directory: Path) -> list[int]:
    """Processes whose command line mentions the directory (the cluster's processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(directory) in cmdline:
            found.append(int(entry.name))
    return found


async def test_dev_cluster_up_and_down_cli(cluster: ClusterHandle, tmp_path: Path) -> None:
    """`dev-cluster up` returns once ready, refuses a second start, `down` leaves nothing behind."""
    state = tmp_path / "dev"
    env = {**os.environ, "KUBEBUILDER_ASSETS": str(cluster.bin_dir)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rollouts", "dev-cluster", *args, "--dir", str(state)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    up = await asyncio.to_thread(cli, "up", "--nodes", "1")
    try:
        assert up.returncode == 0, up.stderr
        assert f"export KUBECONFIG={state / 'kubeconfig'}" in up.stdout
        again = await asyncio.to_thread(cli, "up", "--nodes", "1")
        assert again.returncode != 0
        assert "already running" in again.stderr
        assert _pids_in(state), "the cluster processes run"
        handle = ClusterHandle(kubeconfig=state / "kubeconfig", bin_dir=cluster.bin_dir, server="")
        api = await handle.api_client()
        try:
            nodes = await k8s.CoreV1Api(api).list_node()
        finally:
            await api.close()
        assert [n.metadata.name for n in nodes.items] == ["kwok-node-0"]
    finally:
        down = await asyncio.to_thread(cli, "down")
    assert down.returncode == 0, down.stderr
    assert _pids_in(state) == [], "no process of the cluster is left"
    assert not (state / "kubeconfig").exists()
    assert not (state / "etcd").exists()
