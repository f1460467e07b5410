"""The Helm chart: lint-clean, applies to a real API server, and its RBAC covers every call the controller makes.

The RBAC test runs the controller as the chart's ServiceAccount (a token from
the TokenRequest API) through a canary with step analysis and a background
run, then reads the controller's own request counter: any 403 fails the test.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.kinds import ANALYSIS_TEMPLATES, ROLLOUTS
from rollouts.api.resource import Resource
from rollouts.kube.errors import ConflictError
from tests.conftest import ClusterHandle
from tests.kubetest import REPO, ControllerProcess, Kube, healthy_on_new_revision, rollout_manifest, status
from tests.waiting import eventually

pytestmark = pytest.mark.integration

CHART = REPO / "charts" / "rollouts"
NAMESPACE = "rollouts-system"


def helm(cluster: ClusterHandle, *args: str) -> str:
    result = subprocess.run(
        [str(cluster.bin_dir / "helm"), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def rendered(cluster: ClusterHandle, *values: str) -> list[dict[str, Any]]:
    text = helm(cluster, "template", "rollouts", str(CHART), "--namespace", NAMESPACE, *values)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_chart_lints_clean(cluster: ClusterHandle) -> None:
    out = helm(cluster, "lint", str(CHART))
    assert "0 chart(s) failed" in out


def test_template_applies_with_server_side_dry_run(cluster: ClusterHandle, tmp_path: Path) -> None:
    manifest = tmp_path / "chart.yaml"
    docs = rendered(cluster, "--set", "metrics.serviceMonitor.enabled=false")
    manifest.write_text(yaml.safe_dump_all(docs))
    kinds = sorted({d["kind"] for d in docs})
    assert {"Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Service"} <= set(kinds)
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert deployment["spec"]["replicas"] == 2 and "--leader-elect" in container["args"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


async def test_controller_runs_under_the_charts_rbac(
    cluster: ClusterHandle, crds: None, kube: Kube, tmp_path: Path
) -> None:
    client = kube.client
    docs = rendered(cluster)
    with contextlib.suppress(ConflictError):  # shared by reruns against the same cluster
        await client.create(
            Resource("", "v1", "namespaces", "Namespace", namespaced=False), None, {"metadata": {"name": NAMESPACE}}
        )
    for doc in docs:
        if doc["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding"):
            group = "rbac.authorization.k8s.io" if doc["kind"] != "ServiceAccount" else ""
            version = "v1"
            plural = {
                "ServiceAccount": "serviceaccounts",
                "ClusterRole": "clusterroles",
                "ClusterRoleBinding": "clusterrolebindings",
            }[doc["kind"]]
            resource = Resource(group, version, plural, doc["kind"], namespaced=doc["kind"] == "ServiceAccount")
            await client.patch(
                resource, doc["metadata"].get("namespace"), doc["metadata"]["name"], doc, patch_type="apply", force=True
            )
    account = next(d for d in docs if d["kind"] == "ServiceAccount")["metadata"]["name"]
    token_request = await client.request(
        "POST",
        f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/{account}/token",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}},
    )
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    ca = admin["clusters"][0]["cluster"]["certificate-authority-data"]
    restricted = tmp_path / "restricted.kubeconfig"
    restricted.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": cluster.server, "certificate-authority-data": ca}}],
                "users": [{"name": "sa", "user": {"token": token_request["status"]["token"]}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "sa", "namespace": NAMESPACE}}],
                "current-context": "c",
            }
        )
    )
    assert base64.b64decode(ca)
    instance = f"rbac-{kube.namespace}"
    controller = ControllerProcess(
        kubeconfig=restricted,
        log_path=tmp_path / "controller.log",
        extra_args=[f"--instance-id={instance}", "--leader-elect", f"--leader-election-namespace={NAMESPACE}"],
    )
    controller.start()
    try:
        template = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AnalysisTemplate",
            "metadata": {"name": "always"},
            "spec": {
                "metrics": [
                    {
                        "name": "m",
                        "provider": {
                            "job": {
                                "spec": {
                                    "backoffLimit": 0,
                                    "template": {
                                        "spec": {
                                            "restartPolicy": "Never",
                                            "containers": [{"name": "t", "image": "t:1"}],
                                        }
                                    },
                                }
                            }
                        },
                    }
                ]
            },
        }
        await kube.create(ANALYSIS_TEMPLATES, template)
        labels = {INSTANCE_ID_LABEL: instance}
        steps = [
            {"setWeight": 20},
            {"analysis": {"templates": [{"templateName": "always"}]}},
            {"pause": {"duration": "1s"}},
        ]
        await kube.create(ROLLOUTS, rollout_manifest("rbac", steps=steps, labels=labels))
        await kube.wait("rbac", healthy_on_new_revision, what="initial deploy as the chart's ServiceAccount")
        await kube.set_image("rbac", "app:v2")
        done = await kube.wait("rbac", healthy_on_new_revision, what="canary with analysis under RBAC", timeout=90)
        assert status(done)["currentStepIndex"] == 3
        # restartAt now: every existing pod is older and gets evicted (pods list + eviction permissions).
        await asyncio.sleep(1.1)
        restart_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await kube.client.patch(ROLLOUTS, kube.namespace, "rbac", {"spec": {"restartAt": restart_at}})
        await kube.wait(
            "rbac",
            lambda o: status(o).get("restartedAt") == restart_at,
            what="pods restarted under RBAC",
            timeout=90,
        )
        metrics = await eventually(
            lambda: _metrics(controller.metrics_port),
            lambda text: "controller_clientset_k8s_request_total" in text,
            what="controller metrics",
        )
        forbidden = [
            line for line in metrics.splitlines()
            if line.startswith("controller_clientset_k8s_request_total") and 'status_code="403"' in line
        ]  # fmt: skip
        assert forbidden == [], forbidden
        assert "forbidden" not in controller.log().lower(), controller.log()[-3000:]
    finally:
        controller.stop()


async def _metrics(port: int) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"http://127.0.0.1:{port}/metrics")).text
