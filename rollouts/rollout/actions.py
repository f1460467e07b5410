"""What decide() asks the controller shell to do: plain, comparable dataclasses.

Keeping actions as data (not callbacks) is what makes decide() pure and
testable: a test asserts on the list, and the shell executes it in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CreateReplicaSet:
    body: dict[str, Any]


@dataclass(frozen=True)
class ScaleReplicaSet:
    name: str
    replicas: int
    annotations: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class PatchReplicaSet:
    name: str
    patch: dict[str, Any]


@dataclass(frozen=True)
class DeleteReplicaSet:
    name: str
    uid: str


@dataclass(frozen=True)
class PatchServiceSelector:
    service: str
    pod_hash: str


@dataclass(frozen=True)
class PatchRolloutMetadata:
    annotations: dict[str, str]


@dataclass(frozen=True)
class RecordEvent:
    reason: str
    message: str
    type: str = "Normal"


Action = (
    CreateReplicaSet
    | ScaleReplicaSet
    | PatchReplicaSet
    | DeleteReplicaSet
    | PatchServiceSelector
    | PatchRolloutMetadata
    | RecordEvent
)
