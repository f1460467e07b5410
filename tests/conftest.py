"""Fixtures shared by the integration and e2e suites: one real control plane per session.

`cluster` starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
kwok once per pytest session (per xdist worker) and tears them down at the end.
Set ROLLOUTS_TEST_KUBECONFIG to reuse a running cluster instead (for example one
from `rollouts dev-cluster up`), which makes iterating on one test fast.
Each test gets its own namespace from `namespace`, so tests never see each
other's objects.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config
from kubernetes_asyncio.client.api_client import ApiClient

from rollouts.api.resource import Resource
from rollouts.devcluster import LocalCluster
from rollouts.devcluster.binaries import find_bin_dir
from rollouts.kube.client import KubeClient
from tests.kubetest import REPO, ControllerProcess, Kube
from tests.waiting import eventually

CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False)


@dataclass(frozen=True)
class ClusterHandle:
    kubeconfig: Path
    bin_dir: Path
    server: str

    async def api_client(self) -> ApiClient:
        """A new kubernetes_asyncio ApiClient for this cluster; close it when done."""
        configuration = k8s_client.Configuration()
        await k8s_config.load_kube_config(config_file=str(self.kubeconfig), client_configuration=configuration)
        return ApiClient(configuration)


@pytest.fixture(scope="session")
def cluster() -> Iterator[ClusterHandle]:
    existing = os.environ.get("ROLLOUTS_TEST_KUBECONFIG")
    if existing:
        config = yaml.safe_load(Path(existing).read_text())
        server = config["clusters"][0]["cluster"]["server"]
        yield ClusterHandle(kubeconfig=Path(existing), bin_dir=find_bin_dir(), server=server)
        return
    nodes = int(os.environ.get("ROLLOUTS_TEST_NODES", "3"))
    with LocalCluster(nodes=nodes) as local:
        assert local.bin_dir is not None
        yield ClusterHandle(kubeconfig=local.kubeconfig, bin_dir=local.bin_dir, server=local.server)


@pytest.fixture(scope="session")
async def kube_api(cluster: ClusterHandle) -> AsyncIterator[ApiClient]:
    api = await cluster.api_client()
    try:
        yield api
    finally:
        await api.close()


@pytest.fixture
async def namespace(kube_api: ApiClient) -> AsyncIterator[str]:
    """A fresh namespace for one test, deleted afterwards (deletion is not awaited)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = k8s_client.CoreV1Api(kube_api)
    await core.create_namespace(k8s_client.V1Namespace(metadata=k8s_client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        await core.delete_namespace(name)


@pytest.fixture(scope="session")
async def kube_client(cluster: ClusterHandle) -> AsyncIterator[KubeClient]:
    client = KubeClient(await cluster.api_client(), field_manager="rollouts-tests")
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture(scope="session")
async def crds(kube_client: KubeClient) -> None:
    """Our CRDs from crds/, installed once per session and Established."""
    for path in sorted((REPO / "crds").glob("*.yaml")):
        body = yaml.safe_load(path.read_text())
        name = body["metadata"]["name"]
        await kube_client.patch(CRDS, None, name, body, patch_type="apply", force=True)
    for path in sorted((REPO / "crds").glob("*.yaml")):
        name = yaml.safe_load(path.read_text())["metadata"]["name"]
        await eventually(
            lambda name=name: kube_client.get(CRDS, None, name),
            lambda crd: any(
                c["type"] == "Established" and c["status"] == "True"
                for c in crd.get("status", {}).get("conditions", [])
            ),
            what=f"CRD {name} established",
        )


@pytest.fixture(scope="session")
def controller(
    cluster: ClusterHandle, crds: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ControllerProcess]:
    """One `rollouts controller` process for the session (rollouts without an instance id)."""
    process = ControllerProcess(
        kubeconfig=cluster.kubeconfig, log_path=tmp_path_factory.mktemp("controller") / "controller.log"
    )
    process.start()
    yield process
    code = process.stop()
    assert code == 0, f"controller exited with {code}:\n{process.log()[-3000:]}"


@pytest.fixture
def kube(kube_client: KubeClient, namespace: str) -> Kube:
    return Kube(client=kube_client, namespace=namespace)
