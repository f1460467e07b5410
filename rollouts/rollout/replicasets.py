"""Pure helpers over ReplicaSets (raw dicts from the informer cache).

Naming, the pod-template-hash label, revisions, owner references, replica
counters, ephemeral (canary/stable) pod metadata and the "which RS is new /
stable / other" classification, following Argo Rollouts' utils/replicaset and
utils/annotations, so a cluster moved from Argo's controller to ours (or back)
keeps its ReplicaSets and pods. No I/O.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from rollouts.api.constants import (
    DESIRED_REPLICAS_ANNOTATION,
    EPHEMERAL_METADATA_ANNOTATION,
    POD_TEMPLATE_HASH_LABEL,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    SCALE_DOWN_DEADLINE_ANNOTATION,
)
from rollouts.api.numbers import INT32_MAX, count, parse_int64

RS = dict[str, Any]

# Rollout annotations Argo never copies onto its ReplicaSets (annotationsToSkip).
ANNOTATIONS_NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        "notified.notifications.argoproj.io",
    }
)

# Pod template fields the API server fills in when the user leaves them out: a
# live ReplicaSet may carry them although the Rollout's template does not.
_SERVER_DEFAULTED = frozenset(
    {
        "creationTimestamp",
        "dnsPolicy",
        "restartPolicy",
        "schedulerName",
        "securityContext",
        "terminationGracePeriodSeconds",
        "terminationMessagePath",
        "terminationMessagePolicy",
        "imagePullPolicy",
        "protocol",
        "resources",
        "enableServiceLinks",
        "serviceAccount",
        "serviceAccountName",
        "defaultMode",
        "successThreshold",
        "failureThreshold",
        "periodSeconds",
        "timeoutSeconds",
        "scheme",
        "fieldRef",
        "apiVersion",
    }
)


def rs_name(rs: RS) -> str:
    return str(rs["metadata"]["name"])


def rs_uid(rs: RS) -> str:
    return str(rs["metadata"].get("uid") or "")


def rs_hash(rs: RS) -> str:
    return str((rs["metadata"].get("labels") or {}).get(POD_TEMPLATE_HASH_LABEL, ""))


def annotations_of(rs: RS) -> dict[str, str]:
    return dict(rs["metadata"].get("annotations") or {})


def spec_replicas(rs: RS | None) -> int:
    if rs is None:
        return 0
    value = (rs.get("spec") or {}).get("replicas")
    return 1 if value is None else count(value)


def _status(rs: RS | None, field: str) -> int:
    if rs is None:
        return 0
    return count((rs.get("status") or {}).get(field))


def status_replicas(rs: RS | None) -> int:
    return _status(rs, "replicas")


def ready_replicas(rs: RS | None) -> int:
    return _status(rs, "readyReplicas")


def available_replicas(rs: RS | None) -> int:
    return _status(rs, "availableReplicas")


def total_spec(rss: list[RS]) -> int:
    return sum(spec_replicas(rs) for rs in rss)


def total_status(rss: list[RS]) -> int:
    return sum(status_replicas(rs) for rs in rss)


def total_ready(rss: list[RS]) -> int:
    return sum(ready_replicas(rs) for rs in rss)


def total_available(rss: list[RS]) -> int:
    return sum(available_replicas(rs) for rs in rss)


def is_active(rs: RS) -> bool:
    return spec_replicas(rs) > 0


def is_fully_available(rs: RS) -> bool:
    """Argo's IsReplicaSetAvailable: scaled up and every desired pod available."""
    return spec_replicas(rs) != 0 and available_replicas(rs) != 0 and spec_replicas(rs) <= available_replicas(rs)


def revision(obj: dict[str, Any]) -> int:
    """The revision annotation of a ReplicaSet or Rollout; 0 when absent, malformed or out of int64 range."""
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION, "0")
    value = parse_int64(text)
    # Argo keeps revisions positive; a negative one is as unreadable as a garbled one.
    return value if value is not None and value >= 0 else 0


