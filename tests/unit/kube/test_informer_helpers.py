"""Informer handler helpers and the shared informer factory (no cluster needed: nothing is started)."""

from __future__ import annotations

from rollouts.api.kinds import CLUSTER_ANALYSIS_TEMPLATES, ROLLOUTS
from rollouts.kube.informer import (
    InformerFactory,
    enqueue_controller_owner,
    enqueue_object,
    index_by_label,
)
from rollouts.kube.resources import REPLICASETS


def test_enqueue_helpers() -> None:
    keys: list[str] = []
    replicaset = {
        "metadata": {
            "namespace": "ns",
            "name": "web-abc",
            "ownerReferences": [
                {"kind": "Deployment", "name": "other", "controller": False},
                {"kind": "Rollout", "name": "web", "controller": True},
            ],
        }
    }
    enqueue_object(keys.append)("ADDED", replicaset, None)
    enqueue_controller_owner(keys.append, "Rollout")("MODIFIED", replicaset, None)
    enqueue_controller_owner(keys.append, "Rollout")("DELETED", {"metadata": {"namespace": "ns", "name": "x"}}, None)
    not_controller = {"metadata": {"namespace": "ns", "ownerReferences": [{"kind": "Rollout", "name": "r"}]}}
    enqueue_controller_owner(keys.append, "Rollout")("ADDED", not_controller, None)
    assert keys == ["ns/web-abc", "ns/web"]


def test_factory_shares_informers_and_merges_indexers() -> None:
    factory = InformerFactory(client=None, namespace="ns")  # type: ignore[arg-type]
    first = factory.informer(REPLICASETS, indexers={"app": index_by_label("app")})
    second = factory.informer(REPLICASETS, indexers={"tier": index_by_label("tier")})
    assert first is second
    assert {"namespace", "owner", "app", "tier"} <= set(first.indexers)
    assert factory.informer(REPLICASETS, label_selector="a=b") is not first
    assert factory.informer(ROLLOUTS).namespace == "ns"
    assert factory.informer(CLUSTER_ANALYSIS_TEMPLATES).namespace is None, "cluster-scoped kinds ignore the namespace"
    assert len(factory.all()) == 4
