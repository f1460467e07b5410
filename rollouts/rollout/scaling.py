"""spec.replicas defaulting, so that the scale subresource works for every Rollout.

The CRD's scale subresource reads `.spec.replicas`; when a manifest leaves it
out, the API server answers `kubectl scale` and the HorizontalPodAutoscaler
with an internal error. Argo's controller therefore writes the default (1)
into the spec (rollout/controller.go, issue argoproj/argo-rollouts#119); so do
we, but only for a Rollout whose spec is otherwise valid, since an invalid one
gets no action at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.api.constants import CONDITION_INVALID_SPEC, DEFAULT_REPLICAS


def default_replicas_patch(rollout: dict[str, Any], status: Mapping[str, Any]) -> dict[str, Any] | None:
    """The merge patch that sets spec.replicas to its default, or None when nothing is to be written."""
    spec = rollout.get("spec")
    if not isinstance(spec, dict) or spec.get("replicas") is not None:
        return None
    if any(c.get("type") == CONDITION_INVALID_SPEC for c in status.get("conditions") or []):
        return None
    return {"spec": {"replicas": DEFAULT_REPLICAS}}
