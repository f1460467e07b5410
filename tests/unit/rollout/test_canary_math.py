"""Canary replica math matches Argo Rollouts' for the same inputs.

The vectors are the cases of Argo's own table tests (utils/replicaset/canary_test.go:
TestApproximateWeightedNewStableReplicaCounts and, for the basic canary without
traffic routing, TestCalculateReplicaCountsForCanary), restated as our data.
"""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.rollout.canary_math import (
    CanaryCounts,
    approximate_weighted_counts,
    at_desired_counts,
    basic_canary_counts,
    progress_threshold_met,
    resolve_fenceposts,
    scale_down_other_targets,
)

# (replicas, weight, maxWeight, maxSurge) -> (canary, stable)
APPROXIMATION_VECTORS = [
    (0, 0, 100, 0, 0, 0), (0, 50, 100, 0, 0, 0), (0, 100, 100, 0, 0, 0), (0, 0, 100, 1, 0, 0),
    (0, 50, 100, 1, 0, 0), (0, 100, 100, 1, 0, 0), (1, 0, 100, 0, 0, 1), (1, 1, 100, 0, 0, 1),
    (1, 49, 100, 0, 0, 1), (1, 50, 100, 0, 1, 0), (1, 99, 100, 0, 1, 0), (1, 100, 100, 0, 1, 0),
    (1, 0, 100, 1, 0, 1), (1, 1, 100, 1, 1, 1), (1, 49, 100, 1, 1, 1), (1, 50, 100, 1, 1, 1),
    (1, 99, 100, 1, 1, 1), (1, 100, 100, 1, 1, 0), (2, 0, 100, 0, 0, 2), (2, 1, 100, 0, 1, 1),
    (2, 50, 100, 0, 1, 1), (2, 99, 100, 0, 1, 1), (2, 100, 100, 0, 2, 0), (2, 0, 100, 1, 0, 2),
    (2, 1, 100, 1, 1, 2), (2, 50, 100, 1, 1, 1), (2, 99, 100, 1, 2, 1), (2, 100, 100, 1, 2, 0),
    (3, 10, 100, 0, 1, 2), (3, 25, 100, 0, 1, 2), (3, 33, 100, 0, 1, 2), (3, 34, 100, 0, 1, 2),
    (3, 49, 100, 0, 1, 2), (3, 50, 100, 0, 2, 1), (3, 10, 100, 1, 1, 3), (3, 25, 100, 1, 1, 3),
    (3, 33, 100, 1, 1, 2), (3, 34, 100, 1, 1, 2), (3, 49, 100, 1, 2, 2), (3, 50, 100, 1, 2, 2),
    (10, 0, 100, 1, 0, 10), (10, 1, 100, 0, 1, 9), (10, 14, 100, 0, 1, 9), (10, 15, 100, 0, 2, 8),
    (10, 16, 100, 0, 2, 8), (10, 99, 100, 0, 9, 1), (10, 100, 100, 1, 10, 0), (10, 0, 100, 1, 0, 10),
    (10, 1, 100, 1, 1, 10), (10, 18, 100, 1, 2, 9), (10, 19, 100, 1, 2, 9), (10, 20, 100, 1, 2, 8),
    (10, 23, 100, 1, 2, 8), (10, 24, 100, 1, 3, 8), (10, 25, 100, 1, 3, 8), (10, 99, 100, 1, 10, 1),
    (10, 100, 100, 1, 10, 0),
]  # fmt: skip


@pytest.mark.parametrize(("replicas", "weight", "max_weight", "surge", "canary", "stable"), APPROXIMATION_VECTORS)
def test_approximate_weighted_counts(
    replicas: int, weight: int, max_weight: int, surge: int, canary: int, stable: int
) -> None:
    got = approximate_weighted_counts(replicas=replicas, weight=weight, max_weight=max_weight, max_surge=surge)
    assert got == (canary, stable)