def max_revision(rss: list[RS]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def creation_timestamp(rs: RS) -> str:
    """metadata.creationTimestamp as written (RFC 3339 strings order by time); "" when absent."""
    return str(rs["metadata"].get("creationTimestamp") or "")


def creation_key(rs: RS) -> tuple[str, str]:
    """Oldest first, ties broken by name (Argo's ReplicaSetsByCreationTimestamp)."""
    return (creation_timestamp(rs), rs_name(rs))


def generation_observed(rs: RS) -> bool:
    """The ReplicaSet controller has seen the latest spec (metadata.generation <= status.observedGeneration)."""
    generation = parse_int64(rs["metadata"].get("generation")) or 0
    return generation <= (parse_int64((rs.get("status") or {}).get("observedGeneration")) or 0)


def conditions_of(rs: RS) -> list[dict[str, Any]]:
    """status.conditions of the ReplicaSet (ReplicaFailure is the one the rollout reads)."""
    conditions = (rs.get("status") or {}).get("conditions")
    return (
        [condition for condition in conditions if isinstance(condition, dict)] if isinstance(conditions, list) else []
    )


def selector_of(rs: RS) -> dict[str, Any] | None:
    """spec.selector of the ReplicaSet."""
    selector: dict[str, Any] | None = (rs.get("spec") or {}).get("selector")
    return selector


def remove_annotation(rs: RS, key: str) -> None:
    """Drop an annotation from our copy, to keep it in step with a patch we emit."""
    (rs["metadata"].get("annotations") or {}).pop(key, None)


def is_being_deleted(rs: RS) -> bool:
    return bool(rs["metadata"].get("deletionTimestamp"))


def has_scale_down_deadline(rs: RS) -> bool:
    return bool(annotations_of(rs).get(SCALE_DOWN_DEADLINE_ANNOTATION))


def desired_replicas_annotation_stale(rs: RS, rollout_replicas: int) -> bool:
    """Argo's ReplicasAnnotationsNeedUpdate."""
    annotations = rs["metadata"].get("annotations")
    if annotations is None:
        return True
    if annotations.get(DESIRED_REPLICAS_ANNOTATION) != str(rollout_replicas):
        return True
    return rollout_replicas == 0 and bool(annotations.get(SCALE_DOWN_DEADLINE_ANNOTATION))


def desired_replicas(rs: RS) -> int | None:
    value = parse_int64(annotations_of(rs).get(DESIRED_REPLICAS_ANNOTATION))
    return value if value is not None and 0 <= value <= INT32_MAX else None


# --------------------------------------------------------------------------- ephemeral metadata


def parse_ephemeral_metadata(rs: RS) -> dict[str, dict[str, str]] | None:
    """The pod metadata we (or Argo) injected, remembered in the ephemeral-metadata annotation."""
    raw = annotations_of(rs).get(EPHEMERAL_METADATA_ANNOTATION)
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def encode_pod_metadata(metadata: dict[str, dict[str, str]]) -> str:
    """Go's json.Marshal of a PodTemplateMetadata: labels then annotations, keys sorted, empty maps left out."""
    ordered: dict[str, Any] = {}
    for key in ("labels", "annotations"):
        if metadata.get(key):
            ordered[key] = dict(sorted(metadata[key].items()))
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)


def sync_ephemeral_metadata(
    template_metadata: dict[str, Any],
    *,
    existing: dict[str, dict[str, str]] | None,
    desired: dict[str, dict[str, str]] | None,
) -> tuple[dict[str, Any], bool]:
    """Argo's SyncEphemeralPodMetadata: inject `desired`, drop what `existing` injected and is no longer wanted."""
    metadata = copy.deepcopy(template_metadata)
    modified = False
    for key in ("annotations", "labels"):
        wanted = (desired or {}).get(key) or {}
        current = dict(metadata.get(key) or {})
        for name, value in wanted.items():
            if current.get(name) != value:
                current[name] = value
                modified = True
        for name in (existing or {}).get(key) or {}:
            if name not in wanted and name in current:
                del current[name]
                modified = True
        if current or metadata.get(key) is not None:
            metadata[key] = current
    return metadata, modified


