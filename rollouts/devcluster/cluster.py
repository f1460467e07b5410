"""LocalCluster: etcd + kube-apiserver + controller-manager + scheduler + kwok.

Start-up order matters: etcd, then the apiserver (wait for /readyz), then the
controller-manager, scheduler and kwok together, then the fake Node objects,
then wait until every node reports Ready. `stop()` undoes all of it in reverse
and removes the temporary directory, also when start-up failed half-way.

Probing uses synchronous httpx so that the same code serves pytest fixtures,
the CLI and the background supervisor without an event loop.
"""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml

from rollouts.devcluster.binaries import find_bin_dir
from rollouts.devcluster.pki import ClusterPki, generate_pki
from rollouts.devcluster.processes import ManagedProcess, ProcessGroup, free_ports, wait_until

NEVER_READY_LABEL = "rollouts.io/never-ready"
"""Pod template label (value "true"): its pods run but never become Ready."""

JOB_FAIL_LABEL = "rollouts.io/job-fail"
"""Job pod template label (value "true"): its pods fail instead of succeeding."""

SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"

# The controllers of kube-controller-manager a workload needs; node lifecycle
# and IPAM are left out because kwok plays the nodes.
CONTROLLERS = ",".join(
    (
        "replicaset",
        "deployment",
        "job",
        "cronjob",
        "statefulset",
        "daemonset",
        "garbagecollector",
        "namespace",
        "serviceaccount",
        "serviceaccount-token",
        "endpoint",
        "endpointslice",
        "disruption",
        "horizontalpodautoscaling",
        "ttl-after-finished",
        "podgc",
    )
)


