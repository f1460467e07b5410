"""Pure helpers over ReplicaSets (raw dicts from the informer cache).

Naming, the pod-template-hash label, revisions, owner references, replica
counters and the "which RS is new / stable / old" classification, following
Argo Rollouts' utils/replicaset. No I/O.
"""

from __future__ import annotations

import copy
from typing import Any

from rollouts.api.constants import POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION

RS = dict[str, Any]


def rs_name(rs: RS) -> str:
    return str(rs["metadata"]["name"])


def rs_hash(rs: RS) -> str:
    return str((rs["metadata"].get("labels") or {}).get(POD_TEMPLATE_HASH_LABEL, ""))


def spec_replicas(rs: RS | None) -> int:
    if rs is None:
        return 0
    value = rs.get("spec", {}).get("replicas")
    return 1 if value is None else int(value)


def _status(rs: RS | None, field: str) -> int:
    if rs is None:
        return 0
    return int((rs.get("status") or {}).get(field) or 0)


def status_replicas(rs: RS | None) -> int:
    return _status(rs, "replicas")


def ready_replicas(rs: RS | None) -> int:
    return _status(rs, "readyReplicas")


def available_replicas(rs: RS | None) -> int:
    return _status(rs, "availableReplicas")


def revision(rs: RS) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


def creation_key(rs: RS) -> tuple[str, str]:
    """Oldest first, ties broken by name (Argo's ReplicaSetsByCreationTimestamp)."""
    return (str(rs["metadata"].get("creationTimestamp") or ""), rs_name(rs))


def is_being_deleted(rs: RS) -> bool:
    return bool(rs["metadata"].get("deletionTimestamp"))


def strip_hash_label(template: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(template)
    labels = (stripped.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    return stripped


def _subset(wanted: Any, actual: Any) -> bool:
    """Every field of `wanted` is in `actual` with the same value (actual may hold defaults)."""
    if isinstance(wanted, dict):
        if not isinstance(actual, dict):
            return False
        return all(_subset(value, actual.get(key)) for key, value in wanted.items() if value not in (None, {}, []))
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(wanted) == len(actual)
            and all(_subset(w, a) for w, a in zip(wanted, actual, strict=True))
        )
    return bool(wanted == actual) or str(wanted) == str(actual)


def template_matches(rs: RS, template: dict[str, Any]) -> bool:
    """The RS runs `template` (ignoring the hash label and API-server defaults)."""
    return _subset(strip_hash_label(template), strip_hash_label(rs.get("spec", {}).get("template") or {}))


def find_new_replicaset(replicasets: list[RS], *, pod_hash: str, template: dict[str, Any]) -> RS | None:
    """By hash label first, then by template equality (adoption of an RS made elsewhere)."""
    live = sorted((rs for rs in replicasets if not is_being_deleted(rs)), key=creation_key)
    for rs in live:
        if rs_hash(rs) == pod_hash:
            return rs
    for rs in live:
        if template_matches(rs, template):
            return rs
    return None


def owner_reference(rollout: dict[str, Any]) -> dict[str, Any]:
    meta = rollout["metadata"]
    return {
        "apiVersion": rollout.get("apiVersion", "argoproj.io/v1alpha1"),
        "kind": rollout.get("kind", "Rollout"),
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def new_replicaset(
    *,
    rollout: dict[str, Any],
    template: dict[str, Any],
    pod_hash: str,
    replicas: int,
    revision_number: int,
    extra_pod_metadata: dict[str, dict[str, str]] | None = None,
) -> RS:
    """The ReplicaSet Argo would create for this template."""
    pod_template = copy.deepcopy(template)
    metadata = pod_template.setdefault("metadata", {})
    labels = dict(metadata.get("labels") or {})
    labels[POD_TEMPLATE_HASH_LABEL] = pod_hash
    metadata["labels"] = labels
    if extra_pod_metadata:
        labels.update(extra_pod_metadata.get("labels") or {})
        if extra_pod_metadata.get("annotations"):
            metadata["annotations"] = {
                **(metadata.get("annotations") or {}),
                **extra_pod_metadata["annotations"],
            }
    selector = copy.deepcopy(rollout["spec"].get("selector") or {})
    match_labels = dict(selector.get("matchLabels") or {})
    match_labels[POD_TEMPLATE_HASH_LABEL] = pod_hash
    selector["matchLabels"] = match_labels
    spec: dict[str, Any] = {"replicas": replicas, "selector": selector, "template": pod_template}
    min_ready = rollout["spec"].get("minReadySeconds")
    if min_ready:
        spec["minReadySeconds"] = min_ready
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{rollout['metadata']['name']}-{pod_hash}",
            "namespace": rollout["metadata"]["namespace"],
            "labels": {
                **(template.get("metadata", {}).get("labels") or {}),
                POD_TEMPLATE_HASH_LABEL: pod_hash,
            },
            "annotations": {REVISION_ANNOTATION: str(revision_number)},
            "ownerReferences": [owner_reference(rollout)],
        },
        "spec": spec,
    }


def format_selector(selector: dict[str, Any] | None) -> str:
    """metav1.FormatLabelSelector for the common matchLabels / matchExpressions forms."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        operator = expression.get("operator", "")
        values = ",".join(sorted(expression.get("values") or []))
        key = expression.get("key", "")
        if operator == "In":
            parts.append(f"{key} in ({values})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif operator == "Exists":
            parts.append(key)
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)
