"""What `get rollout` and `status` show, assembled from raw objects into one view model.

A pure function of (Rollout, ReplicaSets, Pods, AnalysisRuns, referenced
Deployment, now) -> a view model, so the exact numbers and labels are unit
tested without a cluster and the renderer only formats. The rules follow the
Argo plugin's client-side computation, so both CLIs show the same thing for the
same objects. Each concern has its own module and this one only puts them
together: the rollout-level lines (phase, step, weights) in
rollouts.cli.summary, the ReplicaSet/pod tree in rollouts.cli.replicaset_tree,
the AnalysisRun rows in rollouts.cli.analysis_view; `list rollouts` rows are
rollouts.cli.list_view. Objects are plain dicts as the API returns them; a
missing field never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rollouts.cli.analysis_view import AnalysisRunView, analysis_run_views
from rollouts.cli.objects import Obj, age, dict_at, int_of, metadata
from rollouts.cli.replicaset_tree import ReplicaSetView, replica_set_views
from rollouts.cli.summary import (
    canary_steps,
    current_set_weight,
    current_step_index,
    desired_replicas,
    max_traffic_weight,
    phase_icon,
    rollout_phase,
    step_label,
    strategy_name,
)


@dataclass
class ImageView:
    image: str
    tags: list[str]


@dataclass
class RolloutView:
    name: str
    namespace: str
    status: str
    message: str
    icon: str
    strategy: str
    age: str
    step: str = ""
    set_weight: str = ""
    actual_weight: str = ""
    desired: int = 0
    current: int = 0
    updated: int = 0
    ready: int = 0
    available: int = 0
    replica_sets: list[ReplicaSetView] = field(default_factory=list)
    analysis_runs: list[AnalysisRunView] = field(default_factory=list)

    def images(self) -> list[ImageView]:
        """Images of ReplicaSets that have pods, with merged tags, sorted by image."""
        merged: dict[str, set[str]] = {}
        for rs in self.replica_sets:
            if rs.replicas <= 0:
                continue
            for image in rs.images:
                merged.setdefault(image, set()).update(rs.tags)
        return [ImageView(image, sorted(tags)) for image, tags in sorted(merged.items())]

    def revisions(self) -> list[int]:
        revisions = {rs.revision for rs in self.replica_sets}
        revisions |= {run.revision for run in self.analysis_runs}
        return sorted(revisions, reverse=True)


def actual_weight(rollout: Obj, *, replica_sets: list[ReplicaSetView], set_weight: str) -> str:
    """ActualWeight of a canary: the router's canary weight, or available canary pods without a router."""
    steps = canary_steps(rollout) or []
    status = dict_at(rollout, "status")
    index = current_step_index(rollout)
    available = int_of(status.get("availableReplicas"))
    if index is None or index >= len(steps):
        return str(max_traffic_weight(rollout))
    if available <= 0:
        return "0"
    if dict_at(rollout, "spec", "strategy", "canary").get("trafficRouting") is None:
        weight = "0"
        for rs in replica_sets:
            if rs.canary:
                weight = str(rs.available * max_traffic_weight(rollout) // available)
        return weight
    weights = dict_at(status, "canary", "weights", "canary")
    return str(int_of(weights.get("weight"))) if weights else set_weight


def rollout_view(
    rollout: Obj,
    *,
    replica_sets: list[Obj],
    pods: list[Obj],
    analysis_runs: list[Obj],
    now: datetime,
    workload: Obj | None = None,
) -> RolloutView:
    meta = metadata(rollout)
    status = dict_at(rollout, "status")
    phase, message = rollout_phase(rollout)
    view = RolloutView(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        status=phase,
        message=message,
        icon=phase_icon(phase),
        strategy=strategy_name(rollout),
        age=age(meta, now),
        replica_sets=replica_set_views(rollout, replica_sets=replica_sets, pods=pods, now=now),
        analysis_runs=analysis_run_views(rollout, runs=analysis_runs, now=now),
        desired=desired_replicas(rollout),
        current=int_of(status.get("replicas")),
        updated=int_of(status.get("updatedReplicas")),
        ready=int_of(status.get("readyReplicas")),
        available=int_of(status.get("availableReplicas")),
    )
    _ = workload  # images come from ReplicaSets; the workload only matters for set image/undo
    if canary_steps(rollout) is not None:
        view.step = step_label(rollout) or ""
        view.set_weight = str(current_set_weight(rollout))
        view.actual_weight = actual_weight(rollout, replica_sets=view.replica_sets, set_weight=view.set_weight)
    return view
