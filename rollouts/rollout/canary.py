"""Canary replica math without traffic routing: how many pods the new and stable RS get.

This reproduces Argo Rollouts' CalculateReplicaCountsForBasicCanary so that,
for the same replicas, weight, maxSurge and maxUnavailable, our controller
scales exactly as Argo's would. A canary without steps uses the same math with
weight 100, which makes it behave like a Deployment rolling update. Pure
functions over ints (and RS dicts for their counts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rollouts.rollout.replicasets import RS, available_replicas, rs_name, spec_replicas


def _tied(weight: int, max_weight: int, total: int) -> bool:
    fraction = math.modf(total * (weight / max_weight))[0]
    return fraction == 0.5


def _weight_delta(weight: int, max_weight: int, canary: int, total: int) -> float:
    return abs(canary * max_weight / total - weight)


def approximate_weighted_counts(*, replicas: int, weight: int, max_weight: int, max_surge: int) -> tuple[int, int]:
    """(canary, stable) counts whose ratio best approximates weight/max_weight."""
    if replicas == 0:
        return 0, 0
    ceil_count = math.ceil(replicas * weight / max_weight)
    floor_count = math.floor(replicas * weight / max_weight)
    tied = _tied(weight, max_weight, replicas)
    zero_allowed = weight in (0, max_weight) or (replicas == 1 and max_surge == 0)
    options: list[tuple[int, int]] = []
    if ceil_count < replicas or zero_allowed:
        options.append((ceil_count, replicas))
    if not tied and (floor_count != 0 or zero_allowed):
        options.append((floor_count, replicas))
    if max_surge > 0:
        options.append((ceil_count, replicas + 1))
        if not _tied(weight, max_weight, replicas + 1) and (floor_count != 0 or zero_allowed):
            options.append((floor_count, replicas + 1))
    if not options:
        return 0, replicas
    best = options[0]
    best_delta = _weight_delta(weight, max_weight, *best)
    for option in options[1:]:
        delta = _weight_delta(weight, max_weight, *option)
        if delta < best_delta:
            best, best_delta = option, delta
    return best[0], best[1] - best[0]


def _replicas_for_scale_down(rs: RS | None, *, ignore_availability: bool) -> int:
    if rs is None:
        return 0
    if spec_replicas(rs) < available_replicas(rs):
        return spec_replicas(rs)
    return spec_replicas(rs) if ignore_availability else available_replicas(rs)


def _scale_down_count(drain: RS | None, desired: int, scale_down: int, current: int) -> int:
    if drain is not None and spec_replicas(drain) > desired:
        return max(desired, spec_replicas(drain) - scale_down)
    return current


def _adjust_within_limits(
    *,
    drain: RS | None,
    adjust: RS | None,
    drain_count: int,
    adjust_count: int,
    max_allowed: int,
    min_available: int,
) -> tuple[int, int]:
    over_limit = max(0, adjust_count + drain_count - max_allowed)
    total_available = min(available_replicas(drain), drain_count) if drain is not None else 0
    if adjust is not None:
        adjust_count -= over_limit
        total_available += min(available_replicas(adjust), adjust_count)
        extra_available = max(0, available_replicas(adjust) - adjust_count)
        still_needed = max(0, min_available - total_available)
        adjust_count += min(extra_available, still_needed)
        over_limit = max(0, adjust_count + drain_count - max_allowed)
        drain_count -= over_limit
    return drain_count, adjust_count


@dataclass(frozen=True)
class CanaryCounts:
    new: int
    stable: int


def basic_canary_counts(
    *,
    replicas: int,
    weight: int,
    max_weight: int,
    max_surge: int,
    max_unavailable: int,
    new_rs: RS | None,
    stable_rs: RS | None,
    old_rss: list[RS],
) -> CanaryCounts:
    """Target spec.replicas of the new and stable RS for this reconcile."""
    desired_new, desired_stable = approximate_weighted_counts(
        replicas=replicas, weight=weight, max_weight=max_weight, max_surge=max_surge
    )
    new_count = spec_replicas(new_rs) if new_rs is not None else 0
    scale_stable = stable_rs is not None and (new_rs is None or rs_name(new_rs) != rs_name(stable_rs))
    stable_count = 0
    if scale_stable:
        stable_count = spec_replicas(stable_rs)
    else:
        desired_new, desired_stable = replicas, 0
    max_allowed = replicas + max_surge
    all_rss = [*old_rss, *([new_rs] if new_rs is not None else [])]
    if scale_stable and stable_rs is not None:
        all_rss.append(stable_rs)
    scale_up = max_allowed - sum(spec_replicas(rs) for rs in all_rss)

    if scale_stable and stable_rs is not None and spec_replicas(stable_rs) < desired_stable and scale_up > 0:
        if spec_replicas(stable_rs) + scale_up < desired_stable:
            stable_count = spec_replicas(stable_rs) + scale_up
            scale_up = 0
        else:
            stable_count = desired_stable
            scale_up -= desired_stable - spec_replicas(stable_rs)

    if new_rs is not None and spec_replicas(new_rs) < desired_new and scale_up > 0:
        new_count = min(spec_replicas(new_rs) + scale_up, desired_new)

    if sum(spec_replicas(rs) for rs in old_rss) > 0:
        # Older ReplicaSets scale down first.
        return CanaryCounts(new=new_count, stable=stable_count)

    min_available = replicas - max_unavailable
    increasing = new_rs is None or desired_new >= spec_replicas(new_rs)
    to_scale_down = _replicas_for_scale_down(new_rs, ignore_availability=not increasing) + _replicas_for_scale_down(
        stable_rs if scale_stable else None, ignore_availability=increasing
    )
    if to_scale_down <= min_available:
        return CanaryCounts(new=new_count, stable=stable_count)
    scale_down = to_scale_down - min_available
    if not increasing:
        new_count = _scale_down_count(new_rs, desired_new, scale_down, new_count)
        new_count, stable_count = _adjust_within_limits(
            drain=new_rs,
            adjust=stable_rs if scale_stable else None,
            drain_count=new_count,
            adjust_count=stable_count,
            max_allowed=max_allowed,
            min_available=min_available,
        )
    elif scale_stable:
        stable_count = _scale_down_count(stable_rs, desired_stable, scale_down, stable_count)
        stable_count, new_count = _adjust_within_limits(
            drain=stable_rs,
            adjust=new_rs,
            drain_count=stable_count,
            adjust_count=new_count,
            max_allowed=max_allowed,
            min_available=min_available,
        )
    return CanaryCounts(new=new_count, stable=stable_count)


def at_desired_counts(
    *,
    replicas: int,
    weight: int,
    max_weight: int,
    max_surge: int,
    new_rs: RS | None,
    stable_rs: RS | None,
    old_rss: list[RS],
) -> bool:
    """Argo's AtDesiredReplicaCountsForCanary for basic canary: the step's counts are reached."""
    desired_new, desired_stable = approximate_weighted_counts(
        replicas=replicas, weight=weight, max_weight=max_weight, max_surge=max_surge
    )
    if new_rs is None or spec_replicas(new_rs) != desired_new or available_replicas(new_rs) != desired_new:
        return False
    if (
        stable_rs is not None
        and rs_name(stable_rs) != rs_name(new_rs)
        and (spec_replicas(stable_rs) != desired_stable or available_replicas(stable_rs) < desired_stable)
    ):
        return False
    return sum(spec_replicas(rs) for rs in old_rss) == 0


def old_replicaset_scale_downs(
    *, replicas: int, max_unavailable: int, old_rss: list[RS], all_rss: list[RS]
) -> dict[str, int]:
    """New spec.replicas for old (neither new nor stable) RSs, never dropping below min available.

    Unavailable pods of old RSs go first (they cost no availability), then
    available ones, oldest RS first, as far as `replicas - maxUnavailable`
    allows (Argo's cleanupUnhealthyReplicas + scaleDownOldReplicaSetsForCanary).
    """
    targets: dict[str, int] = {}
    for rs in sorted(old_rss, key=lambda r: (str(r["metadata"].get("creationTimestamp") or ""), rs_name(r))):
        unhealthy = spec_replicas(rs) - available_replicas(rs)
        if unhealthy > 0:
            targets[rs_name(rs)] = spec_replicas(rs) - unhealthy
    total_available = sum(available_replicas(rs) for rs in all_rss)
    budget = total_available - (replicas - max_unavailable)
    for rs in sorted(old_rss, key=lambda r: (str(r["metadata"].get("creationTimestamp") or ""), rs_name(r))):
        current = targets.get(rs_name(rs), spec_replicas(rs))
        if current == 0 or budget <= 0:
            continue
        cut = min(current, budget)
        targets[rs_name(rs)] = current - cut
        budget -= cut
    return {name: count for name, count in targets.items()}
