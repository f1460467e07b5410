"""spec.replicas defaulting (the scale subresource needs the field)."""

from __future__ import annotations

from rollouts.rollout.scaling import default_replicas_patch

INVALID = {"conditions": [{"type": "InvalidSpec", "status": "True"}]}


def test_default_written_only_when_missing_and_valid() -> None:
    assert default_replicas_patch({"spec": {"strategy": {}}}, {}) == {"spec": {"replicas": 1}}
    assert default_replicas_patch({"spec": {"replicas": 0}}, {}) is None
    assert default_replicas_patch({"spec": {"replicas": 3}}, {}) is None
    assert default_replicas_patch({"spec": {}}, INVALID) is None
    assert default_replicas_patch({}, {}) is None