def ephemeral_metadata_patch(rs: RS, desired: dict[str, dict[str, str]] | None) -> dict[str, Any] | None:
    """A merge patch that brings the RS's pod template metadata to `desired` (None: nothing to do)."""
    existing = parse_ephemeral_metadata(rs)
    template_metadata = ((rs.get("spec") or {}).get("template") or {}).get("metadata") or {}
    updated, modified = sync_ephemeral_metadata(template_metadata, existing=existing, desired=desired)
    if not modified:
        return None
    template_patch: dict[str, Any] = {}
    for key in ("labels", "annotations"):
        before = template_metadata.get(key) or {}
        after = updated.get(key) or {}
        changes: dict[str, str | None] = {name: value for name, value in after.items() if before.get(name) != value}
        changes.update({name: None for name in before if name not in after})
        if changes:
            template_patch[key] = changes
    annotation = encode_pod_metadata(desired) if desired is not None else None
    return {
        "metadata": {"annotations": {EPHEMERAL_METADATA_ANNOTATION: annotation}},
        "spec": {"template": {"metadata": template_patch}},
    }


def pod_metadata_patch(
    pod: dict[str, Any],
    *,
    existing: dict[str, dict[str, str]] | None,
    desired: dict[str, dict[str, str]] | None,
) -> dict[str, Any] | None:
    """The same sync for one running pod's own metadata (Argo updates live pods too)."""
    metadata = pod.get("metadata") or {}
    updated, modified = sync_ephemeral_metadata(metadata, existing=existing, desired=desired)
    if not modified:
        return None
    patch: dict[str, Any] = {}
    for key in ("labels", "annotations"):
        before = metadata.get(key) or {}
        after = updated.get(key) or {}
        changes: dict[str, str | None] = {name: value for name, value in after.items() if before.get(name) != value}
        changes.update({name: None for name in before if name not in after})
        if changes:
            patch[key] = changes
    return {"metadata": patch} if patch else None


# --------------------------------------------------------------------------- templates


def strip_hash_label(template: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(template)
    labels = (stripped.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    return stripped


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, dict | list) and len(value) == 0)


def _same(desired: Any, live: Any, *, key: str = "") -> bool:
    """Semantic equality of a Rollout template and a live RS template.

    Fields the user left out may be present in `live` when the API server
    defaults them (e.g. terminationMessagePath); any other difference — a field
    added, removed or changed — is a different template.
    """
    if isinstance(desired, dict) or isinstance(live, dict):
        if _empty(desired) and _empty(live):
            return True
        if not isinstance(desired, dict) or not isinstance(live, dict):
            return key in _SERVER_DEFAULTED and _empty(desired)
        for name in set(desired) | set(live):
            wanted, actual = desired.get(name), live.get(name)
            if _empty(wanted):
                if _empty(actual) or name in _SERVER_DEFAULTED:
                    continue
                return False
            if not _same(wanted, actual, key=name):
                return False
        return True
    if isinstance(desired, list) or isinstance(live, list):
        if _empty(desired) and _empty(live):
            return True
        return (
            isinstance(desired, list)
            and isinstance(live, list)
            and len(desired) == len(live)
            and all(_same(w, a, key=key) for w, a in zip(desired, live, strict=True))
        )
    return bool(desired == live) or (desired is not None and live is not None and str(desired) == str(live))


def template_matches(rs: RS, template: dict[str, Any]) -> bool:
    """Argo's PodTemplateEqualIgnoreHash after removing our injected metadata from the live template."""
    live = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    live["metadata"], _ = sync_ephemeral_metadata(
        live.get("metadata") or {}, existing=parse_ephemeral_metadata(rs), desired=None
    )
    return _same(strip_hash_label(template), strip_hash_label(live))


def find_new_replicaset(replicasets: list[RS], *, pod_hash: str, template: dict[str, Any]) -> RS | None:
    """Argo's FindNewReplicaSet: by hash label first, then by template equality (adoption)."""
    ordered = sorted(replicasets, key=creation_key)
    for rs in ordered:
        if rs_hash(rs) == pod_hash:
            return rs
    for rs in ordered:
        if template_matches(rs, template):
            return rs
    return None


