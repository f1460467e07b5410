"""Canary replica math matches Argo Rollouts' for the same inputs."""

from __future__ import annotations

import pytest

from rollouts.rollout.canary import approximate_weighted_counts, basic_canary_counts

# (replicas, weight, maxSurge) -> (canary, stable): vectors from Argo's own table test.
ARGO_VECTORS = [
    (0, 0, 0, 0, 0), (0, 50, 0, 0, 0), (0, 100, 0, 0, 0), (0, 50, 1, 0, 0),
    (1, 0, 0, 0, 1), (1, 1, 0, 0, 1), (1, 49, 0, 0, 1), (1, 50, 0, 1, 0), (1, 99, 0, 1, 0), (1, 100, 0, 1, 0),
    (1, 0, 1, 0, 1), (1, 1, 1, 1, 1), (1, 49, 1, 1, 1), (1, 50, 1, 1, 1), (1, 99, 1, 1, 1), (1, 100, 1, 1, 0),
    (2, 0, 0, 0, 2), (2, 1, 0, 1, 1), (2, 50, 0, 1, 1), (2, 99, 0, 1, 1), (2, 100, 0, 2, 0),
    (2, 0, 1, 0, 2), (2, 1, 1, 1, 2), (2, 50, 1, 1, 1), (2, 99, 1, 2, 1), (2, 100, 1, 2, 0),
    (3, 10, 0, 1, 2), (3, 25, 0, 1, 2), (3, 33, 0, 1, 2), (3, 34, 0, 1, 2), (3, 49, 0, 1, 2), (3, 50, 0, 2, 1),
    (3, 10, 1, 1, 3), (3, 25, 1, 1, 3), (3, 33, 1, 1, 2), (3, 34, 1, 1, 2), (3, 49, 1, 2, 2), (3, 50, 1, 2, 2),
    (10, 0, 1, 0, 10), (10, 1, 0, 1, 9), (10, 14, 0, 1, 9), (10, 15, 0, 2, 8),
]  # fmt: skip


@pytest.mark.parametrize(("replicas", "weight", "surge", "canary", "stable"), ARGO_VECTORS)
def test_approximate_weighted_counts(replicas: int, weight: int, surge: int, canary: int, stable: int) -> None:
    assert approximate_weighted_counts(replicas=replicas, weight=weight, max_weight=100, max_surge=surge) == (
        canary,
        stable,
    )


def rs(name: str, replicas: int, available: int | None = None) -> dict[str, object]:
    return {
        "metadata": {"name": name, "labels": {}},
        "spec": {"replicas": replicas},
        "status": {"availableReplicas": replicas if available is None else available, "replicas": replicas},
    }


def test_first_step_surges_then_scales_stable_down() -> None:
    # 10 replicas, 20% weight, surge 25% (3), unavailable 0: canary first grows within surge.
    counts = basic_canary_counts(
        replicas=10, weight=20, max_weight=100, max_surge=3, max_unavailable=0,
        new_rs=rs("new", 0), stable_rs=rs("stable", 10), old_rss=[],
    )  # fmt: skip
    assert (counts.new, counts.stable) == (2, 10)
    # Once the canary is available, stable may shrink to its share.
    counts = basic_canary_counts(
        replicas=10, weight=20, max_weight=100, max_surge=3, max_unavailable=0,
        new_rs=rs("new", 2), stable_rs=rs("stable", 10), old_rss=[],
    )  # fmt: skip
    assert (counts.new, counts.stable) == (2, 8)


def test_unavailable_canary_blocks_stable_scale_down_below_min_available() -> None:
    counts = basic_canary_counts(
        replicas=5, weight=40, max_weight=100, max_surge=2, max_unavailable=1,
        new_rs=rs("new", 2, available=0), stable_rs=rs("stable", 5), old_rss=[],
    )  # fmt: skip
    assert (counts.new, counts.stable) == (2, 4), "only maxUnavailable (1) pod of stable may go"


def test_old_replicasets_scale_down_before_new_or_stable() -> None:
    counts = basic_canary_counts(
        replicas=4, weight=50, max_weight=100, max_surge=1, max_unavailable=1,
        new_rs=rs("new", 1), stable_rs=rs("stable", 2), old_rss=[rs("old", 2)],
    )  # fmt: skip
    assert (counts.new, counts.stable) == (1, 2)