# (replicas, setWeight, maxSurge, maxUnavailable, promoteFull, abort,
#  stable (spec, available), canary (spec, available), older RS (spec, available) | None) -> (canary, stable)
BASIC_CANARY_VECTORS = [
    # Do not add extra RSs in scaleDownCount when .Spec.Replica < AvailableReplicas
    (10, 100, 3, 0, False, False, (7, 8), (6, 3), None, (6, 7)),
    (10, 20, 2, 0, False, False, (10, 10), (0, 0), None, (2, 10)),  # Use max surge int to scale up canary
    (10, 20, '20%', 0, False, False, (10, 10), (0, 0), None, (2, 10)),  # Use max surge percentage to scale up canary
    (10, 20, '20%', 0, False, False, (10, 10), (2, 2), None, (2, 8)),  # Scale down extra stable replicas
    (10, 30, 2, 0, False, False, (10, 10), (0, 0), None, (2, 10)),  # Do not go past max surge
    (10, 20, 0, 2, False, False, (10, 10), (0, 0), None, (0, 8)),  # Use max unavailable int to scale down stableRS
    (10, 20, 0, '20%', False, False, (10, 10), (0, 0), None, (0, 8)),  # Use max surge percentage to scale down stableRS
    (10, 30, 0, 2, False, False, (10, 10), (0, 0), None, (0, 8)),  # Do not go past max unavailable
    (10, 50, 2, 1, False, False, (10, 10), (0, 0), None, (2, 9)),  # Use Max Surge and Max Unavailable
    (10, 0, 1, 1, False, False, (10, 10), (1, 1), None, (0, 10)),  # Scale canaryRS to zero on setWeight of 0%
    (10, 100, 1, 1, False, False, (1, 1), (10, 10), None, (10, 0)),  # Scale stable to zero on setWeight of 100%
    (1, 20, 1, 0, False, False, (1, 1), (0, 0), None, (1, 1)),  # Do not scale canaryRS down to zero on non-zero weight
    (1, 90, 1, 0, False, False, (1, 1), (0, 0), None, (1, 1)),  # Do not scale canaryRS down to zero on non-100 weight
    (1, 49, 0, 1, False, False, (1, 1), (0, 0), None, (0, 1)),  # Scale canaryRS to zero on <50 weight without surge
    # Scale stableRS down to zero on >=50 weight without surge
    (1, 51, 0, 1, False, False, (1, 1), (0, 0), None, (0, 0)),
    # Scale canaryRS to one on >=50 weight without surge and stable replicas
    (1, 51, 0, 1, False, False, (0, 0), (0, 0), None, (1, 0)),
    (10, 30, 1, 0, False, False, (1, 1), (0, 0), (3, 3), (1, 7)),  # Scale up Stable before canaryRS
    (10, 30, 0, 3, False, False, (8, 5), (4, 4), None, (3, 7)),  # Scale down canaryRS and stable
    (10, 100, 1, 0, False, False, (10, 2), (10, 8), None, (9, 2)),  # Scale down stable and canary available
    # Do not scale down canaryRS or stable when older RS count >= scaleDownCount
    (10, 30, 0, 1, False, False, (8, 6), (4, 2), (3, 3), (4, 8)),
    # Do not round past maxSurge with uneven setWeight divisor
    (10, 5, 0, 1, False, False, (10, 10), (0, 0), None, (0, 9)),
    # Do not round past maxSurge with uneven setWeight divisor (part 2)
    (10, 5, 0, 1, False, False, (9, 9), (0, 0), None, (1, 9)),
    # Use maxUnavailable of 1 when percentage of maxUnavailable and maxSurge result in 0 replicas
    (10, 10, '0%', '0%', False, False, (10, 10), (0, 0), None, (0, 9)),
    # honor maxSurge during scale up when stableRS unavailable
    (4, 100, 1, 0, False, False, (4, 1), (0, 0), None, (1, 4)),
    # scale down to maxunavailable without exceeding maxSurge
    (3, 99, 0, 2, False, False, (3, 3), (0, 0), None, (0, 1)),
    # scale down to maxunavailable without exceeding maxSurge (part 2)
    (3, 99, 0, 2, False, False, (1, 1), (0, 0), None, (2, 1)),
    # honor maxUnavailable during scale down stableRS unavailable
    (4, 100, 1, 0, False, False, (4, 1), (1, 1), None, (1, 3)),
    # honor maxUnavailable when aborting or reducing weight part 1
    (4, 0, 1, 0, False, False, (0, 0), (4, 4), None, (4, 1)),
    # honor maxUnavailable when aborting or reducing weight part 2
    (4, 0, 1, 0, False, False, (1, 0), (4, 4), None, (4, 1)),
    # honor maxUnavailable when aborting or reducing weight part 3
    (4, 0, 1, 0, False, False, (1, 1), (4, 4), None, (3, 1)),
    (4, 1, 4, 4, True, False, (4, 4), (0, 0), None, (4, 0)),  # promote full does not consider weight
    (4, 1, 3, 0, True, False, (4, 4), (0, 0), None, (3, 4)),  # promote full still honors maxSurge/maxUnavailable
]  # fmt: skip


def rs(
    name: str, replicas: int, available: int | None = None, *, created: str = "", revision: int = 1
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "labels": {"rollouts-pod-template-hash": name},
            "creationTimestamp": created,
            "annotations": {"rollout.argoproj.io/revision": str(revision)},
        },
        "spec": {"replicas": replicas},
        "status": {"availableReplicas": replicas if available is None else available, "replicas": replicas},
    }


