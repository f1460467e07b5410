"""A real local Kubernetes control plane, started as child processes on loopback.

Integration tests, e2e tests, benchmarks, the demo and `rollouts dev-cluster up` all
need a real kube-apiserver (docs/architecture.md §5): etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok (which plays the kubelet).
This package finds the binaries, generates certificates, starts the processes on
free ports, waits for readiness and tears everything down again.
"""

from rollouts.devcluster.binaries import BinaryNotFoundError, find_bin_dir
from rollouts.devcluster.cluster import JOB_FAIL_LABEL, NEVER_READY_LABEL, LocalCluster

__all__ = [
    "JOB_FAIL_LABEL",
    "NEVER_READY_LABEL",
    "BinaryNotFoundError",
    "LocalCluster",
    "find_bin_dir",
]
