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

from rollouts.api.common import IntOrString, scaled_value
from rollouts.rollout.replicasets import RS, available_replicas, creation_key, rs_name, spec_replicas, status_replicas
from rollouts.rollout.replicasets import revision as revision_number


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
    # Argo counts the stable RS here even when it is the new RS (a scale-down of a finished rollout).
    to_scale_down = _replicas_for_scale_down(new_rs, ignore_availability=not increasing) + _replicas_for_scale_down(
        stable_rs, ignore_availability=increasing
    )
    if to_scale_down <= min_available:
        return CanaryCounts(new=new_count, stable=stable_count)
    scale_down = to_scale_down - min_available
    if not increasing:
        new_count = _scale_down_count(new_rs, desired_new, scale_down, new_count)
        new_count, stable_count = _adjust_within_limits(
            drain=new_rs,
            adjust=stable_rs,
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


def resolve_fenceposts(
    *, max_surge: IntOrString | None, max_unavailable: IntOrString | None, replicas: int
) -> tuple[int, int]:
    """Argo's MaxSurge / MaxUnavailable for canary: (surge rounded up, unavailable rounded down).

    Both resolving to zero would deadlock, so unavailable becomes 1 (as for
    Deployments); unavailable never exceeds replicas, and is 0 for 0 replicas.
    """
    surge = scaled_value(max_surge, replicas, round_up=True)
    unavailable = scaled_value(max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    if replicas == 0:
        unavailable = 0
    return surge, min(unavailable, replicas)


def progress_threshold_met(
    *, threshold_type: str | None, threshold_value: int | None, rs: RS | None, desired: int
) -> bool:
    """Argo's ReplicaProgressThresholdMet: all desired pods available, or the spec's replicaProgressThreshold."""
    if threshold_type is None or threshold_value is None or rs is None or threshold_value < 0:
        return rs is not None and spec_replicas(rs) == desired and available_replicas(rs) == desired
    if threshold_type == "Percent":
        if desired == 0:
            return True
        current = available_replicas(rs) / desired * 100
        return current >= threshold_value or abs(current - threshold_value) <= 1e-10
    return available_replicas(rs) >= threshold_value


def at_desired_counts(
    *,
    counts: CanaryCounts,
    new_rs: RS | None,
    stable_rs: RS | None,
    other_rss: list[RS],
    threshold_type: str | None = None,
    threshold_value: int | None = None,
) -> bool:
    """Argo's AtDesiredReplicaCountsForCanary without traffic routing.

    `counts` is this reconcile's CalculateReplicaCountsForBasicCanary result:
    the desired canary pods are available (or replicaProgressThreshold of
    them), the stable RS has exactly its share created, and no other RS has an
    available pod left.
    """
    if not progress_threshold_met(
        threshold_type=threshold_type, threshold_value=threshold_value, rs=new_rs, desired=counts.new
    ):
        return False
    if stable_rs is None or spec_replicas(stable_rs) != counts.stable or status_replicas(stable_rs) != counts.stable:
        return False
    return sum(available_replicas(rs) for rs in other_rss) == 0


def cleanup_unhealthy_targets(other_rss: list[RS]) -> dict[str, int]:
    """Argo's cleanupUnhealthyReplicas: other RSs drop their unavailable pods first (oldest first)."""
    targets: dict[str, int] = {}
    for rs in sorted(other_rss, key=creation_key):
        if spec_replicas(rs) == 0 or spec_replicas(rs) == available_replicas(rs):
            continue
        if available_replicas(rs) < spec_replicas(rs):
            targets[rs_name(rs)] = available_replicas(rs)
    return targets


def scale_down_other_targets(
    *, other_rss: list[RS], all_rss: list[RS], replicas: int, max_unavailable: int
) -> dict[str, int]:
    """Argo's scaleDownOldReplicaSetsForCanary (basic canary): new spec.replicas for other RSs.

    Unhealthy pods go first (they cost no availability); then available ones,
    highest revision first, only as far as `replicas - maxUnavailable` allows.
    """
    targets = cleanup_unhealthy_targets(other_rss)
    available = sum(available_replicas(rs) for rs in all_rss)
    max_scale_down = available - (replicas - max_unavailable)
    if max_scale_down <= 0:
        return targets
    by_revision = sorted(other_rss, key=revision_number, reverse=True)
    for rs in by_revision:
        if max_scale_down <= 0:
            break
        current = targets.get(rs_name(rs), spec_replicas(rs))
        if current == 0:
            continue
        desired = current - max_scale_down if current > max_scale_down else 0
        if desired == current:
            continue
        targets[rs_name(rs)] = desired
        max_scale_down -= current - desired
    return targets
