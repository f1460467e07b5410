"""Per-resource health as Argo CD computes it, and the aggregate (worst)."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.gitsync.health import resource_health, worst


def rollout(phase: str | None, *, generation: int = 2, observed: str = "2") -> dict[str, Any]:
    status: dict[str, Any] = {"observedGeneration": observed}
    if phase:
        status["phase"] = phase
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "r", "generation": generation},
        "status": status,
    }


@pytest.mark.parametrize(
    ("phase", "expected"),
    [("Healthy", "Healthy"), ("Progressing", "Progressing"), ("Degraded", "Degraded"), ("Paused", "Suspended")],
)
def test_rollout_health_follows_its_phase(phase: str, expected: str) -> None:
    assert resource_health(rollout(phase)).status == expected


def test_rollout_without_phase_or_with_a_new_spec_is_progressing() -> None:
    assert resource_health(rollout(None)).status == "Progressing"
    assert resource_health(rollout("Healthy", generation=3, observed="2")).status == "Progressing"


def deployment(wanted: int, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "generation": 1},
        "spec": {"replicas": wanted},
        "status": {"observedGeneration": 1, **status},
    }


def test_deployment_health() -> None:
    assert resource_health(deployment(2, replicas=2, updatedReplicas=2, availableReplicas=2)).status == "Healthy"
    assert resource_health(deployment(2, replicas=2, updatedReplicas=1, availableReplicas=1)).status == "Progressing"
    assert resource_health(deployment(2, replicas=3, updatedReplicas=2, availableReplicas=2)).status == "Progressing"
    stuck = deployment(2, conditions=[{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}])
    assert resource_health(stuck).status == "Degraded"
    paused = deployment(2)
    paused["spec"]["paused"] = True
    assert resource_health(paused).status == "Suspended"


def job(*conditions: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j"},
        "status": {"conditions": list(conditions)},
    }


def test_job_health() -> None:
    assert resource_health(job()).status == "Progressing"
    assert resource_health(job({"type": "Complete", "status": "True"})).status == "Healthy"
    failed = resource_health(job({"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}))
    assert (failed.status, failed.message) == ("Degraded", "BackoffLimitExceeded")


def test_service_and_pvc_health() -> None:
    cluster_ip = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "ClusterIP"}}
    assert resource_health(cluster_ip).status == "Healthy"
    balancer = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "LoadBalancer"}}
    assert resource_health(balancer).status == "Progressing"
    balancer["status"] = {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}
    assert resource_health(balancer).status == "Healthy"
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "p"}, "status": {"phase": "Bound"}}
    assert resource_health(pvc).status == "Healthy"
    pvc["status"]["phase"] = "Pending"
    assert resource_health(pvc).status == "Progressing"


def test_missing_and_other_kinds() -> None:
    assert resource_health(None).status == "Missing"
    assert resource_health({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}).status == "Healthy"


def test_aggregate_is_the_worst() -> None:
    assert worst([]) == "Healthy"
    assert worst(["Healthy", "Suspended"]) == "Suspended"
    assert worst(["Suspended", "Progressing", "Healthy"]) == "Progressing"
    assert worst(["Progressing", "Missing"]) == "Missing"
    assert worst(["Missing", "Degraded", "Healthy"]) == "Degraded"
