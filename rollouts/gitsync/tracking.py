"""Identity of applied objects: tracking ids, resource keys and the order they are applied in.

Every object the Git sync applies carries the annotation
`rollouts.io/tracking-id: <gitsync-ns>/<gitsync-name>:<group>/<kind>:<namespace>/<name>`
(Argo CD's annotation tracking, with the GitSync's namespace so two GitSyncs
of one name in different namespaces never claim each other's objects). Prune
deletes only objects whose annotation is exactly the id this GitSync would
write, so an object someone else created, or took over by editing the
annotation, is never deleted. Apply order follows Argo CD's sync kind order:
Namespaces and CRDs first (everything else may live in or depend on them),
then configuration, then workloads; prune runs in the reverse order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rollouts.api.gitsync import TRACKING_ANNOTATION

# Argo CD's (gitops-engine) kind order for one sync wave; kinds not listed go last.
KIND_ORDER: tuple[str, ...] = (
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
)
_RANK = {kind: index for index, kind in enumerate(KIND_ORDER)}


@dataclass(frozen=True, order=True)
class ResourceKey:
    """group/kind/namespace/name: what identifies one managed object (the version may change)."""

    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: dict[str, Any]) -> ResourceKey:
        api_version = str(obj.get("apiVersion") or "")
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        meta = obj.get("metadata") or {}
        return cls(group, str(obj.get("kind") or ""), str(meta.get("namespace") or ""), str(meta.get("name") or ""))

    def __str__(self) -> str:
        return f"{self.group}/{self.kind}:{self.namespace}/{self.name}"


def tracking_id(*, gitsync_namespace: str, gitsync_name: str, key: ResourceKey) -> str:
    """The annotation value that marks `key` as applied by this GitSync."""
    return f"{gitsync_namespace}/{gitsync_name}:{key}"


def tracked_by(obj: dict[str, Any], expected_id: str) -> bool:
    """True only if `obj` carries exactly `expected_id` (never for objects without the annotation)."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return bool(expected_id) and annotations.get(TRACKING_ANNOTATION) == expected_id


def apply_rank(obj: dict[str, Any]) -> int:
    return _RANK.get(str(obj.get("kind") or ""), len(KIND_ORDER))


def apply_order(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects in dependency order (Namespaces, CRDs, config, workloads, ...); stable within a kind."""
    return sorted(objects, key=lambda obj: (apply_rank(obj), ResourceKey.of(obj).namespace, ResourceKey.of(obj).name))


def prune_order(keys: list[ResourceKey]) -> list[ResourceKey]:
    """Keys in the reverse of apply order: workloads before their Namespace or CRD."""
    return sorted(keys, key=lambda key: (-_RANK.get(key.kind, len(KIND_ORDER)), key.namespace, key.name))