def find_stable_replicaset(replicasets: list[RS], *, stable_hash: str, new_rs: RS | None) -> RS | None:
    """Argo's GetStableRS: the RS whose hash label is status.stableRS (the new RS first)."""
    if not stable_hash:
        return None
    if new_rs is not None and rs_hash(new_rs) == stable_hash:
        return new_rs
    return next((rs for rs in replicasets if rs_hash(rs) == stable_hash), None)


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


def copied_rollout_annotations(rollout: dict[str, Any]) -> dict[str, str]:
    annotations = (rollout.get("metadata") or {}).get("annotations") or {}
    return {k: v for k, v in annotations.items() if k not in ANNOTATIONS_NOT_COPIED}


def new_replicaset(
    *,
    rollout: dict[str, Any],
    template: dict[str, Any],
    pod_hash: str,
    revision_number: int,
    ephemeral_metadata: dict[str, dict[str, str]] | None = None,
) -> RS:
    """The ReplicaSet Argo's createDesiredReplicaSet makes for this template (at 0 replicas)."""
    pod_template = copy.deepcopy(template)
    metadata = pod_template.setdefault("metadata", {})
    labels = {**(metadata.get("labels") or {}), POD_TEMPLATE_HASH_LABEL: pod_hash}
    metadata["labels"] = labels
    selector = copy.deepcopy(rollout["spec"].get("selector") or {})
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), POD_TEMPLATE_HASH_LABEL: pod_hash}
    annotations = {**copied_rollout_annotations(rollout), REVISION_ANNOTATION: str(revision_number)}
    if ephemeral_metadata is not None:
        pod_template["metadata"], modified = sync_ephemeral_metadata(
            metadata, existing=None, desired=ephemeral_metadata
        )
        if modified:
            annotations[EPHEMERAL_METADATA_ANNOTATION] = encode_pod_metadata(ephemeral_metadata)
    spec: dict[str, Any] = {"replicas": 0, "selector": selector, "template": pod_template}
    min_ready = rollout["spec"].get("minReadySeconds")
    if min_ready:
        spec["minReadySeconds"] = min_ready
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{rollout['metadata']['name']}-{pod_hash}",
            "namespace": rollout["metadata"].get("namespace"),
            "labels": dict(labels),
            "annotations": annotations,
            "ownerReferences": [owner_reference(rollout)],
        },
        "spec": spec,
    }


def revision_sync_patch(rs: RS, *, rollout: dict[str, Any], new_revision: int) -> dict[str, Any] | None:
    """Argo's SetNewReplicaSetAnnotations + minReadySeconds sync on an existing new RS, as a merge patch.

    Rollout annotations are copied; the revision only ever goes up, and the one
    it replaces is appended to the revision-history annotation.
    """
    current = annotations_of(rs)
    changes: dict[str, str] = {k: v for k, v in copied_rollout_annotations(rollout).items() if current.get(k) != v}
    old_text = current.get(REVISION_ANNOTATION)
    parsed = parse_int64(old_text) if old_text else 0
    old_revision = parsed if parsed is not None and parsed >= 0 else -1
    if old_revision >= 0 and old_revision < new_revision:
        changes[REVISION_ANNOTATION] = str(new_revision)
    if old_text is not None and changes and old_revision >= 0:
        history = current.get(REVISION_HISTORY_ANNOTATION, "")
        changes[REVISION_HISTORY_ANNOTATION] = f"{history},{old_text}" if history else old_text
    patch: dict[str, Any] = {}
    if changes:
        patch["metadata"] = {"annotations": changes}
    wanted_min_ready = count(rollout["spec"].get("minReadySeconds"))
    if count((rs.get("spec") or {}).get("minReadySeconds")) != wanted_min_ready:
        patch["spec"] = {"minReadySeconds": wanted_min_ready}
    return patch or None


def format_selector(selector: dict[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: matchLabels sorted, then matchExpressions."""
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
    return ",".join(parts) if parts else ""
