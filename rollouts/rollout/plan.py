"""decide(): observed world + now -> actions + new status, for canary (and rolling) rollouts.

The functional core of the rollout controller (DESIGN.md §3). It reads the
Rollout, the ReplicaSets it owns, the Services it names and (for restarts and
ephemeral metadata) their pods, and returns what should change, without I/O
and with time passed in. All state it needs lives in `.status`, labels and
annotations, so a controller restarted anywhere carries on correctly.

The shape follows Argo Rollouts' reconcile (rollout/context.go, canary.go,
sync.go, pause.go, replicaset.go, restart.go, service.go) step for step,
because the *order* is part of the behaviour users and Argo's plugin see: one
ReplicaSet is scaled per reconcile (stable, then new, then older ones), a new
revision first only resets the status, a pause condition is recorded before
the Paused condition follows, and so on. Each early return of Argo is an early
return here. A canary without steps is the rolling update (weight 100 under
maxSurge / maxUnavailable).

Hooks left for later issues: blue-green (`_blue_green`), analysis and
experiment steps (`_analysis_step_completed`; such a step waits), traffic
routing (counts are the basic canary's).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from rollouts.api.analysis import AnalysisTemplate
from rollouts.api.common import InvalidValueError, parse_duration
from rollouts.api.constants import (
    CONDITION_AVAILABLE,
    CONDITION_COMPLETED,
    CONDITION_HEALTHY,
    CONDITION_INVALID_SPEC,
    CONDITION_PAUSED,
    CONDITION_PROGRESSING,
    CONDITION_REPLICA_FAILURE,
    DESIRED_REPLICAS_ANNOTATION,
    PAUSE_CANARY_STEP,
    PAUSE_INCONCLUSIVE_ANALYSIS,
    POD_TEMPLATE_HASH_LABEL,
    REVISION_ANNOTATION,
    SCALE_DOWN_DEADLINE_ANNOTATION,
)
from rollouts.api.phases import calculate_rollout_phase, restart_pending, rollout_completed
from rollouts.api.podhash import compute_pod_template_hash
from rollouts.api.rollout import AnalysisTemplateRef, CanaryStep, CanaryStrategy, Rollout
from rollouts.api.timestamps import format_time, parse_time
from rollouts.api.validation import validate_rollout
from rollouts.rollout import analysis as rollout_analysis
from rollouts.rollout import canary_math
from rollouts.rollout import conditions as cond
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout import restart as restarts
from rollouts.rollout.actions import (
    Action,
    CreateReplicaSet,
    DeletePod,
    DeleteReplicaSet,
    PatchPod,
    PatchReplicaSet,
    PatchRolloutMetadata,
    PatchServiceSelector,
    RecordEvent,
    RequeueAfter,
    ScaleReplicaSet,
    UpdateStatus,
)
from rollouts.rollout.replicasets import RS

MAX_WEIGHT = 100
INVALID_SPEC_REQUEUE_SECONDS = 20.0
EXPERIMENT_NAME_ANNOTATION = "experiment.argoproj.io/name"
# Status keys that only the analysis / experiment / traffic code writes; carried over until then.
_CANARY_CARRIED = (
    "currentStepAnalysisRunStatus",
    "currentBackgroundAnalysisRunStatus",
    "currentExperiment",
    "weights",
    "stablePingPong",
    "stepPluginStatuses",
)


@dataclass(frozen=True)
class Observed:
    """One rollout's world as the informer caches show it.

    `services` maps every Service the strategy names to the live object, or
    None when it does not exist. `pods` are the pods of the rollout's
    ReplicaSets; None means "not observed" (restart and pod metadata then wait).
    `analysis_runs` are the AnalysisRuns the rollout owns (read by the analysis
    hook once the analysis issue lands; unused until then).
    """

    rollout: dict[str, Any]
    replicasets: list[RS]
    services: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    pods: list[dict[str, Any]] | None = None
    analysis_runs: list[dict[str, Any]] = field(default_factory=list)
    analysis_templates: dict[tuple[bool, str], dict[str, Any]] = field(default_factory=dict)
    """(cluster scoped?, name) -> AnalysisTemplate / ClusterAnalysisTemplate the rollout may name."""
    workload_generation: str | None = None
    """For a workloadRef rollout resolved by rollout/workload.py: the referenced object's generation."""
    workload_error: str = ""
    """For a workloadRef rollout whose reference cannot be resolved: why (an InvalidSpec message)."""


@dataclass
class Plan:
    actions: list[Action]
    status: dict[str, Any]
    requeue_after: float | None = None
    status_changed: bool = False

    def all_actions(self) -> list[Action]:
        """The actions, then UpdateStatus when the status changed, then RequeueAfter when asked."""
        listed: list[Action] = list(self.actions)
        if self.status_changed:
            listed.append(UpdateStatus(status=self.status))
        if self.requeue_after is not None:
            listed.append(RequeueAfter(seconds=self.requeue_after))
        return listed


def decide(observed: Observed, now: datetime) -> Plan:
    """Pure: the same observed state and `now` always give the same plan."""
    strategy = (observed.rollout.get("spec") or {}).get("strategy")
    if isinstance(strategy, dict) and strategy.get("blueGreen") is not None and strategy.get("canary") is None:
        # Imported here: bluegreen.py builds on this module's _Reconcile.
        from rollouts.rollout.bluegreen import BlueGreenReconcile

        return BlueGreenReconcile(observed, now).run()
    return _Reconcile(observed, now).run()


class _PauseContext:
    """Argo's pauseContext: pause/abort changes collected during a reconcile, applied to the new status."""

    def __init__(self, old: dict[str, Any]) -> None:
        self.old = old
        self.add_reasons: list[str] = []
        self.remove_reasons: list[str] = []
        self.clear = False
        self.add_abort = False
        self.remove_abort = False
        self.abort_message = ""

    def is_aborted(self) -> bool:
        if self.remove_abort:
            return False
        return self.add_abort or bool(self.old.get("abort"))

    def has_add_pause(self) -> bool:
        return bool(self.add_reasons)

    def apply(self, status: dict[str, Any], now: datetime) -> None:
        for key in ("abort", "abortedAt", "pauseConditions", "controllerPause"):
            status.pop(key, None)
        if self.add_abort or (not self.remove_abort and self.old.get("abort")):
            status["abort"] = True
            status["abortedAt"] = self.old.get("abortedAt") or format_time(now)
            return
        if self.clear:
            return
        controller_pause = bool(self.old.get("controllerPause"))
        kept: list[dict[str, Any]] = []
        present: set[str] = set()
        for pause in self.old.get("pauseConditions") or []:
            if pause.get("reason") not in self.remove_reasons:
                kept.append(pause)
            present.add(str(pause.get("reason")))
        for reason in self.add_reasons:
            if reason not in present:
                kept.append({"reason": reason, "startTime": format_time(now)})
                present.add(reason)
                controller_pause = True
        if not kept:
            return
        status["pauseConditions"] = kept
        if controller_pause:
            status["controllerPause"] = True