@pytest.mark.parametrize(
    ("replicas", "weight", "surge", "unavailable", "promote_full", "abort", "stable", "canary", "older", "expected"),
    BASIC_CANARY_VECTORS,
)
def test_basic_canary_counts_match_argo(
    replicas: int,
    weight: int,
    surge: int | str,
    unavailable: int | str,
    promote_full: bool,
    abort: bool,
    stable: tuple[int, int],
    canary: tuple[int, int],
    older: tuple[int, int] | None,
    expected: tuple[int, int],
) -> None:
    max_surge, max_unavailable = resolve_fenceposts(max_surge=surge, max_unavailable=unavailable, replicas=replicas)
    effective_weight = 100 if promote_full else (0 if abort else weight)
    counts = basic_canary_counts(
        replicas=replicas,
        weight=effective_weight,
        max_weight=100,
        max_surge=max_surge,
        max_unavailable=max_unavailable,
        new_rs=rs("canary", *canary),
        stable_rs=rs("stable", *stable),
        old_rss=[rs("older", *older)] if older else [],
    )
    assert (counts.new, counts.stable) == expected


@pytest.mark.parametrize(
    ("surge", "unavailable", "replicas", "expected"),
    [
        ("25%", "25%", 10, (3, 2)),
        ("25%", "25%", 5, (2, 1)),
        ("25%", "25%", 1, (1, 0)),
        ("0%", "0%", 10, (0, 1)),  # both zero would deadlock: unavailable becomes 1
        (0, 0, 0, (0, 0)),
        (1, 20, 5, (1, 5)),  # never more unavailable than replicas
    ],
)
def test_fenceposts(surge: int | str, unavailable: int | str, replicas: int, expected: tuple[int, int]) -> None:
    assert resolve_fenceposts(max_surge=surge, max_unavailable=unavailable, replicas=replicas) == expected


def test_first_step_surges_then_scales_stable_down() -> None:
    def counts(canary_spec: int) -> CanaryCounts:
        return basic_canary_counts(
            replicas=10, weight=20, max_weight=100, max_surge=3, max_unavailable=0,
            new_rs=rs("new", canary_spec), stable_rs=rs("stable", 10), old_rss=[],
        )  # fmt: skip

    assert counts(0) == CanaryCounts(new=2, stable=10)
    assert counts(2) == CanaryCounts(new=2, stable=8), "once the canary is available the stable shrinks"


def test_at_desired_counts_needs_available_canary_created_stable_and_no_other_pods() -> None:
    done = CanaryCounts(new=2, stable=8)
    assert at_desired_counts(counts=done, new_rs=rs("new", 2), stable_rs=rs("stable", 8), other_rss=[])
    assert not at_desired_counts(counts=done, new_rs=rs("new", 2, 1), stable_rs=rs("stable", 8), other_rss=[])
    assert not at_desired_counts(counts=done, new_rs=rs("new", 2), stable_rs=rs("stable", 9), other_rss=[])
    assert not at_desired_counts(counts=done, new_rs=rs("new", 2), stable_rs=None, other_rss=[])
    assert not at_desired_counts(
        counts=done, new_rs=rs("new", 2), stable_rs=rs("stable", 8), other_rss=[rs("old", 1)]
    ), "an available pod of an intermediate revision still serves traffic"


def test_other_replicasets_lose_unhealthy_pods_first_then_newest_revision_first() -> None:
    other = [
        rs("v1", 3, 3, created="2026-01-01T00:00:01Z", revision=1),
        rs("v2", 4, 1, created="2026-01-01T00:00:02Z", revision=2),
    ]
    new = rs("v3", 5, 5, revision=3)
    # 9 available, min available 10 - 2 = 8: one available pod may go after v2's three unready ones.
    targets = scale_down_other_targets(other_rss=other, all_rss=[*other, new], replicas=10, max_unavailable=2)
    assert targets == {"v2": 0}
    targets = scale_down_other_targets(
        other_rss=other, all_rss=[*other, rs("v3", 8, 8)], replicas=10, max_unavailable=2
    )
    assert targets == {"v2": 0, "v1": 0}


@pytest.mark.parametrize(
    ("kind", "value", "available", "desired", "met"),
    [
        ("Percent", 90, 9, 10, True),
        ("Pod", 9, 9, 10, True),
        ("Percent", 90, 8, 10, False),
        ("Pod", 8, 7, 10, False),
        ("Pod", -100, 10, 10, True),  # a negative threshold means every desired pod
        (None, None, 10, 10, True),
        (None, None, 9, 10, False),
        ("Percent", 100, 100, 10, True),
        ("Percent", 90, 0, 0, True),
    ],
)
def test_replica_progress_threshold(
    kind: str | None, value: int | None, available: int, desired: int, met: bool
) -> None:
    replica_set = rs("new", desired, available)
    got = progress_threshold_met(threshold_type=kind, threshold_value=value, rs=replica_set, desired=desired)
    assert got is met
    assert not progress_threshold_met(threshold_type="Pod", threshold_value=5, rs=None, desired=10)
