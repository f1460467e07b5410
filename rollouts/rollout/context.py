"""What one reconcile works on: the observed world, the plan it returns, and the shared working state.

Argo keeps one `rolloutContext` per reconcile and spreads the functions over
it across files (sync.go, replicaset.go, service.go, pause.go, ...). We do the
same with composition: `RolloutContext` holds the state every strategy shares,
built once by `new_context()` with every field set, and the behaviour lives as
functions over it in the modules named after Argo's files. The canary and
blue-green reconciles (canary.py, bluegreen.py) keep their own state beside it.
Pure: nothing here performs I/O; actions are collected, not executed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from rollouts.api.analysis import AnalysisTemplate
from rollouts.api.errors import validation_message
from rollouts.api.nesting import nesting_error, too_deep
from rollouts.api.podhash import compute_pod_template_hash
from rollouts.api.rollout import AnalysisTemplateRef, Rollout
from rollouts.rollout import analysis as rollout_analysis
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout.actions import Action, RecordEvent, RequeueAfter, UpdateStatus
from rollouts.rollout.pause import PauseContext
from rollouts.rollout.replicasets import RS
from rollouts.rollout.status import Status, wire


@dataclass(frozen=True)
class Observed:
    """One rollout's world as the informer caches show it.

    `services` maps every Service the strategy names to the live object, or
    None when it does not exist. `pods` are the pods of the rollout's
    ReplicaSets; None means "not observed" (restart and pod metadata then wait).
    `analysis_runs` are the AnalysisRuns the rollout owns, which the analysis
    reconcile reads and creates, terminates or deletes.
    """

    rollout: dict[str, Any]
    replicasets: list[RS]
    services: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    pods: list[dict[str, Any]] | None = None
    analysis_runs: list[dict[str, Any]] = field(default_factory=list)
    analysis_templates: dict[tuple[bool, str], dict[str, Any]] = field(default_factory=dict)
    """(cluster scoped?, name) -> AnalysisTemplate / ClusterAnalysisTemplate the rollout may name."""
    workload: dict[str, Any] | None = None
    """The object spec.workloadRef names, from the caches; None when absent (or without a workloadRef)."""


@dataclass
class Plan:
    actions: list[Action]
    status: Status
    requeue_after: float | None = None
    status_changed: bool = False

    def all_actions(self) -> list[Action]:
        """The actions, then UpdateStatus when the status changed, then RequeueAfter when asked."""
        listed: list[Action] = list(self.actions)
        if self.status_changed:
            listed.append(UpdateStatus(status=wire(self.status)))
        if self.requeue_after is not None:
            listed.append(RequeueAfter(seconds=self.requeue_after))
        return listed


def plan_for(observed: Observed, status: Status, *, actions: list[Action], requeue: float | None) -> Plan:
    """The plan of a reconcile that ends with `status` (changed when it differs from the observed one)."""
    return Plan(
        actions=actions,
        status=status,
        requeue_after=requeue,
        status_changed=status != (observed.rollout.get("status") or {}),
    )


@dataclass
class RolloutContext:
    """Argo's rolloutContext: one reconcile's view and working state, shared by both strategies."""

    observed: Observed
    now: datetime
    old: Status
    """The observed status, sanitised; never written."""
    raw: dict[str, Any]
    """The rollout as a dict, with the sanitised status."""
    rollout: Rollout
    workload_generation: str | None
    replicas: int
    template: dict[str, Any]
    generation: int
    max_unavailable: int
    pod_hash: str
    all_rss: list[RS]
    new_rs: RS | None
    older_rss: list[RS]
    stable_rs: RS | None
    other_rss: list[RS]
    base: Status
    """Argo updates c.rollout.Status in place at a few points (FoundNewReplicaSet); this is that copy."""
    pause: PauseContext
    rollout_revision: int
    restarted_at: str | None
    actions: list[Action] = field(default_factory=list)
    requeue: float | None = None

    def event(self, reason: str, message: str, kind: str = "Normal") -> None:
        self.actions.append(RecordEvent(reason=reason, message=message, type=kind))

    def requeue_in(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.requeue = seconds if self.requeue is None else min(self.requeue, seconds)

    def plan(self, status: Status) -> Plan:
        return plan_for(self.observed, status, actions=self.actions, requeue=self.requeue)

    def template_lookup(self, ref: AnalysisTemplateRef) -> AnalysisTemplate | None:
        """The template `ref` names, None when absent; ValueError naming the field when it cannot be read."""
        raw = self.observed.analysis_templates.get((bool(ref.cluster_scope), ref.template_name))
        if raw is None:
            return None
        kind = "ClusterAnalysisTemplate" if ref.cluster_scope else "AnalysisTemplate"
        nested = too_deep(raw)
        if nested:
            raise ValueError(f"{kind} '{ref.template_name}': {nesting_error(nested)}")
        try:
            return AnalysisTemplate.from_dict(raw)
        except ValidationError as error:
            raise ValueError(f"{kind} '{ref.template_name}': {validation_message(error, raw)}") from None

    def retrying(self) -> bool:
        """A human retried an aborted rollout (abortedAt still recorded, abort cleared): runs start afresh."""
        return bool(self.old.get("abortedAt")) and not self.pause.is_aborted()

    def history_limits(self) -> rollout_analysis.HistoryLimits:
        return rollout_analysis.HistoryLimits(
            successful=self.rollout.spec.effective_successful_run_history_limit(),
            unsuccessful=self.rollout.spec.effective_unsuccessful_run_history_limit(),
            replicaset_hashes={rsutil.rs_hash(rs): rsutil.is_being_deleted(rs) for rs in self.all_rss},
        )


def new_context(
    observed: Observed,
    now: datetime,
    *,
    old: Status,
    raw: dict[str, Any],
    rollout: Rollout,
    workload_generation: str | None,
    max_unavailable: int,
) -> RolloutContext:
    """Argo's newRolloutContext: classify the ReplicaSets into new, stable and others."""
    spec = rollout.spec
    template: dict[str, Any] = spec.template or {}
    all_rss = [copy.deepcopy(rs) for rs in observed.replicasets]
    pod_hash = compute_pod_template_hash(template, old.get("collisionCount"))
    new_rs = rsutil.find_new_replicaset(all_rss, pod_hash=pod_hash, template=template)
    older = [rs for rs in all_rss if new_rs is None or rsutil.rs_name(rs) != rsutil.rs_name(new_rs)]
    stable_rs = rsutil.find_stable_replicaset(older, stable_hash=str(old.get("stableRS") or ""), new_rs=new_rs)
    skip = {rsutil.rs_name(rs) for rs in (new_rs, stable_rs) if rs is not None}
    return RolloutContext(
        observed=observed,
        now=now,
        old=old,
        raw=raw,
        rollout=rollout,
        workload_generation=workload_generation,
        replicas=spec.effective_replicas(),
        template=template,
        generation=int(rollout.metadata.generation or 0),
        max_unavailable=max_unavailable,
        pod_hash=pod_hash,
        all_rss=all_rss,
        new_rs=new_rs,
        older_rss=older,
        stable_rs=stable_rs,
        other_rss=[rs for rs in all_rss if rsutil.rs_name(rs) not in skip],
        base=copy.deepcopy(old),
        pause=PauseContext(old),
        rollout_revision=rsutil.revision(observed.rollout),
        restarted_at=old.get("restartedAt"),
    )