class _Reconcile:
    """One reconcile's working state; `decide()` is its only entry point."""

    def __init__(self, observed: Observed, now: datetime) -> None:
        self.observed = observed
        self.now = now
        self.old: dict[str, Any] = _sanitized_status(observed.rollout.get("status"))
        self.raw = {**observed.rollout, "status": self.old}
        # Argo updates c.rollout.Status in place at a few points (FoundNewReplicaSet); `base` is that copy.
        self.base: dict[str, Any] = copy.deepcopy(self.old)
        self.base_written = False
        self.actions: list[Action] = []
        self.requeue: float | None = None
        self.rollout_revision = rsutil.revision(observed.rollout)
        self.pause = _PauseContext(self.old)
        self.restarted_at: str | None = self.old.get("restartedAt")
        self.analysis_verdict: rollout_analysis.AnalysisVerdict | None = None

    # ------------------------------------------------------------------ plumbing

    def event(self, reason: str, message: str, kind: str = "Normal") -> None:
        self.actions.append(RecordEvent(reason=reason, message=message, type=kind))

    def requeue_in(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.requeue = seconds if self.requeue is None else min(self.requeue, seconds)

    def plan(self, status: dict[str, Any]) -> Plan:
        return Plan(
            actions=self.actions,
            status=status,
            requeue_after=self.requeue,
            status_changed=status != (self.observed.rollout.get("status") or {}),
        )

    # ------------------------------------------------------------------ entry

    def run(self) -> Plan:
        try:
            self.rollout = Rollout.from_dict(self.raw)
        except ValidationError as error:
            first = error.errors()[0]
            path = ".".join(str(part) for part in first.get("loc", ()))
            return self.invalid(f"{path}: {first.get('msg', 'invalid value')}")
        if self.observed.workload_error:
            return self.invalid(self.observed.workload_error)
        errors = validate_rollout(self.rollout)
        if errors:
            return self.invalid(errors[0])
        missing = self._missing_service()
        if missing:
            return self.invalid(missing)
        if self.rollout.spec.strategy.blue_green is not None:
            return self._blue_green()
        try:
            return self.canary()
        except InvalidValueError as error:
            return self.invalid(str(error))

    def _missing_service(self) -> str:
        """Argo's ValidateRolloutReferencedResources for Services: a named Service must exist."""
        canary, blue_green = self.rollout.spec.strategy.canary, self.rollout.spec.strategy.blue_green
        named: list[tuple[str, str | None]] = []
        if canary is not None:
            named = [("canary.canaryService", canary.canary_service), ("canary.stableService", canary.stable_service)]
        elif blue_green is not None:
            named = [
                ("blueGreen.activeService", blue_green.active_service),
                ("blueGreen.previewService", blue_green.preview_service),
            ]
        for field_name, service in named:
            if service and service in self.observed.services and self.observed.services[service] is None:
                return f'spec.strategy.{field_name}: Invalid value: "{service}": services "{service}" not found'
        return ""

    def _blue_green(self) -> Plan:
        """Overridden by bluegreen.BlueGreenReconcile, which decide() picks for blue-green rollouts."""
        return self.invalid("spec.strategy: a rollout needs exactly one of canary and blueGreen")

    def invalid(self, error: str) -> Plan:
        """Argo's createInvalidRolloutCondition: InvalidSpec condition, phase Degraded, no action on pods."""
        # Nothing decided before the spec turned out invalid may touch the cluster.
        self.actions = [action for action in self.actions if isinstance(action, RecordEvent)]
        self.requeue = None
        name = str((self.raw.get("metadata") or {}).get("name", ""))
        message = cond.INVALID_SPEC_MESSAGE.format(name, error)
        previous = cond.get_condition(self.old, CONDITION_INVALID_SPEC)
        status = copy.deepcopy(self.old)
        if previous is None or previous.get("message") != message:
            cond.remove_condition(status, CONDITION_INVALID_SPEC)
            cond.set_condition(
                status,
                cond.new_condition(CONDITION_INVALID_SPEC, "True", cond.INVALID_SPEC_REASON, message, self.now),
            )
            self.event(cond.INVALID_SPEC_REASON, message, "Warning")
        status["observedGeneration"] = str((self.raw.get("metadata") or {}).get("generation") or 0)
        status["phase"], status["message"] = calculate_rollout_phase(
            spec=self.raw.get("spec") or {},
            status=status,
            replicas=_int_or(((self.raw.get("spec") or {}).get("replicas")), 1),
            now_restart_pending=False,
        )
        self.requeue_in(INVALID_SPEC_REQUEUE_SECONDS)
        return self.plan(status)

    # ------------------------------------------------------------------ context (newRolloutContext)

    def canary(self) -> Plan:
        spec = self.rollout.spec
        strategy = spec.strategy.canary
        assert strategy is not None
        self.strategy: CanaryStrategy = strategy
        self.replicas = spec.effective_replicas()
        self.template: dict[str, Any] = spec.template or {}
        self.steps: list[CanaryStep] = list(strategy.steps or [])
        self.step_count = len(self.steps)
        self.generation = int(self.rollout.metadata.generation or 0)
        self.max_surge, self.max_unavailable = canary_math.resolve_fenceposts(
            max_surge=strategy.effective_max_surge(),
            max_unavailable=strategy.effective_max_unavailable(),
            replicas=self.replicas,
        )
        self.current_step_hash = cond.step_hash(strategy.steps)

        self.all_rss: list[RS] = [copy.deepcopy(rs) for rs in self.observed.replicasets]
        pod_hash = compute_pod_template_hash(self.template, self.old.get("collisionCount"))
        self.new_rs = rsutil.find_new_replicaset(self.all_rss, pod_hash=pod_hash, template=self.template)
        self._classify()

        if self.new_rs is None:
            return self._create_new_replicaset(pod_hash)

        if canary_math_fully_promoted(self.old) and self.pause.is_aborted():
            self.pause.remove_abort = True

        early = self._check_paused_conditions()
        if early is not None:
            return early

        self._sync_replicaset_revision()
        if self._is_scaling_event():
            return self._sync_replicas_only()
        return self._rollout_canary()

    def _classify(self) -> None:
        older = [rs for rs in self.all_rss if self.new_rs is None or rsutil.rs_name(rs) != rsutil.rs_name(self.new_rs)]
        self.older_rss = older
        self.stable_rs = rsutil.find_stable_replicaset(
            older, stable_hash=str(self.old.get("stableRS") or ""), new_rs=self.new_rs
        )
        skip = {rsutil.rs_name(rs) for rs in (self.new_rs, self.stable_rs) if rs is not None}
        self.other_rss = [rs for rs in self.all_rss if rsutil.rs_name(rs) not in skip]

    def _create_new_replicaset(self, pod_hash: str) -> Plan:
        """Argo's createDesiredReplicaSet, after which Argo's reconcile ends (the rollout was written)."""
        revision = rsutil.max_revision(self.older_rss) + 1
        new_meta, stable_meta = self._new_and_stable_metadata()
        body = rsutil.new_replicaset(
            rollout=self.raw,
            template=self.template,
            pod_hash=pod_hash,
            revision_number=revision,
            ephemeral_metadata=new_meta if self.stable_rs is not None else stable_meta,
        )
        self.actions.append(CreateReplicaSet(body=body))
        if self.rollout_revision != revision:
            self.actions.append(PatchRolloutMetadata(annotations={REVISION_ANNOTATION: str(revision)}))
            self.event(cond.ROLLOUT_UPDATED_REASON, cond.ROLLOUT_UPDATED_MESSAGE.format(revision))
        name = body["metadata"]["name"]
        self.event(cond.NEW_REPLICA_SET_REASON, cond.NEW_REPLICA_SET_DETAILED_MESSAGE.format(name, revision))
        status = copy.deepcopy(self.old)
        cond.set_condition(
            status,
            cond.new_condition(
                CONDITION_PROGRESSING,
                "True",
                cond.NEW_REPLICA_SET_REASON,
                cond.NEW_REPLICA_SET_MESSAGE.format(name),
                self.now,
            ),
        )
        return self.plan(status)

    def _check_paused_conditions(self) -> Plan | None:
        """Argo's checkPausedConditions: Progressing/Paused follow pause and abort before anything else."""
        if str(self.generation) != self.old.get("observedGeneration"):
            return None
        progressing = cond.get_condition(self.old, CONDITION_PROGRESSING)
        progressing_paused = progressing is not None and progressing.get("reason") == cond.ROLLOUT_PAUSED_REASON
        paused = bool(self.old.get("pauseConditions")) or bool(self.rollout.spec.paused)
        abort_exists = progressing is not None and progressing.get("reason") == cond.ROLLOUT_ABORTED_REASON
        updates: list[dict[str, Any]] = []
        if paused != progressing_paused and not abort_exists and not rollout_completed(self.old):
            if paused:
                reason, message = cond.ROLLOUT_PAUSED_REASON, cond.ROLLOUT_PAUSED_MESSAGE
            else:
                reason, message = cond.ROLLOUT_RESUMED_REASON, cond.ROLLOUT_RESUMED_MESSAGE
            updates.append(cond.new_condition(CONDITION_PROGRESSING, "Unknown", reason, message, self.now))
        if not self.old.get("abort") and abort_exists:
            updates.append(
                cond.new_condition(
                    CONDITION_PROGRESSING, "Unknown", cond.ROLLOUT_RETRY_REASON, cond.ROLLOUT_RETRY_MESSAGE, self.now
                )
            )
        paused_condition = cond.get_condition(self.old, CONDITION_PAUSED)
        paused_true = paused_condition is not None and paused_condition.get("status") == "True"
        if paused != paused_true and not abort_exists:
            updates.append(
                cond.new_condition(
                    CONDITION_PAUSED,
                    "True" if paused else "False",
                    cond.ROLLOUT_PAUSED_REASON,
                    cond.ROLLOUT_PAUSED_MESSAGE,
                    self.now,
                )
            )
        if not updates:
            return None
        status = copy.deepcopy(self.old)
        for update in updates:
            cond.set_condition(status, update)
        status["observedGeneration"] = str(self.generation)
        status["phase"], status["message"] = self._phase(status)
        return self.plan(status)

    def _sync_replicaset_revision(self) -> None:
        """Argo's syncReplicaSetRevision: the new RS's revision only goes up; the rollout's follows it."""
        assert self.new_rs is not None
        new_revision = rsutil.max_revision(self.older_rss) + 1
        patch = rsutil.revision_sync_patch(self.new_rs, rollout=self.raw, new_revision=new_revision)
        if patch is not None:
            self.actions.append(PatchReplicaSet(name=rsutil.rs_name(self.new_rs), patch=patch))
            _merge(self.new_rs, patch)
            return
        revision = rsutil.revision(self.new_rs)
        if rsutil.annotations_of(self.raw).get(REVISION_ANNOTATION) != str(revision):
            self.actions.append(PatchRolloutMetadata(annotations={REVISION_ANNOTATION: str(revision)}))
            self.event(cond.ROLLOUT_UPDATED_REASON, cond.ROLLOUT_UPDATED_MESSAGE.format(revision))
            self.rollout_revision = revision
        if cond.get_condition(self.base, CONDITION_PROGRESSING) is None:
            cond.set_condition(
                self.base,
                cond.new_condition(
                    CONDITION_PROGRESSING,
                    "True",
                    cond.FOUND_NEW_RS_REASON,
                    cond.FOUND_NEW_RS_MESSAGE.format(rsutil.rs_name(self.new_rs)),
                    self.now,
                ),
            )

    def _is_scaling_event(self) -> bool:
        """Argo's isScalingEvent: spec.replicas changed since the new/stable RS was last scaled."""
        for rs in (self.new_rs, self.stable_rs):
            if rs is None or not rsutil.is_active(rs):
                continue
            desired = rsutil.desired_replicas(rs)
            if desired is not None and desired != self.replicas:
                return True
        return False

    def _sync_replicas_only(self) -> Plan:
        self._reconcile_canary_replicasets()
        status = copy.deepcopy(self.base)
        status["availableReplicas"] = rsutil.total_available(self.all_rss)
        status["HPAReplicas"] = rsutil.total_status(self.all_rss)
        return self._persist(status)

    # ------------------------------------------------------------------ rolloutCanary

    def _rollout_canary(self) -> Plan:
        if self._template_or_steps_changed():
            return self._sync_status_canary()
        if self._reconcile_restart() > 0:
            # Availability counts no longer include the evicted pods: nothing else this pass (as Argo).
            return self.plan(copy.deepcopy(self.base))
        self._reconcile_ephemeral_metadata()
        self._reconcile_revision_history()
        self._reconcile_services()
        self._reconcile_analysis()
        if self.pause.has_add_pause():
            return self._sync_status_canary()
        if self._reconcile_canary_replicasets():
            return self._sync_status_canary()
        self._reconcile_canary_pause()
        return self._sync_status_canary()

    def _template_or_steps_changed(self) -> bool:
        """Argo's PodTemplateOrStepsChanged."""
        old_step_hash = self.old.get("currentStepHash") or ""
        if not old_step_hash or old_step_hash != self.current_step_hash:
            return True
        old_pod_hash = self.old.get("currentPodHash") or ""
        return bool(old_pod_hash) and self.new_rs is not None and old_pod_hash != rsutil.rs_hash(self.new_rs)

    def _reconcile_restart(self) -> int:
        """Argo's RolloutPodRestarter: replace pods older than spec.restartAt in safe batches."""
        restart_at = self.rollout.spec.restart_at
        wanted = parse_time(restart_at)
        if wanted is not None and self.now < wanted:
            self.requeue_in((wanted - self.now).total_seconds())
        if not restarts.needs_restart(restart_at=restart_at, restarted_at=self.old.get("restartedAt"), now=self.now):
            return 0
        assert restart_at is not None
        if self.observed.pods is None:
            return 0
        uids = {rsutil.rs_uid(rs) for rs in self.all_rss}
        pods = [
            pod
            for pod in self.observed.pods
            if any(ref.get("uid") in uids for ref in (pod.get("metadata") or {}).get("ownerReferences") or [])
        ]
        decision = restarts.plan_restart(
            pods=pods,
            restart_at=restart_at,
            replicas=self.replicas,
            total_spec_replicas=rsutil.total_spec(self.all_rss),
            max_unavailable=self.max_unavailable,
            min_ready_seconds=self.rollout.spec.effective_min_ready_seconds(),
            now=self.now,
        )
        for pod in decision.to_delete:
            meta = pod.get("metadata") or {}
            self.actions.append(DeletePod(name=str(meta.get("name")), uid=str(meta.get("uid") or "")))
        if decision.remaining:
            self.requeue_in(restarts.RESTART_POD_CHECK_SECONDS)
        else:
            self.restarted_at = restart_at
        return len(decision.to_delete)

    def _new_and_stable_metadata(self) -> tuple[dict[str, dict[str, str]] | None, dict[str, dict[str, str]] | None]:
        """The ephemeral pod metadata of the new (canary) and of the stable pods."""
        return _metadata_dict(self.strategy.canary_metadata), _metadata_dict(self.strategy.stable_metadata)

    def _reconcile_ephemeral_metadata(self) -> None:
        canary_meta, stable_meta = self._new_and_stable_metadata()
        if canary_meta is None and stable_meta is None:
            return
        assert self.new_rs is not None
        stable_hash = self.old.get("stableRS") or ""
        if not stable_hash or stable_hash == rsutil.rs_hash(self.new_rs):
            self._sync_metadata(self.new_rs, stable_meta)
        else:
            self._sync_metadata(self.new_rs, canary_meta)
            self._sync_metadata(self.stable_rs, stable_meta)
        for rs in self.other_rss:
            self._sync_metadata(rs, None)

    def _sync_metadata(self, rs: RS | None, desired: dict[str, dict[str, str]] | None) -> None:
        if rs is None:
            return
        existing = rsutil.parse_ephemeral_metadata(rs)
        patch = rsutil.ephemeral_metadata_patch(rs, desired)
        if patch is not None:
            self.actions.append(PatchReplicaSet(name=rsutil.rs_name(rs), patch=patch))
        if rsutil.spec_replicas(rs) == 0 or self.observed.pods is None:
            return
        uid = rsutil.rs_uid(rs)
        for pod in sorted(self.observed.pods, key=lambda p: str(p["metadata"].get("name", ""))):
            if not any(ref.get("uid") == uid for ref in pod["metadata"].get("ownerReferences") or []):
                continue
            pod_patch = rsutil.pod_metadata_patch(pod, existing=existing, desired=desired)
            if pod_patch is not None:
                self.actions.append(PatchPod(name=str(pod["metadata"]["name"]), patch=pod_patch))

    def _reconcile_revision_history(self) -> None:
        """Argo's reconcileRevisionHistoryLimit: delete the oldest idle other RSs beyond the limit."""
        limit = self.rollout.spec.effective_revision_history_limit()
        cleanable = sorted((rs for rs in self.other_rss if not rsutil.is_being_deleted(rs)), key=rsutil.creation_key)
        for rs in cleanable[: max(0, len(cleanable) - limit)]:
            generation = int(rs["metadata"].get("generation") or 0)
            observed_generation = int((rs.get("status") or {}).get("observedGeneration") or 0)
            if rsutil.status_replicas(rs) != 0 or rsutil.spec_replicas(rs) != 0 or generation > observed_generation:
                continue
            if rsutil.rs_hash(rs) in self._referenced_hashes():
                continue  # a Service (or our status) still names it: never leave a selector on a deleted RS
            self.actions.append(DeleteReplicaSet(name=rsutil.rs_name(rs), uid=rsutil.rs_uid(rs)))

    def _referenced_hashes(self) -> set[str]:
        """Argo's isReplicaSetReferenced: pod hashes our status or a Service selector still points at."""
        hashes = {str(self.old.get("stableRS") or ""), str(self.old.get("currentPodHash") or "")}
        blue_green = self.old.get("blueGreen") or {}
        hashes |= {str(blue_green.get("activeSelector") or ""), str(blue_green.get("previewSelector") or "")}
        for service in self.observed.services.values():
            if service is not None:
                hashes.add(str(((service.get("spec") or {}).get("selector") or {}).get(POD_TEMPLATE_HASH_LABEL, "")))
        hashes.discard("")
        return hashes

    def _reconcile_services(self) -> None:
        """Argo's reconcileStableAndCanaryService (no traffic routing)."""
        self._ensure_service(self.strategy.stable_service, self.stable_rs)
        if self.pause.is_aborted():
            self._ensure_service(self.strategy.canary_service, self.stable_rs)
            return
        self._ensure_service(self.strategy.canary_service, self.new_rs)

    def _ensure_service(self, name: str | None, rs: RS | None) -> None:
        if rs is None or not name:
            return
        service = self.observed.services.get(name)
        if service is None:
            return
        current = ((service.get("spec") or {}).get("selector") or {}).get("rollouts-pod-template-hash", "")
        desired = rsutil.rs_hash(rs)
        if current == desired:
            return
        managed = "argo-rollouts.argoproj.io/managed-by-rollouts" in (
            (service.get("metadata") or {}).get("annotations") or {}
        )
        if not managed and not rsutil.is_fully_available(rs):
            return  # adopting a Service: only onto a fully available ReplicaSet
        if rsutil.available_replicas(rs) <= 0:
            return  # never point a Service at no pods
        self.actions.append(PatchServiceSelector(service=name, pod_hash=desired))
        self.event(cond.SWITCH_SERVICE_REASON, cond.SWITCH_SERVICE_MESSAGE.format(name, current, desired))

    def _template_lookup(self, ref: AnalysisTemplateRef) -> AnalysisTemplate | None:
        raw = self.observed.analysis_templates.get((bool(ref.cluster_scope), ref.template_name))
        return AnalysisTemplate.from_dict(raw) if raw is not None else None

    def _reconcile_analysis(self) -> None:
        """Argo's reconcileAnalysisRuns for a canary: create/terminate runs, abort or pause on their verdict."""
        assert self.new_rs is not None
        pod_hash = rsutil.rs_hash(self.new_rs)
        stable_hash = str(self.old.get("stableRS") or "")
        step = self._current_step()
        progressing = (
            not self.pause.is_aborted()
            and bool(stable_hash)
            and stable_hash != pod_hash
            and not self.old.get("promoteFull")
        )
        verdict = rollout_analysis.canary_analysis(
            rollout_raw=self.raw,
            runs=self.observed.analysis_runs,
            lookup=self._template_lookup,
            pod_hash=pod_hash,
            stable_hash=stable_hash,
            revision=rsutil.revision(self.new_rs),
            step_index=self._old_step_index(),
            at_analysis_step=step is not None and step.analysis is not None,
            progressing=progressing,
            retrying=self._retrying(),
            history=self._history_limits(),
        )
        if verdict.error:
            raise InvalidValueError(f"spec.strategy.canary.analysis: {verdict.error}")
        self.actions.extend(verdict.actions)
        self.analysis_verdict = verdict
        if verdict.abort_message and not self.pause.is_aborted():
            self.pause.add_abort = True
            self.pause.abort_message = verdict.abort_message
            return
        if verdict.inconclusive and not self._inconclusive_resumed():
            self.pause.add_reasons.append(PAUSE_INCONCLUSIVE_ANALYSIS)

    def _retrying(self) -> bool:
        """A human retried an aborted rollout (abortedAt still recorded, abort cleared): runs start afresh."""
        return bool(self.old.get("abortedAt")) and not self.pause.is_aborted()

    def _history_limits(self) -> rollout_analysis.HistoryLimits:
        return rollout_analysis.HistoryLimits(
            successful=self.rollout.spec.effective_successful_run_history_limit(),
            unsuccessful=self.rollout.spec.effective_unsuccessful_run_history_limit(),
            replicaset_hashes={rsutil.rs_hash(rs): rsutil.is_being_deleted(rs) for rs in self.all_rss},
        )

    def _inconclusive_resumed(self) -> bool:
        """A human promoted past an Inconclusive run: the pause was added and then cleared."""
        return bool(self.old.get("controllerPause")) and _pause_condition(self.old, PAUSE_INCONCLUSIVE_ANALYSIS) is None

    # ------------------------------------------------------------------ scaling

    def _desired_weight(self) -> int:
        """Argo's GetCanaryReplicasOrWeight for a basic canary (read from the observed status)."""
        old = self.old
        if old.get("promoteFull") or not old.get("stableRS") or old.get("currentPodHash") == old.get("stableRS"):
            return MAX_WEIGHT
        if old.get("abort"):
            return 0
        index = self._old_step_index()
        if index is None or index >= self.step_count:
            return MAX_WEIGHT
        for step in reversed(self.steps[: index + 1]):
            if step.set_weight is not None:
                return step.set_weight
        return 0

    def _old_step_index(self) -> int | None:
        if not self.step_count:
            return None
        return int(self.old.get("currentStepIndex") or 0)

    def _counts(self) -> canary_math.CanaryCounts:
        return canary_math.basic_canary_counts(
            replicas=self.replicas,
            weight=self._desired_weight(),
            max_weight=MAX_WEIGHT,
            max_surge=self.max_surge,
            max_unavailable=self.max_unavailable,
            new_rs=self.new_rs,
            stable_rs=self.stable_rs,
            old_rss=self.other_rss,
        )

    def _reconcile_canary_replicasets(self) -> bool:
        """Argo's reconcileCanaryReplicaSets: at most one RS changes size per reconcile."""
        if self.rollout.spec.paused or any(
            p.get("reason") == PAUSE_INCONCLUSIVE_ANALYSIS for p in self.old.get("pauseConditions") or []
        ):
            return False
        for rs in _unique([self.new_rs, self.stable_rs]):
            if rsutil.has_scale_down_deadline(rs):
                self.actions.append(
                    PatchReplicaSet(
                        name=rsutil.rs_name(rs),
                        patch={"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: None}}},
                    )
                )
        counts = self._counts()
        stable_differs = self.stable_rs is not None and (
            self.new_rs is None or rsutil.rs_name(self.new_rs) != rsutil.rs_name(self.stable_rs)
        )
        if stable_differs and self.stable_rs is not None and self._scale(self.stable_rs, counts.stable):
            return True
        if self.new_rs is not None and self._scale(self.new_rs, counts.new):
            return True
        return self._scale_down_others()

    def _scale_down_others(self) -> bool:
        active = [rs for rs in self.other_rss if rsutil.is_active(rs)]
        if rsutil.total_spec(active) == 0:
            return False
        targets = canary_math.scale_down_other_targets(
            other_rss=active, all_rss=self.all_rss, replicas=self.replicas, max_unavailable=self.max_unavailable
        )
        scaled = False
        for rs in active:
            if rs["metadata"]["name"] in targets and targets[rsutil.rs_name(rs)] != rsutil.spec_replicas(rs):
                scaled = self._scale(rs, targets[rsutil.rs_name(rs)]) or scaled
        return scaled

    def _scale(self, rs: RS, replicas: int) -> bool:
        """Argo's scaleReplicaSetAndRecordEvent: True when the size changed."""
        current = rsutil.spec_replicas(rs)
        if current == replicas and not rsutil.desired_replicas_annotation_stale(rs, self.replicas):
            return False
        annotations: dict[str, str | None] = {DESIRED_REPLICAS_ANNOTATION: str(self.replicas)}
        if replicas == 0 and rsutil.has_scale_down_deadline(rs):
            annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = None
        self.actions.append(ScaleReplicaSet(name=rsutil.rs_name(rs), replicas=replicas, annotations=annotations))
        if current == replicas:
            return False
        self.event(
            cond.SCALING_REPLICA_SET_REASON,
            cond.SCALING_REPLICA_SET_MESSAGE.format(
                "up" if current < replicas else "down", rsutil.rs_name(rs), rsutil.revision(rs), current, replicas
            ),
        )
        return True

    # ------------------------------------------------------------------ steps and pauses

    def _current_step(self) -> CanaryStep | None:
        index = self._old_step_index()
        if index is None or index >= self.step_count:
            return None
        return self.steps[index]

    def _reconcile_canary_pause(self) -> None:
        """Argo's reconcileCanaryPause: enter a pause step; wake up when its duration ends."""
        if self.rollout.spec.paused or self.old.get("promoteFull"):
            return
        step = self._current_step()
        if step is None or step.pause is None:
            return
        existing = _pause_condition(self.old, PAUSE_CANARY_STEP)
        duration = parse_duration(step.pause.duration)
        if existing is None:
            if not self.old.get("controllerPause"):
                self.pause.add_reasons.append(PAUSE_CANARY_STEP)
                if duration is not None:
                    self.requeue_in(duration)
            return
        if duration is None:
            return
        started = parse_time(existing.get("startTime")) or self.now
        expires = started + timedelta(seconds=duration)
        if expires > self.now:
            self.requeue_in((expires - self.now).total_seconds())

    def _completed_current_step(self) -> bool:
        """Argo's completedCurrentCanaryStep (basic canary)."""
        if self.rollout.spec.paused:
            return False
        step = self._current_step()
        if step is None:
            return False
        if step.pause is not None:
            existing = _pause_condition(self.old, PAUSE_CANARY_STEP)
            if self.old.get("controllerPause") and existing is None:
                return True
            duration = parse_duration(step.pause.duration)
            if duration is not None and existing is not None:
                started = parse_time(existing.get("startTime")) or self.now
                return self.now >= started + timedelta(seconds=duration)
            return False
        if step.set_canary_scale is not None or step.set_weight is not None:
            threshold = self.strategy.replica_progress_threshold
            return canary_math.at_desired_counts(
                counts=self._counts(),
                new_rs=self.new_rs,
                stable_rs=self.stable_rs,
                other_rss=self.other_rss,
                threshold_type=threshold.type if threshold else None,
                threshold_value=threshold.value if threshold else None,
            )
        if step.experiment is not None or step.analysis is not None:
            return self._analysis_step_completed(step)
        return step.set_header_route is not None or step.set_mirror_route is not None

    def _analysis_step_completed(self, step: CanaryStep) -> bool:
        """An analysis step completes when its run succeeded, or when promoted past an Inconclusive run."""
        verdict = self.analysis_verdict
        if step.analysis is None or verdict is None:
            return False  # experiment steps wait: experiments are not run by this controller yet
        return verdict.step_completed or (verdict.inconclusive and self._inconclusive_resumed())

    def _created_before(self, first: RS, second: RS) -> bool:
        return str(first["metadata"].get("creationTimestamp") or "") < str(
            second["metadata"].get("creationTimestamp") or ""
        )

    def _is_rollback(self) -> bool:
        if self.new_rs is None or self.stable_rs is None:
            return False
        return self.old.get("stableRS") == rsutil.rs_hash(self.new_rs) or self._created_before(
            self.new_rs, self.stable_rs
        )

    def _rollback_within_window(self) -> bool:
        """Argo's isRollbackWithinWindow: back to a revision at most rollbackWindow.revisions old."""
        if self.new_rs is None or self.stable_rs is None or not self._created_before(self.new_rs, self.stable_rs):
            return False
        window = self.rollout.spec.rollback_window
        if window is None or not window.revisions or window.revisions <= 0:
            return False
        between = sum(
            1
            for rs in self.all_rss
            if not rsutil.annotations_of(rs).get(EXPERIMENT_NAME_ANNOTATION)
            and self._created_before(rs, self.stable_rs)
            and self._created_before(self.new_rs, rs)
        )
        return between < window.revisions

    def _is_fast_rollback(self) -> bool:
        if not self._is_rollback():
            return False
        assert self.new_rs is not None
        return self._rollback_within_window() or self.old.get("stableRS") == rsutil.rs_hash(self.new_rs)

    def _should_full_promote(self) -> str:
        """Argo's shouldFullPromote for canary; the order of the checks matters."""
        if self.stable_rs is None:
            return "Initial deploy"
        if self.pause.is_aborted():
            return ""
        threshold = self.strategy.replica_progress_threshold
        if self.new_rs is None or (
            rsutil.available_replicas(self.new_rs) < self.replicas
            and not canary_math.progress_threshold_met(
                threshold_type=threshold.type if threshold else None,
                threshold_value=threshold.value if threshold else None,
                rs=self.new_rs,
                desired=self.replicas,
            )
        ):
            return ""
        if self.old.get("promoteFull"):
            return "Full promotion requested"
        if self._is_fast_rollback():
            return "Rollback within window" if self._rollback_within_window() else "Fast rollback"
        index = self._old_step_index()
        if index is None or index == self.step_count:
            return f"Completed all {self.step_count} canary steps"
        return ""

    def _promote_stable(self, status: dict[str, Any], reason: str) -> None:
        self.pause.clear = True
        self.pause.remove_abort = True
        status.pop("promoteFull", None)
        if self.step_count:
            status["currentStepIndex"] = self.step_count
        else:
            status.pop("currentStepIndex", None)
        if status.get("stableRS") != status.get("currentPodHash"):
            status["stableRS"] = status["currentPodHash"]
            self.event(
                cond.ROLLOUT_COMPLETED_REASON,
                cond.ROLLOUT_COMPLETED_MESSAGE.format(self.rollout_revision, status["currentPodHash"], reason),
            )

    # ------------------------------------------------------------------ status

    def _base_status(self) -> dict[str, Any]:
        """Argo's calculateBaseStatus + the canary fields of syncRolloutStatusCanary."""
        assert self.new_rs is not None
        previous = copy.deepcopy(self.base)
        if cond.get_condition(previous, CONDITION_INVALID_SPEC) is not None:
            cond.remove_condition(previous, CONDITION_INVALID_SPEC)
        status: dict[str, Any] = {}
        status["currentPodHash"] = rsutil.rs_hash(self.new_rs)
        status["replicas"] = rsutil.total_status(self.all_rss)
        status["updatedReplicas"] = rsutil.status_replicas(self.new_rs)
        status["readyReplicas"] = rsutil.total_ready(self.all_rss)
        if previous.get("collisionCount") is not None:
            status["collisionCount"] = previous["collisionCount"]
        if previous.get("conditions"):
            status["conditions"] = previous["conditions"]
        if self.restarted_at:
            status["restartedAt"] = self.restarted_at
        if previous.get("promoteFull") and status["currentPodHash"]:
            status["promoteFull"] = True
        status["availableReplicas"] = rsutil.total_available(self.all_rss)
        status["HPAReplicas"] = rsutil.total_status(self.all_rss)
        status["selector"] = rsutil.format_selector((self.raw.get("spec") or {}).get("selector"))
        old_canary = previous.get("canary") or {}
        status["canary"] = {key: old_canary[key] for key in _CANARY_CARRIED if key in old_canary}
        verdict = self.analysis_verdict
        if verdict is not None:
            for key, run_status in (
                ("currentStepAnalysisRunStatus", verdict.step_run_status),
                ("currentBackgroundAnalysisRunStatus", verdict.background_run_status),
            ):
                if run_status is not None:
                    status["canary"][key] = run_status
        status["blueGreen"] = {}
        if previous.get("stableRS"):
            status["stableRS"] = previous["stableRS"]
        status["currentStepHash"] = self.current_step_hash
        return status

    def _sync_status_canary(self) -> Plan:
        """Argo's syncRolloutStatusCanary."""
        assert self.new_rs is not None
        status = self._base_status()
        index = self._old_step_index()
        if self._template_or_steps_changed():
            self._reset_status(status)
            if self.step_count:
                if self.old.get("stableRS") == rsutil.rs_hash(self.new_rs):
                    self.event(cond.SKIP_STEPS_REASON, "Rollback to stable ReplicaSets")
                    status["currentStepIndex"] = self.step_count
                elif self._rollback_within_window() and rsutil.is_active(self.new_rs):
                    self.event(cond.SKIP_STEPS_REASON, "Rollback to active ReplicaSets within RollbackWindow")
                    status["currentStepIndex"] = self.step_count
            return self._persist(status)

        if self.old.get("promoteFull") or self._rollback_within_window():
            self.pause.clear = True
            self.pause.remove_abort = True
            if self.step_count:
                index = self.step_count

        reason = self._should_full_promote()
        if reason:
            self._promote_stable(status, reason)
            return self._persist(status)

        if self.pause.is_aborted():
            if self.step_count:
                status["currentStepIndex"] = (
                    self.step_count if status.get("stableRS") == status["currentPodHash"] else 0
                )
            return self._persist(status)

        step = self._current_step()
        if step is not None and self._completed_current_step():
            index = min((index or 0) + 1, self.step_count)
            status["canary"].pop("currentStepAnalysisRunStatus", None)
            self.event(
                cond.ROLLOUT_STEP_COMPLETED_REASON,
                cond.ROLLOUT_STEP_COMPLETED_MESSAGE.format(index, self.step_count, cond.step_string(step)),
            )
            self.pause.remove_reasons.append(PAUSE_CANARY_STEP)
        if index is not None:
            status["currentStepIndex"] = index
        return self._persist(status)

    def _reset_status(self, status: dict[str, Any]) -> None:
        """Argo's resetRolloutStatus: a new revision (or new steps) starts from the first step."""
        self.pause.clear = True
        self.pause.remove_abort = True
        restart_at = self.rollout.spec.restart_at
        if restart_at:
            status["restartedAt"] = restart_at
        else:
            status.pop("restartedAt", None)
        status.pop("promoteFull", None)
        for key in ("currentStepAnalysisRunStatus", "currentBackgroundAnalysisRunStatus", "stepPluginStatuses"):
            status["canary"].pop(key, None)
        if self.step_count:
            status["currentStepIndex"] = 0
        else:
            status.pop("currentStepIndex", None)

    def _persist(self, status: dict[str, Any]) -> Plan:
        """Argo's persistRolloutStatus: deadline abort, pause fields, conditions, phase; events on change."""
        status["observedGeneration"] = str(self.generation)
        if self.observed.workload_generation is not None:
            status["workloadObservedGeneration"] = self.observed.workload_generation
        else:
            status.pop("workloadObservedGeneration", None)
        self._progress_deadline_abort(status)
        self.pause.apply(status, self.now)
        self._calculate_conditions(status)
        status["phase"], status["message"] = self._phase(status)
        for key in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "HPAReplicas"):
            if not status.get(key):
                status.pop(key, None)
        if not status.get("message"):
            status.pop("message", None)
        changed = status != (self.observed.rollout.get("status") or {})
        if changed:
            self._state_change_events(status)
        else:
            self._requeue_stuck(status)
        return self.plan(status)

    def _phase(self, status: dict[str, Any]) -> tuple[str, str]:
        return calculate_rollout_phase(
            spec=self.raw.get("spec") or {},
            status=status,
            replicas=self.rollout.spec.effective_replicas(),
            now_restart_pending=restart_pending(self.raw.get("spec") or {}, status),
        )

    def _state_change_events(self, status: dict[str, Any]) -> None:
        """Argo's sendStateChangeEvents."""
        was_paused = bool(self.old.get("pauseConditions"))
        now_paused = bool(status.get("pauseConditions"))
        if was_paused == now_paused:
            return
        if now_paused:
            reason = status["pauseConditions"][0].get("reason")
            self.event(cond.ROLLOUT_PAUSED_REASON, f"{cond.ROLLOUT_PAUSED_MESSAGE} ({reason})")
        elif not status.get("abortedAt"):
            self.event(cond.ROLLOUT_RESUMED_REASON, cond.ROLLOUT_RESUMED_MESSAGE)

    def _is_indefinite_step(self) -> bool:
        step = self._current_step()
        if step is not None and (step.experiment is not None or step.analysis is not None or step.pause is not None):
            return True
        paused = cond.get_condition(self.old, CONDITION_PAUSED)
        return paused is not None and paused.get("status") == "True"

    def _waiting_for_scale_down(self) -> bool:
        return any(rsutil.has_scale_down_deadline(rs) for rs in self.other_rss)

    def _deadline_seconds(self) -> int:
        return self.rollout.spec.effective_progress_deadline_seconds()

    def _progressing(self, status: dict[str, Any]) -> bool:
        return cond.rollout_progressing(old=self.old, new=status)

    def _available(self, status: dict[str, Any]) -> bool:
        return rsutil.total_available(self.all_rss) >= self.replicas

    def _healthy(self, status: dict[str, Any]) -> bool:
        return cond.rollout_healthy(
            replicas=self.replicas, step_count=self.step_count, generation=self.generation, old=self.old, new=status
        )

    def _progress_deadline_abort(self, status: dict[str, Any]) -> None:
        """Argo's evaluateProgressDeadlineAbort (spec.progressDeadlineAbort)."""
        if not self.rollout.spec.progress_deadline_abort or self.pause.is_aborted():
            return
        if rollout_completed(status) or self._progressing(status):
            return
        if self._is_indefinite_step() or self._waiting_for_scale_down():
            return
        if not cond.rollout_timed_out(status=self.old, deadline_seconds=self._deadline_seconds(), now=self.now):
            return
        assert self.new_rs is not None
        message = cond.REPLICA_SET_TIMED_OUT_MESSAGE.format(rsutil.rs_name(self.new_rs))
        self.pause.add_abort = True
        self.pause.abort_message = message
        self.event(cond.ROLLOUT_ABORTED_REASON, message, "Warning")

    def _calculate_conditions(self, status: dict[str, Any]) -> None:
        """Argo's calculateRolloutConditions for canary."""
        assert self.new_rs is not None
        now = self.now
        paused = bool(status.get("pauseConditions")) or bool(self.rollout.spec.paused)
        aborted = self.pause.is_aborted()

        became_unhealthy = False
        if not paused and self._healthy(status):
            cond.set_condition(
                status,
                cond.new_condition(
                    CONDITION_HEALTHY, "True", cond.ROLLOUT_HEALTHY_REASON, cond.ROLLOUT_HEALTHY_MESSAGE, now
                ),
            )
        elif cond.get_condition(self.old, CONDITION_HEALTHY) is not None:
            became_unhealthy = cond.set_condition(
                status,
                cond.new_condition(
                    CONDITION_HEALTHY, "False", cond.ROLLOUT_HEALTHY_REASON, cond.ROLLOUT_NOT_HEALTHY_MESSAGE, now
                ),
            )

        if aborted:
            message = cond.ROLLOUT_ABORTED_MESSAGE.format(self.rollout_revision)
            if self.pause.abort_message:
                message = f"{message}: {self.pause.abort_message}"
            aborted_condition = cond.new_condition(
                CONDITION_PROGRESSING, "False", cond.ROLLOUT_ABORTED_REASON, message, now
            )
            if cond.set_condition(status, aborted_condition):
                self.event(cond.ROLLOUT_ABORTED_REASON, message, "Warning")

        name = rsutil.rs_name(self.new_rs)
        current = cond.get_condition(self.old, CONDITION_PROGRESSING)
        if not aborted:
            if self._healthy(status):
                cond.set_condition(
                    status,
                    cond.new_condition(
                        CONDITION_PROGRESSING,
                        "True",
                        cond.NEW_RS_AVAILABLE_REASON,
                        cond.REPLICA_SET_COMPLETED_MESSAGE.format(name),
                        now,
                    ),
                )
            elif self._progressing(status) or became_unhealthy:
                message = cond.REPLICA_SET_PROGRESSING_MESSAGE.format(name)
                reason = cond.REPLICA_SET_UPDATED_REASON
                if status.get("stableRS") == status.get("currentPodHash") and became_unhealthy:
                    reason, message = cond.REPLICA_SET_NOT_AVAILABLE_REASON, cond.NOT_AVAILABLE_MESSAGE
                progressing = cond.new_condition(CONDITION_PROGRESSING, "True", reason, message, now)
                if current is not None:
                    if current.get("status") == "True":
                        progressing["lastTransitionTime"] = current.get("lastTransitionTime")
                    cond.remove_condition(status, CONDITION_PROGRESSING)
                cond.set_condition(status, progressing)
            elif (
                not self._is_indefinite_step()
                and not self._waiting_for_scale_down()
                and cond.rollout_timed_out(status=status, deadline_seconds=self._deadline_seconds(), now=now)
            ):
                cond.set_condition(
                    status,
                    cond.new_condition(
                        CONDITION_PROGRESSING,
                        "False",
                        cond.TIMED_OUT_REASON,
                        cond.REPLICA_SET_TIMED_OUT_MESSAGE.format(name),
                        now,
                    ),
                )

        available = self._available(status)
        cond.set_condition(
            status,
            cond.new_condition(
                CONDITION_AVAILABLE,
                "True" if available else "False",
                cond.AVAILABLE_REASON,
                cond.AVAILABLE_MESSAGE if available else cond.NOT_AVAILABLE_MESSAGE,
                now,
            ),
        )

        failure = _replica_failure(self.new_rs, self.all_rss)
        if failure is not None:
            cond.set_condition(status, failure)
        else:
            cond.remove_condition(status, CONDITION_REPLICA_FAILURE)

        if rollout_completed(status):
            cond.set_condition(
                status,
                cond.new_condition(
                    CONDITION_COMPLETED, "True", cond.ROLLOUT_COMPLETED_REASON, cond.ROLLOUT_COMPLETED_REASON, now
                ),
            )
        elif cond.set_condition(
            status,
            cond.new_condition(
                CONDITION_COMPLETED, "False", cond.ROLLOUT_COMPLETED_REASON, cond.ROLLOUT_COMPLETED_REASON, now
            ),
        ):
            self.event(
                cond.ROLLOUT_NOT_COMPLETED_REASON,
                cond.ROLLOUT_NOT_COMPLETED_MESSAGE.format(self.rollout_revision, status.get("currentPodHash", "")),
            )

    def _requeue_stuck(self, status: dict[str, Any]) -> None:
        """Argo's requeueStuckRollout: come back when the progress deadline would pass."""
        current = cond.get_condition(self.old, CONDITION_PROGRESSING)
        if current is None:
            return
        paused = bool(self.old.get("pauseConditions")) or bool(self.rollout.spec.paused)
        if (
            self._healthy(status)
            or current.get("reason") == cond.TIMED_OUT_REASON
            or paused
            or self.old.get("abort")
            or self._is_indefinite_step()
        ):
            return
        last = parse_time(current.get("lastUpdateTime"))
        if last is None:
            return
        after = (last + timedelta(seconds=self._deadline_seconds()) - self.now).total_seconds()
        # Argo requeues at once under a second; a second later costs nothing and avoids a hot loop.
        self.requeue_in(1.0 if after < 1 else after + 1)


# ---------------------------------------------------------------------------- helpers


def canary_math_fully_promoted(status: dict[str, Any]) -> bool:
    """Argo's IsFullyPromoted (canary): the current pod hash is the stable one."""
    return rollout_completed(status)


_STATUS_TYPES: dict[str, type | tuple[type, ...]] = {
    "abort": bool,
    "abortedAt": str,
    "controllerPause": bool,
    "promoteFull": bool,
    "currentPodHash": str,
    "currentStepHash": str,
    "currentStepIndex": int,
    "collisionCount": int,
    "observedGeneration": str,
    "stableRS": str,
    "restartedAt": str,
    "phase": str,
    "message": str,
    "selector": str,
    "canary": dict,
    "blueGreen": dict,
    "workloadObservedGeneration": str,
    "replicas": int,
    "updatedReplicas": int,
    "readyReplicas": int,
    "availableReplicas": int,
    "HPAReplicas": int,
}


def _sanitized_status(raw: Any) -> dict[str, Any]:
    """The observed status with malformed fields dropped: a corrupt status must not stop a rollout.

    Only we (or Argo) write it, but a hand edit or a foreign writer may not;
    what we cannot read we recompute, as if it were absent.
    """
    if not isinstance(raw, dict):
        return {}
    status: dict[str, Any] = {}
    for key, value in raw.items():
        wanted = _STATUS_TYPES.get(key)
        if wanted is not None:
            if isinstance(value, wanted) and not (wanted is int and isinstance(value, bool)):
                status[key] = copy.deepcopy(value)
        elif key in ("conditions", "pauseConditions"):
            if isinstance(value, list):
                items = [
                    dict(item) for item in value if isinstance(item, dict) and isinstance(item.get(_ITEM_KEY[key]), str)
                ]
                if items:
                    status[key] = items
        else:
            status[key] = copy.deepcopy(value)
    return status


_ITEM_KEY = {"conditions": "type", "pauseConditions": "reason"}


def _int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _metadata_dict(metadata: Any) -> dict[str, dict[str, str]] | None:
    if metadata is None:
        return None
    dumped: dict[str, dict[str, str]] = metadata.to_dict()
    return dumped


def _pause_condition(status: dict[str, Any], reason: str) -> dict[str, Any] | None:
    return next((p for p in status.get("pauseConditions") or [] if p.get("reason") == reason), None)


def _unique(rss: list[RS | None]) -> list[RS]:
    seen: set[str] = set()
    unique: list[RS] = []
    for rs in rss:
        if rs is not None and rsutil.rs_name(rs) not in seen:
            seen.add(rsutil.rs_name(rs))
            unique.append(rs)
    return unique


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Apply a JSON merge patch in place (to keep our copy of an RS in step with a patch we emit)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _replica_failure(new_rs: RS, all_rss: list[RS]) -> dict[str, Any] | None:
    """Argo's getReplicaFailures: a ReplicaFailure condition of the new RS first, else of any RS."""
    for rs in [new_rs, *all_rss]:
        for condition in (rs.get("status") or {}).get("conditions") or []:
            if condition.get("type") == CONDITION_REPLICA_FAILURE:
                return {
                    "type": CONDITION_REPLICA_FAILURE,
                    "status": condition.get("status"),
                    "lastTransitionTime": condition.get("lastTransitionTime"),
                    "lastUpdateTime": condition.get("lastTransitionTime"),
                    "reason": condition.get("reason"),
                    "message": condition.get("message"),
                }
    return None
