"""What decide() asks the controller shell to do: plain, comparable dataclasses.

Keeping actions as data (not callbacks) is what makes decide() pure and
testable: a test asserts on the list, and the shell executes it in order.
Patches are JSON merge patches (a None value removes a key). The status write
and the timed requeue travel in `Plan.status` / `Plan.requeue_after`;
`Plan.all_actions()` also lists them as UpdateStatus / RequeueAfter for
shells and tests that prefer one ordered list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CreateReplicaSet:
    body: dict[str, Any]


@dataclass(frozen=True)
class ScaleReplicaSet:
    """Set spec.replicas, with annotations merged in the same write (None removes one)."""

    name: str
    replicas: int
    annotations: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class PatchReplicaSet:
    name: str
    patch: dict[str, Any]


@dataclass(frozen=True)
class DeleteReplicaSet:
    """Delete with a uid precondition: never a ReplicaSet that replaced the one we saw."""

    name: str
    uid: str


@dataclass(frozen=True)
class PatchServiceSelector:
    """Point the Service's rollouts-pod-template-hash selector at pod_hash (and mark it managed)."""

    service: str
    pod_hash: str


@dataclass(frozen=True)
class PatchRolloutMetadata:
    annotations: dict[str, str]


@dataclass(frozen=True)
class DeletePod:
    """Replace one pod for spec.restartAt. Argo evicts (honouring PodDisruptionBudgets); so should the shell."""

    name: str
    uid: str
    evict: bool = True


@dataclass(frozen=True)
class PatchPod:
    """Ephemeral canary/stable metadata on a running pod (merge patch of its metadata)."""

    name: str
    patch: dict[str, Any]


@dataclass(frozen=True)
class CreateAnalysisRun:
    """Hook for the analysis issue: not produced yet."""

    body: dict[str, Any]


@dataclass(frozen=True)
class TerminateAnalysisRun:
    """Set spec.terminate on a run the rollout no longer wants measured."""

    name: str


@dataclass(frozen=True)
class DeleteAnalysisRun:
    """Delete a finished run beyond the rollout's run history limits (only runs the rollout owns)."""

    name: str
    uid: str


@dataclass(frozen=True)
class RecordEvent:
    reason: str
    message: str
    type: str = "Normal"


@dataclass(frozen=True)
class ScaleDeployment:
    """Set spec.replicas of a workloadRef's Deployment (its scaleDown: onsuccess / progressively)."""

    name: str
    replicas: int


@dataclass(frozen=True)
class UpdateStatus:
    """Write the Rollout's status subresource (listed by Plan.all_actions when it changed)."""

    status: dict[str, Any]


@dataclass(frozen=True)
class RequeueAfter:
    """Reconcile again after this many seconds (a timed pause ending, a deadline, a restart batch)."""

    seconds: float


Action = (
    CreateReplicaSet
    | ScaleReplicaSet
    | PatchReplicaSet
    | DeleteReplicaSet
    | PatchServiceSelector
    | PatchRolloutMetadata
    | DeletePod
    | PatchPod
    | CreateAnalysisRun
    | TerminateAnalysisRun
    | DeleteAnalysisRun
    | RecordEvent
    | ScaleDeployment
    | UpdateStatus
    | RequeueAfter
)
