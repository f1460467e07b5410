"""spec.restartAt: which pods to replace now, as Argo's RolloutPodRestarter decides.

A restart must never cost more availability than an update would: at most
max(maxUnavailable, 1) pods are down at a time, counted against the larger of
spec.replicas and the pods the ReplicaSets ask for. Pods created at or after
restartAt are already restarted. Pure: pods are raw dicts, time is passed in;
`reconcile_restart()` turns the decision into DeletePod actions of a reconcile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.timestamps import parse_time
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout.actions import DeletePod
from rollouts.rollout.context import RolloutContext

RESTART_POD_CHECK_SECONDS = 30.0

Pod = dict[str, Any]


def needs_restart(*, restart_at: str | None, restarted_at: str | None, now: datetime) -> bool:
    """Argo's NeedsRestart: restartAt has passed and is not yet recorded as done."""
    wanted = parse_time(restart_at)
    if wanted is None:
        return False
    done = parse_time(restarted_at)
    if done is not None and done == wanted:
        return False
    return now > wanted


def pod_available(pod: Pod, *, min_ready_seconds: int, now: datetime) -> bool:
    """podutil.IsPodAvailable, and not being deleted."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") != "Ready":
            continue
        if condition.get("status") != "True":
            return False
        if min_ready_seconds == 0:
            return True
        since = parse_time(condition.get("lastTransitionTime"))
        return since is not None and since + timedelta(seconds=min_ready_seconds) < now
    return False


@dataclass(frozen=True)
class RestartDecision:
    to_delete: list[Pod]
    remaining: int  # pods older than restartAt that still need replacing after this batch


def plan_restart(
    *,
    pods: list[Pod],
    restart_at: str,
    replicas: int,
    total_spec_replicas: int,
    max_unavailable: int,
    min_ready_seconds: int,
    now: datetime,
) -> RestartDecision:
    """The batch of pods to evict now (pods in name order, as the API server lists them)."""
    wanted = parse_time(restart_at)
    assert wanted is not None
    available = sum(1 for pod in pods if pod_available(pod, min_ready_seconds=min_ready_seconds, now=now))
    concurrent = max(max_unavailable, 1)
    can_restart = available - (max(replicas, total_spec_replicas) - concurrent)
    to_delete: list[Pod] = []
    needing = 0
    for pod in sorted(pods, key=lambda p: str((p.get("metadata") or {}).get("name", ""))):
        created = parse_time((pod.get("metadata") or {}).get("creationTimestamp"))
        if created is not None and created >= wanted:
            continue
        needing += 1
        if can_restart <= 0 or (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        to_delete.append(pod)
        can_restart -= 1
    return RestartDecision(to_delete=to_delete, remaining=needing - len(to_delete))


def reconcile_restart(ctx: RolloutContext) -> int:
    """Argo's RolloutPodRestarter: replace pods older than spec.restartAt in safe batches; how many now."""
    restart_at = ctx.rollout.spec.restart_at
    wanted = parse_time(restart_at)
    if wanted is not None and ctx.now < wanted:
        ctx.requeue_in((wanted - ctx.now).total_seconds())
    if not needs_restart(restart_at=restart_at, restarted_at=ctx.old.get("restartedAt"), now=ctx.now):
        return 0
    assert restart_at is not None
    if ctx.observed.pods is None:
        return 0
    uids = {rsutil.rs_uid(rs) for rs in ctx.all_rss}
    pods = [
        pod
        for pod in ctx.observed.pods
        if any(ref.get("uid") in uids for ref in (pod.get("metadata") or {}).get("ownerReferences") or [])
    ]
    decision = plan_restart(
        pods=pods,
        restart_at=restart_at,
        replicas=ctx.replicas,
        total_spec_replicas=rsutil.total_spec(ctx.all_rss),
        max_unavailable=ctx.max_unavailable,
        min_ready_seconds=ctx.rollout.spec.effective_min_ready_seconds(),
        now=ctx.now,
    )
    for pod in decision.to_delete:
        meta = pod.get("metadata") or {}
        ctx.actions.append(DeletePod(name=str(meta.get("name")), uid=str(meta.get("uid") or "")))
    if decision.remaining:
        ctx.requeue_in(RESTART_POD_CHECK_SECONDS)
    else:
        ctx.restarted_at = restart_at
    return len(decision.to_delete)
