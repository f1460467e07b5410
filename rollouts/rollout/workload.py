"""workloadRef: a Rollout that takes its pod template from a Deployment, ReplicaSet or PodTemplate.

Argo resolves the reference in memory before every reconcile
(rollout/templateref.go): the referenced object's pod template (and, when the
Rollout has none, its selector) is put into a copy of the Rollout, never into
the stored spec, and the object's generation travels in the annotation
`rollout.argoproj.io/workload-generation` and ends up as
`status.workloadObservedGeneration`. decide() does the same with the helpers
here, so the canary / blue-green logic never knows a template came from
elsewhere: it calls `resolve()` first and, after the reconcile,
`workload_actions()` for the annotation patch and the Deployment scale-down
that `spec.workloadRef.scaleDown` asks for.

scaleDown follows Argo (rollout/replicaset.go reconcileNewReplicaSet and
sync.go promoteStable), and like Argo only for the first revision, the
migration from a Deployment:
- never: the Deployment is left alone.
- onsuccess: the Deployment goes to 0 once the Rollout is Healthy.
- progressively: the Deployment gives up one pod for each pod of the Rollout,
  so pods of both together never fall below the Rollout's replicas; 0 once
  Healthy. Argo counts the Rollout's *ready* pods; we count *available* ones
  (the same without minReadySeconds, safer with it), because the promise is
  about available pods.
All of it is pure: the shell passes in the referenced object from its caches.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from rollouts.api.constants import (
    CONDITION_INVALID_SPEC,
    PHASE_HEALTHY,
    POD_TEMPLATE_HASH_LABEL,
    WORKLOAD_GENERATION_ANNOTATION,
)
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout.actions import Action, PatchRolloutMetadata, ScaleDeployment, ScaleReplicaSet
from rollouts.rollout.context import Observed, Plan
from rollouts.rollout.status import int_or

SCALE_DOWN_NEVER = "never"
SCALE_DOWN_ON_SUCCESS = "onsuccess"
SCALE_DOWN_PROGRESSIVELY = "progressively"

Obj = dict[str, Any]


@dataclass(frozen=True)
class WorkloadKind:
    """Where a supported kind keeps its pod template and selector (Argo's infoByGroupKind)."""

    kind: str
    plural: str  # for the "<plural>.<group> "name" not found" message, as the API server words it
    template_path: tuple[str, ...]
    selector_path: tuple[str, ...] | None


_KINDS: dict[tuple[str, str], WorkloadKind] = {
    ("apps", "Deployment"): WorkloadKind("Deployment", "deployments.apps", ("spec", "template"), ("spec", "selector")),
    ("apps", "ReplicaSet"): WorkloadKind("ReplicaSet", "replicasets.apps", ("spec", "template"), ("spec", "selector")),
    ("", "PodTemplate"): WorkloadKind("PodTemplate", "podtemplates", ("template",), None),
}


def workload_ref(rollout: Obj) -> Obj | None:
    ref = (rollout.get("spec") or {}).get("workloadRef")
    return ref if isinstance(ref, dict) else None


def workload_kind(ref: Obj) -> WorkloadKind | None:
    """The supported kind a reference names (apiVersion's group and kind), or None."""
    api_version = str(ref.get("apiVersion") or "")
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return _KINDS.get((group, str(ref.get("kind") or "")))


def referenced_keys(rollout: Obj) -> list[str]:
    """Informer index of Rollouts by the object their workloadRef names ("Kind/namespace/name")."""
    ref = workload_ref(rollout)
    kind = workload_kind(ref) if ref is not None else None
    if ref is None or kind is None:
        return []
    return [f"{kind.kind}/{(rollout.get('metadata') or {}).get('namespace', '')}/{ref.get('name')}"]


def object_key(obj: Obj) -> str:
    """The index value under which Rollouts referencing `obj` are found."""
    metadata = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{metadata.get('namespace', '')}/{metadata.get('name')}"


@dataclass(frozen=True)
class Resolution:
    """The Rollout with the referenced template in place, and the object's generation; or an error."""

    rollout: Obj
    generation: str | None = None
    error: str = ""


def _nested(obj: Obj, path: tuple[str, ...]) -> Any:
    value: Any = obj
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def template_is_empty(template: Any) -> bool:
    """Argo's EmptyTemplate: no labels, no annotations and an empty pod spec."""
    if not isinstance(template, dict) or not template:
        return True
    metadata = template.get("metadata") or {}
    if isinstance(metadata, dict) and (metadata.get("labels") or metadata.get("annotations")):
        return False
    return not template.get("spec")


def resolve(rollout: Obj, workload: Obj | None) -> Resolution:
    """Argo's informerBasedTemplateResolver.Resolve for one Rollout and the object it references.

    `workload` is the referenced object as cached, None when it does not exist.
    The returned Rollout has no workloadRef any more (decide() sees a plain
    Rollout); errors are InvalidSpec messages naming spec.workloadRef.
    """
    ref = workload_ref(rollout)
    if ref is None:
        return Resolution(rollout=rollout)
    name = str(ref.get("name") or "")
    if not template_is_empty((rollout.get("spec") or {}).get("template")):
        return Resolution(rollout=rollout, error="spec.template: template must be empty for workload reference rollout")
    kind = workload_kind(ref)
    if kind is None:
        api_version = str(ref.get("apiVersion") or "")
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        return Resolution(
            rollout=rollout,
            error=f'spec.workloadRef: Invalid value: "{name}": workload of type {group}/{ref.get("kind")} '
            "is not supported",
        )
    if workload is None:
        return Resolution(
            rollout=rollout, error=f'spec.workloadRef: Invalid value: "{name}": {kind.plural} "{name}" not found'
        )
    resolved = copy.deepcopy(rollout)
    spec = resolved.setdefault("spec", {})
    spec.pop("workloadRef", None)
    template = _nested(workload, kind.template_path)
    if isinstance(template, dict):
        spec["template"] = _without_creation_timestamp(copy.deepcopy(template))
    else:
        spec.pop("template", None)
    if not spec.get("selector") and kind.selector_path is not None:
        selector = _nested(workload, kind.selector_path)
        if isinstance(selector, dict):
            spec["selector"] = copy.deepcopy(selector)
    generation = str((workload.get("metadata") or {}).get("generation") or 0)
    metadata = resolved.setdefault("metadata", {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), WORKLOAD_GENERATION_ANNOTATION: generation}
    return Resolution(rollout=resolved, generation=generation)


def _without_creation_timestamp(template: Obj) -> Obj:
    """The API server returns `creationTimestamp: null` in pod templates; Go's PodTemplateSpec drops it."""
    metadata = template.get("metadata")
    if isinstance(metadata, dict) and metadata.get("creationTimestamp") is None:
        metadata.pop("creationTimestamp", None)
    return template


# ---------------------------------------------------------------------------- scaleDown


def progressive_deployment_replicas(
    *,
    rollout_replicas: int,
    rollout_available: int,
    healthy: bool,
    new_rs_replicas_before: int,
    new_rs_replicas_after: int,
) -> int | None:
    """scaleDown: progressively. The Deployment's new size, or None to leave it as it is.

    Healthy: 0. Otherwise the Deployment keeps what the Rollout cannot serve yet
    (replicas - available pods of the Rollout), once the Rollout has an available
    pod, or when the Rollout's new ReplicaSet shrinks (a failed migration hands
    pods back to the Deployment).
    """
    if healthy:
        return 0
    if rollout_available > 0 or new_rs_replicas_before > new_rs_replicas_after:
        return max(0, rollout_replicas - rollout_available)
    return None


def deployment_replicas_target(
    *,
    scale_down: str | None,
    revision: int,
    healthy: bool,
    rollout_replicas: int | None,
    rollout_available: int,
    new_rs_replicas_before: int,
    new_rs_replicas_after: int,
) -> int | None:
    """What scaleDown asks of the referenced Deployment this reconcile (None: nothing).

    Only while the Rollout is on its first revision, the migration (as Argo).
    """
    if revision != 1:
        return None
    if scale_down == SCALE_DOWN_ON_SUCCESS:
        return 0 if healthy else None
    if scale_down == SCALE_DOWN_PROGRESSIVELY and rollout_replicas is not None:
        return progressive_deployment_replicas(
            rollout_replicas=rollout_replicas,
            rollout_available=rollout_available,
            healthy=healthy,
            new_rs_replicas_before=new_rs_replicas_before,
            new_rs_replicas_after=new_rs_replicas_after,
        )
    return None


# ---------------------------------------------------------------------------- after the reconcile


def workload_actions(observed: Observed, plan: Plan, *, ref: Obj, generation: str | None) -> list[Action]:
    """What a workloadRef adds to the plan: the workload-generation annotation, the Deployment's scale-down."""
    extra: list[Action] = []
    annotations = (observed.rollout.get("metadata") or {}).get("annotations") or {}
    if generation is not None and annotations.get(WORKLOAD_GENERATION_ANNOTATION) != generation:
        # Argo writes it on the Rollout so that its plugin can tell an unobserved workload change.
        extra.append(PatchRolloutMetadata(annotations={WORKLOAD_GENERATION_ANNOTATION: generation}))
    scale = _scale_deployment(observed, plan, ref=ref, workload=observed.workload)
    if scale is not None:
        extra.append(scale)
    return extra


def _scale_deployment(observed: Observed, plan: Plan, *, ref: Obj, workload: Obj | None) -> ScaleDeployment | None:
    kind = workload_kind(ref)
    if workload is None or kind is None or kind.kind != "Deployment":
        return None
    spec = observed.rollout.get("spec") or {}
    if spec.get("paused") or any(c.get("type") == CONDITION_INVALID_SPEC for c in plan.status.get("conditions") or []):
        return None
    old = observed.rollout.get("status") or {}
    pod_hash = str(plan.status.get("currentPodHash") or "")
    new_rs = next(
        (
            rs
            for rs in observed.replicasets
            if (rs["metadata"].get("labels") or {}).get(POD_TEMPLATE_HASH_LABEL) == pod_hash
        ),
        None,
    )
    if not pod_hash or new_rs is None:
        return None
    before = rsutil.spec_replicas(new_rs)
    after = next(
        (a.replicas for a in plan.actions if isinstance(a, ScaleReplicaSet) and a.name == rsutil.rs_name(new_rs)),
        before,
    )
    replicas = spec.get("replicas")
    target = deployment_replicas_target(
        scale_down=ref.get("scaleDown"),
        revision=rsutil.revision(new_rs),
        healthy=old.get("phase") == PHASE_HEALTHY,
        rollout_replicas=replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else None,
        rollout_available=int_or(old.get("availableReplicas"), 0),
        new_rs_replicas_before=before,
        new_rs_replicas_after=after,
    )
    current = (workload.get("spec") or {}).get("replicas")
    current = 1 if current is None else current
    if target is None or target == current:
        return None
    return ScaleDeployment(name=str(ref.get("name")), replicas=target)