@dataclass
class LocalCluster:
    """A control plane on loopback; use as a context manager or call start()/stop()."""

    nodes: int = 3
    work_dir: Path | None = None
    bin_dir: Path | None = None
    start_timeout: float = 120.0
    keep_work_dir: bool = False

    kubeconfig: Path = field(init=False)
    server: str = field(init=False)
    pki: ClusterPki = field(init=False)
    _group: ProcessGroup = field(init=False, default_factory=ProcessGroup)
    _owns_work_dir: bool = field(init=False, default=False)

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, *, die_with_parent: bool = True) -> None:
        if self.bin_dir is None:
            self.bin_dir = find_bin_dir()
        if self.work_dir is None:
            self.work_dir = Path(tempfile.mkdtemp(prefix="rollouts-cluster-"))
            self._owns_work_dir = True
        self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start(die_with_parent=die_with_parent)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        try:
            self._group.stop_all()
        finally:
            if self.work_dir is not None and not self.keep_work_dir:
                # etcd data and keys are ours alone; the kubeconfig goes with them.
                for child in ("etcd", "pki", "kwok", "logs"):
                    shutil.rmtree(self.work_dir / child, ignore_errors=True)
                if self._owns_work_dir:
                    shutil.rmtree(self.work_dir, ignore_errors=True)

    def process_ids(self) -> dict[str, int]:
        return {p.name: p.pid for p in self._group.processes if p.pid is not None}

    # ------------------------------------------------------------------ internals

    def _bin(self, name: str) -> str:
        assert self.bin_dir is not None
        return str(self.bin_dir / name)

    def _start(self, *, die_with_parent: bool) -> None:
        assert self.work_dir is not None
        work = self.work_dir
        logs = work / "logs"
        self.pki = generate_pki(work / "pki")
        etcd_client, etcd_peer, apiserver, kcm, scheduler, kwok = free_ports(6)
        self.server = f"https://127.0.0.1:{apiserver}"
        self.kubeconfig = work / "kubeconfig"
        self._write_kubeconfig(self.kubeconfig)
        env = {**os.environ}

        def spawn(name: str, argv: list[str]) -> ManagedProcess:
            process = ManagedProcess(name=name, argv=argv, log_path=logs / f"{name}.log", env=env)
            return self._group.start(process, die_with_parent=die_with_parent)

        spawn(
            "etcd",
            [
                self._bin("etcd"),
                f"--data-dir={work / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_client}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_client}",
                f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-cluster=default=http://127.0.0.1:{etcd_peer}",
                "--unsafe-no-fsync",  # a throw-away cluster: speed over durability
                "--log-level=warn",
            ],
        )
        pki = self.pki
        spawn(
            "kube-apiserver",
            [
                self._bin("kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{etcd_client}",
                f"--secure-port={apiserver}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                f"--client-ca-file={pki.ca_cert}",
                f"--service-account-key-file={pki.service_account_pub}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=RBAC",
                "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,"
                "DefaultStorageClass,ResourceQuota,MutatingAdmissionWebhook,"
                "ValidatingAdmissionWebhook,ValidatingAdmissionPolicy",
                # The not-ready taint this plugin puts on new nodes is lifted by the
                # node lifecycle controller, which we do not run (kwok plays the nodes).
                "--disable-admission-plugins=TaintNodesByCondition",
                # Endpoints may not point at loopback, so the apiserver would keep
                # failing to publish itself; nothing here needs that Service.
                "--endpoint-reconciler-type=none",
                "--allow-privileged=true",
                "--profiling=false",
                "--v=1",
            ],
        )
        wait_until(
            self._readyz,
            timeout=self.start_timeout,
            description="kube-apiserver /readyz",
            alive=self._group,
        )
        common = [
            f"--kubeconfig={self.kubeconfig}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
        ]
        spawn(
            "kube-controller-manager",
            [
                self._bin("kube-controller-manager"),
                *common,
                f"--secure-port={kcm}",
                f"--controllers={CONTROLLERS}",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--root-ca-file={pki.ca_cert}",
                f"--cluster-cidr={POD_CIDR}",
                "--kube-api-qps=500",
                "--kube-api-burst=1000",
                "--concurrent-replicaset-syncs=20",
                "--concurrent-deployment-syncs=20",
                "--v=1",
            ],
        )
        spawn(
            "kube-scheduler",
            [self._bin("kube-scheduler"), *common, f"--secure-port={scheduler}", "--v=1"],
        )
        stages = work / "kwok" / "stages.yaml"
        stages.parent.mkdir(parents=True, exist_ok=True)
        stages.write_text(resources.files("rollouts.devcluster").joinpath("kwok_stages.yaml").read_text())
        spawn(
            "kwok",
            [
                self._bin("kwok"),
                f"--kubeconfig={self.kubeconfig}",
                f"--config={stages}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                f"--cidr={POD_CIDR}",
                "--node-ip=10.200.0.1",
                f"--server-address=127.0.0.1:{kwok}",
            ],
        )
        with self.http() as client:
            wait_until(
                lambda: client.get("/api/v1/namespaces/default/serviceaccounts/default").status_code == 200,
                timeout=self.start_timeout,
                description="the default ServiceAccount",
                alive=self._group,
            )
            for index in range(self.nodes):
                response = client.post("/api/v1/nodes", json=fake_node(f"kwok-node-{index}"))
                if response.status_code not in (201, 409):
                    raise RuntimeError(f"creating node kwok-node-{index}: {response.text}")
            wait_until(
                lambda: self._ready_nodes(client) >= self.nodes,
                timeout=self.start_timeout,
                description=f"{self.nodes} Ready nodes",
                alive=self._group,
            )

    def http(self) -> httpx.Client:
        """An httpx client authenticated as the cluster admin (for probes and set-up)."""
        context = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        context.load_cert_chain(str(self.pki.admin_cert), str(self.pki.admin_key))
        return httpx.Client(base_url=self.server, verify=context, timeout=10.0)

    def _readyz(self) -> bool:
        with self.http() as client:
            return client.get("/readyz").status_code == 200

    @staticmethod
    def _ready_nodes(client: httpx.Client) -> int:
        items = client.get("/api/v1/nodes").json().get("items", [])
        ready = 0
        for node in items:
            for condition in node.get("status", {}).get("conditions", []):
                if condition.get("type") == "Ready" and condition.get("status") == "True":
                    ready += 1
        return ready

    def _write_kubeconfig(self, path: Path) -> None:
        def b64(file: Path) -> str:
            return base64.b64encode(file.read_bytes()).decode()

        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "rollouts-local",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority-data": b64(self.pki.ca_cert),
                    },
                }
            ],
            "users": [
                {
                    "name": "rollouts-admin",
                    "user": {
                        "client-certificate-data": b64(self.pki.admin_cert),
                        "client-key-data": b64(self.pki.admin_key),
                    },
                }
            ],
            "contexts": [
                {
                    "name": "rollouts-local",
                    "context": {"cluster": "rollouts-local", "user": "rollouts-admin"},
                }
            ],
            "current-context": "rollouts-local",
        }
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)


def fake_node(name: str) -> dict[str, Any]:
    """A Node that kwok manages (selected by its annotation) with room for many pods."""
    capacity = {"cpu": "64", "memory": "256Gi", "pods": "500"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/role": "agent",
                "node-role.kubernetes.io/agent": "",
                "type": "kwok",
            },
        },
        "spec": {},
        "status": {"allocatable": capacity, "capacity": capacity},
    }
