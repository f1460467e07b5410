"""One row of `list rollouts` (Argo's columns), computed from a Rollout alone.

The columns reuse the rollout-summary rules (strategy, step, set weight,
phase) so a rollout reads the same in `list` as in `get`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rollouts.cli.objects import Obj, dict_at, int_of, metadata
from rollouts.cli.summary import (
    canary_steps,
    current_set_weight,
    desired_replicas,
    rollout_phase,
    step_label,
    strategy_name,
)


@dataclass(frozen=True)
class ListRow:
    """One line of `list rollouts` (Argo's columns)."""

    namespace: str
    name: str
    strategy: str
    status: str
    step: str
    set_weight: str
    ready: str
    desired: int
    up_to_date: int
    available: int


def list_row(rollout: Obj) -> ListRow:
    meta = metadata(rollout)
    status = dict_at(rollout, "status")
    step, set_weight = "-", "-"
    if canary_steps(rollout) is not None:
        step = step_label(rollout) or "-"
        set_weight = str(current_set_weight(rollout))
    return ListRow(
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        strategy=strategy_name(rollout),
        status=rollout_phase(rollout)[0],
        step=step,
        set_weight=set_weight,
        ready=f"{int_of(status.get('readyReplicas'))}/{int_of(status.get('replicas'))}",
        desired=desired_replicas(rollout),
        up_to_date=int_of(status.get("updatedReplicas")),
        available=int_of(status.get("availableReplicas")),
    )
