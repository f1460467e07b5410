"""Blue-green rollouts: Argo's rolloutBlueGreen as a variant of plan._Reconcile.

A blue-green update runs the new ReplicaSet beside the stable one: it scales
to `previewReplicaCount` (or full size), `previewService` points at it at
once, the rollout pauses (BlueGreenPause) when auto promotion is off or
delayed by `autoPromotionSeconds`, a pre-promotion analysis gates the switch,
then `activeService` is switched to the new pods, a post-promotion analysis
(if any) must pass, and only then the new ReplicaSet becomes stable. The old
one keeps running for `scaleDownDelaySeconds` (annotated with Argo's
`scale-down-deadline`) so that a switch back is instant, and at most
`scaleDownDelayRevisionLimit` old revisions stay up. An abort switches the
active Service back to the stable pods and scales the preview down after
`abortScaleDownDelaySeconds`.

The shared parts (finding and creating ReplicaSets, pause and abort
bookkeeping, conditions, phase, revision history, restarts) are the canary's
in plan.py; this module overrides what differs, following Argo's
rollout/bluegreen.go, service.go, replicaset.go and sync.go in their order,
because the order decides which status a reconcile writes. Pure: no I/O.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.common import InvalidValueError, scaled_value
from rollouts.api.constants import (
    ANALYSIS_SUCCESSFUL,
    DEFAULT_MAX_UNAVAILABLE,
    PAUSE_BLUE_GREEN,
    PAUSE_CANARY_STEP,
    PAUSE_INCONCLUSIVE_ANALYSIS,
    POD_TEMPLATE_HASH_LABEL,
    SCALE_DOWN_DEADLINE_ANNOTATION,
)
from rollouts.api.phases import analysis_run_phase, rollout_completed
from rollouts.api.podhash import compute_pod_template_hash
from rollouts.api.rollout import BlueGreenStrategy
from rollouts.api.timestamps import format_time, parse_time
from rollouts.rollout import analysis as rollout_analysis
from rollouts.rollout import conditions as cond
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout.actions import PatchReplicaSet, PatchServiceSelector
from rollouts.rollout.plan import Plan, _metadata_dict, _pause_condition, _Reconcile
from rollouts.rollout.replicasets import RS


def is_saturated(rs: RS | None, replicas: int) -> bool:
    """Argo's IsSaturated: the ReplicaSet runs exactly the rollout's replicas, all available."""
    if rs is None:
        return False
    return (
        rsutil.spec_replicas(rs) == replicas
        and rsutil.desired_replicas(rs) == replicas
        and rsutil.available_replicas(rs) == replicas
    )


def seconds_before_deadline(rs: RS, now: datetime) -> float | None:
    """Time left before the RS's scale-down-deadline; None without a readable deadline."""
    deadline = parse_time(rsutil.annotations_of(rs).get(SCALE_DOWN_DEADLINE_ANNOTATION))
    if deadline is None:
        return None
    return (deadline - now).total_seconds()


def new_rs_replicas(
    *,
    blue_green: BlueGreenStrategy,
    replicas: int,
    new_rs: RS,
    active_rs: RS | None,
    status: dict[str, Any],
    spec_paused: bool,
) -> int:
    """Argo's NewRSNewReplicas for blue-green: previewReplicaCount until the promotion, then full size."""
    preview = blue_green.preview_replica_count
    if preview is None:
        return replicas
    if active_rs is None or rsutil.rs_name(active_rs) == rsutil.rs_name(new_rs):
        return replicas  # past the switch already
    if status.get("promoteFull"):
        return replicas
    if rsutil.rs_hash(new_rs) != status.get("currentPodHash"):
        return preview  # a new update
    not_paused = not spec_paused and not status.get("pauseConditions")
    if not_paused and (status.get("blueGreen") or {}).get("scaleUpPreviewCheckPoint"):
        return replicas  # promoted: scale up before the active switch
    return preview


class BlueGreenReconcile(_Reconcile):
    """One reconcile of a blue-green rollout; `decide()` picks it when spec.strategy.blueGreen is set."""

    def _blue_green(self) -> Plan:
        spec = self.rollout.spec
        blue_green = spec.strategy.blue_green
        assert blue_green is not None
        self.bg = blue_green
        self.replicas = spec.effective_replicas()
        self.template: dict[str, Any] = spec.template or {}
        self.steps = []
        self.step_count = 0
        self.generation = int(self.rollout.metadata.generation or 0)
        self.max_surge = 0
        self.max_unavailable = min(
            scaled_value(blue_green.max_unavailable, self.replicas, round_up=False, default=DEFAULT_MAX_UNAVAILABLE),
            self.replicas,
        )
        self.current_step_hash = ""
        self.bg_verdict: rollout_analysis.BlueGreenAnalysisVerdict | None = None

        self.all_rss: list[RS] = [copy.deepcopy(rs) for rs in self.observed.replicasets]
        pod_hash = compute_pod_template_hash(self.template, self.old.get("collisionCount"))
        self.new_rs = rsutil.find_new_replicaset(self.all_rss, pod_hash=pod_hash, template=self.template)
        self._classify()
        # Selectors as they stand, including the switches this reconcile decides (Argo mutates its copy).
        self.selectors: dict[str, str] = {}
        for name in (blue_green.active_service, blue_green.preview_service):
            service = self.observed.services.get(name or "")
            if name and service is not None:
                selector = (service.get("spec") or {}).get("selector") or {}
                self.selectors[name] = str(selector.get(POD_TEMPLATE_HASH_LABEL, ""))

        if self.new_rs is None:
            return self._create_new_replicaset(pod_hash)
        # Argo's newRSWithinDelay, read before this reconcile removes the deadline.
        remaining = seconds_before_deadline(self.new_rs, self.now)
        self.new_rs_within_delay = remaining is not None and remaining > 0

        if rollout_completed(self.old) and self.pause.is_aborted():
            self.pause.remove_abort = True

        early = self._check_paused_conditions()
        if early is not None:
            return early

        self._sync_replicaset_revision()
        self.pre_run, self.post_run = self._observed_runs()
        try:
            if self._is_scaling_event():
                return self._sync_replicas_only()
            return self._rollout_blue_green()
        except InvalidValueError as error:
            return self.invalid(str(error))

    def _sync_replicas_only(self) -> Plan:
        """Argo's syncReplicasOnly: a scaling event resizes the ReplicaSets and refreshes the counters only."""
        self._reconcile_blue_green_replicasets()
        status = copy.deepcopy(self.base)
        active = str((status.get("blueGreen") or {}).get("activeSelector") or "")
        active_rs = next((rs for rs in self.all_rss if active and rsutil.rs_hash(rs) == active), None)
        counted = [active_rs] if active_rs is not None else self.all_rss
        status["HPAReplicas"] = rsutil.total_status(counted)
        status["availableReplicas"] = rsutil.total_available(counted)
        return self._persist(status)

    # ------------------------------------------------------------------ rolloutBlueGreen

    def _rollout_blue_green(self) -> Plan:
        self._reconcile_preview_service()
        if self._template_or_steps_changed():
            return self._sync_status_blue_green()
        self._reconcile_restart()
        self._reconcile_blue_green_replicasets()
        self._reconcile_blue_green_pause()
        self._reconcile_active_service()
        self._reconcile_bg_analysis()
        self._reconcile_ephemeral_metadata()
        return self._sync_status_blue_green()

    def _template_or_steps_changed(self) -> bool:
        """Argo's CheckPodSpecChange: the recorded current pod hash is not the new ReplicaSet's."""
        old_pod_hash = self.old.get("currentPodHash") or ""
        return bool(old_pod_hash) and self.new_rs is not None and old_pod_hash != rsutil.rs_hash(self.new_rs)

    def _new_and_stable_metadata(self) -> tuple[dict[str, dict[str, str]] | None, dict[str, dict[str, str]] | None]:
        return _metadata_dict(self.bg.preview_metadata), _metadata_dict(self.bg.active_metadata)

    def _new_hash(self) -> str:
        assert self.new_rs is not None
        return rsutil.rs_hash(self.new_rs)

    def _halted(self) -> bool:
        """Argo's haltProgress: a manual pause or an inconclusive analysis stops every switch and scale."""
        return bool(self.rollout.spec.paused) or _pause_condition(self.old, PAUSE_INCONCLUSIVE_ANALYSIS) is not None

    def _observed_runs(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The pre- and post-promotion runs of the new ReplicaSet as observed (Argo's currentArs)."""
        assert self.new_rs is not None
        by_name = {run["metadata"]["name"]: run for run in self.observed.analysis_runs}
        found: list[dict[str, Any] | None] = []
        for infix in ("pre", "post"):
            base = rollout_analysis.run_name(self.rollout.name, self._new_hash(), rsutil.revision(self.new_rs), infix)
            found.append(rollout_analysis.current_run(by_name, base)[1])
        return found[0], found[1]

    # ------------------------------------------------------------------ services

    def _switch(self, name: str | None, pod_hash: str) -> None:
        """Argo's switchServiceSelector: point the Service at `pod_hash` and mark it managed by us."""
        if not name or not pod_hash or name not in self.selectors:
            return
        service = self.observed.services.get(name) or {}
        managed = "argo-rollouts.argoproj.io/managed-by-rollouts" in (
            (service.get("metadata") or {}).get("annotations") or {}
        )
        current = self.selectors[name]
        if current == pod_hash and managed:
            return
        self.actions.append(PatchServiceSelector(service=name, pod_hash=pod_hash))
        if current != pod_hash:
            self.event(cond.SWITCH_SERVICE_REASON, cond.SWITCH_SERVICE_MESSAGE.format(name, current, pod_hash))
        self.selectors[name] = pod_hash

    def _reconcile_preview_service(self) -> None:
        if self.bg.preview_service and not self._halted():
            self._switch(self.bg.preview_service, self._new_hash())

    def _reconcile_active_service(self) -> None:
        if self._halted():
            return
        assert self.new_rs is not None
        if not self._ready_for_pause() or not is_saturated(self.new_rs, self.replicas):
            return
        active = self.bg.active_service or ""
        desired = self.selectors.get(active, "")
        if self._fast_tracked():
            desired = self._new_hash()
        if self._completed_blue_green_pause() and self._completed_pre_promotion():
            desired = self._new_hash()
        if self.old.get("abort"):
            desired = str(self.old.get("stableRS") or "")
        self._switch(active, desired)

    # ------------------------------------------------------------------ replica sets

    def _new_rs_replicas(self) -> int:
        assert self.new_rs is not None
        active_hash = str((self.old.get("blueGreen") or {}).get("activeSelector") or "")
        active_rs = next((rs for rs in self.all_rss if active_hash and rsutil.rs_hash(rs) == active_hash), None)
        return new_rs_replicas(
            blue_green=self.bg,
            replicas=self.replicas,
            new_rs=self.new_rs,
            active_rs=active_rs,
            status=self.old,
            spec_paused=bool(self.rollout.spec.paused),
        )

    def _ready_for_pause(self) -> bool:
        """Argo's ReadyForPause: the new ReplicaSet has its wanted size, all available."""
        assert self.new_rs is not None
        wanted = self._new_rs_replicas()
        return rsutil.spec_replicas(self.new_rs) == wanted and rsutil.available_replicas(self.new_rs) == wanted

    def _abort_scale_down_delay(self) -> int | None:
        """abortScaleDownDelaySeconds (default 30); None when 0: the preview then stays up."""
        delay = self.bg.effective_abort_scale_down_delay_seconds()
        return delay if delay > 0 else None

    def _should_delay_scale_down_on_abort(self) -> bool:
        return self.pause.is_aborted() and self.stable_rs is not None and self._abort_scale_down_delay() is not None

    def _set_deadline(self, rs: RS, seconds: int) -> None:
        deadline = format_time(self.now + timedelta(seconds=seconds))
        self.actions.append(
            PatchReplicaSet(
                name=rsutil.rs_name(rs), patch={"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: deadline}}}
            )
        )

    def _clear_deadline(self, rs: RS) -> None:
        if rsutil.has_scale_down_deadline(rs):
            self.actions.append(
                PatchReplicaSet(
                    name=rsutil.rs_name(rs), patch={"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: None}}}
                )
            )
            rs["metadata"]["annotations"].pop(SCALE_DOWN_DEADLINE_ANNOTATION, None)

    def _reconcile_blue_green_replicasets(self) -> None:
        """Argo's reconcileBlueGreenReplicaSets: stable at full size, the new one at its size, old ones down."""
        assert self.new_rs is not None
        if not self._should_delay_scale_down_on_abort():
            self._clear_deadline(self.new_rs)
        if self.stable_rs is not None and rsutil.rs_name(self.stable_rs) != rsutil.rs_name(self.new_rs):
            self._clear_deadline(self.stable_rs)
        if self.stable_rs is not None and rsutil.rs_name(self.stable_rs) != rsutil.rs_name(self.new_rs):
            self._scale(self.stable_rs, self.replicas)
        self._reconcile_new_replicaset()
        self._scale_down_old_replicasets()
        self._reconcile_revision_history()

    def _reconcile_new_replicaset(self) -> None:
        assert self.new_rs is not None
        wanted = self._new_rs_replicas()
        if self._should_delay_scale_down_on_abort():
            remaining = seconds_before_deadline(self.new_rs, self.now)
            if remaining is not None:
                if remaining > 0:
                    self.requeue_in(remaining)
                    return
                wanted = 0
            else:
                delay = self._abort_scale_down_delay()
                assert delay is not None and self.stable_rs is not None
                # Only once the stable pods can take all traffic: the deadline removes the preview for good.
                if rsutil.spec_replicas(self.new_rs) > 0 and rsutil.available_replicas(self.stable_rs) >= self.replicas:
                    self._set_deadline(self.new_rs, delay)
                    self.requeue_in(delay)
                return
        self._scale(self.new_rs, wanted)

    def _scale_down_old_replicasets(self) -> None:
        """Argo's scaleDownOldReplicaSetsForBlueGreen, with scaleDownDelaySeconds and its revision limit.

        Differences from Argo, both to keep a leaving ReplicaSet from growing or
        staying forever: an RS inside its delay keeps its size (Argo scales it to
        the rollout's replicas), and scaleDownDelaySeconds: 0 scales down at once.
        """
        if _pause_condition(self.old, PAUSE_INCONCLUSIVE_ANALYSIS) is not None:
            return
        if (
            self.bg.post_promotion_analysis is not None
            and self.bg.scale_down_delay_seconds is None
            and not self._skip_post_promotion(self.post_run)
            and (self.post_run is None or analysis_run_phase(self.post_run) != ANALYSIS_SUCCESSFUL)
        ):
            return  # without a delay, the old pods wait for the post-promotion verdict
        active = sorted((rs for rs in self.other_rss if rsutil.is_active(rs)), key=rsutil.revision, reverse=True)
        limit = self.bg.scale_down_delay_revision_limit
        delay = self.bg.effective_scale_down_delay_seconds()
        referenced = self._referenced_hashes() | set(self.selectors.values())
        annotated = 0
        for rs in active:
            if rsutil.rs_hash(rs) in referenced:
                continue
            current = rsutil.spec_replicas(rs)
            wanted = 0
            remaining = seconds_before_deadline(rs, self.now)
            if not rsutil.has_scale_down_deadline(rs):
                if (limit is None or annotated < limit) and delay > 0:
                    annotated += 1
                    wanted = current
                    self._set_deadline(rs, delay)
                    self.requeue_in(delay)
            else:
                annotated += 1
                if (limit is None or annotated <= limit) and remaining is not None and remaining > 0:
                    self.requeue_in(remaining)
                    wanted = current
            if wanted != current:
                self._scale(rs, wanted)

    # ------------------------------------------------------------------ pause

    def _is_fast_rollback(self) -> bool:
        """Argo's isFastRollback, where a new RS still inside its scale-down delay also counts."""
        if not self._is_rollback():
            return False
        assert self.new_rs is not None
        return (
            self._rollback_within_window()
            or self.new_rs_within_delay
            or self.old.get("stableRS") == rsutil.rs_hash(self.new_rs)
        )

    def _fast_tracked(self) -> bool:
        """Argo's isBlueGreenFastTracked: no pause, no waiting: switch the active Service now."""
        if self._is_fast_rollback() or self.old.get("promoteFull"):
            return True
        active = self.selectors.get(self.bg.active_service or "", "")
        return not active or active == self._new_hash()

    def _needs_controller_pause(self) -> bool:
        return not self.bg.effective_auto_promotion_enabled() or (self.bg.auto_promotion_seconds or 0) > 0

    def _completed_pre_promotion(self) -> bool:
        if self.bg.pre_promotion_analysis is None:
            return True
        if self.bg_verdict is not None:
            return self.bg_verdict.pre_successful
        return self.pre_run is not None and analysis_run_phase(self.pre_run) == ANALYSIS_SUCCESSFUL

    def _completed_blue_green_pause(self) -> bool:
        """Argo's CompletedBlueGreenPause: a human resumed, or autoPromotionSeconds passed."""
        if self.pause.has_add_pause():
            return False
        if (self.old.get("blueGreen") or {}).get("scaleUpPreviewCheckPoint"):
            return True
        pause = _pause_condition(self.old, PAUSE_BLUE_GREEN)
        if self.bg.effective_auto_promotion_enabled():
            seconds = self.bg.auto_promotion_seconds or 0
            if seconds == 0:
                return True
            if pause is None:
                return False
            started = parse_time(pause.get("startTime")) or self.now
            return self.now > started + timedelta(seconds=seconds)
        return bool(self.old.get("controllerPause")) and pause is None

    def _reconcile_blue_green_pause(self) -> None:
        """Argo's reconcileBlueGreenPause: pause before the switch when promotion is manual or delayed."""
        if self.old.get("abort") or not self._ready_for_pause() or self._halted():
            return
        if (
            self._fast_tracked()
            or (self.old.get("blueGreen") or {}).get("scaleUpPreviewCheckPoint")
            or not self._needs_controller_pause()
        ):
            self.pause.remove_reasons.append(PAUSE_BLUE_GREEN)
            return
        if not self._completed_pre_promotion():
            return
        pause = _pause_condition(self.old, PAUSE_BLUE_GREEN)
        if pause is None:
            if not self.old.get("controllerPause"):
                self.pause.add_reasons.append(PAUSE_BLUE_GREEN)
                if self.bg.auto_promotion_seconds:
                    self.requeue_in(self.bg.auto_promotion_seconds)
            return
        if self._completed_blue_green_pause():
            self.pause.remove_reasons.append(PAUSE_BLUE_GREEN)
        elif self.bg.auto_promotion_seconds:
            started = parse_time(pause.get("startTime")) or self.now
            remaining = (started + timedelta(seconds=self.bg.auto_promotion_seconds) - self.now).total_seconds()
            # Argo compares with After(): come back just past the deadline.
            self.requeue_in(max(remaining, 0.0) + 0.5)

    # ------------------------------------------------------------------ analysis

    def _skip_pre_promotion(self, current: dict[str, Any] | None) -> bool:
        """Argo's skipPrePromotionAnalysisRun."""
        assert self.new_rs is not None
        new_hash = self._new_hash()
        active = (self.old.get("blueGreen") or {}).get("activeSelector") or ""
        if self.old.get("stableRS") == new_hash or not active or active == new_hash:
            return True
        if current is not None:
            return False
        preview = self.bg.preview_replica_count
        if preview is not None:
            return rsutil.spec_replicas(self.new_rs) != preview or rsutil.available_replicas(self.new_rs) != preview
        return not is_saturated(self.new_rs, self.replicas)

    def _skip_post_promotion(self, current: dict[str, Any] | None) -> bool:
        """Argo's skipPostPromotionAnalysisRun."""
        new_hash = self._new_hash()
        active = (self.old.get("blueGreen") or {}).get("activeSelector") or ""
        if self.old.get("stableRS") == new_hash or active != new_hash:
            return True
        if current is not None:
            return False
        return not is_saturated(self.new_rs, self.replicas)

    def _reconcile_bg_analysis(self) -> None:
        """Argo's reconcileAnalysisRuns for blue-green: pre/post-promotion runs, abort or pause on their verdict."""
        assert self.new_rs is not None
        stable_hash = str(self.old.get("stableRS") or "")
        cancel = (
            rollout_completed(self.old)
            or self.pause.is_aborted()
            or bool(self.old.get("promoteFull"))
            or self._is_fast_rollback()
            or not stable_hash
        )
        # Promoted past an inconclusive run (Argo's needsNewAnalysisRun): measure again.
        rerun_inconclusive = (
            bool(self.old.get("controllerPause"))
            and _pause_condition(self.old, PAUSE_CANARY_STEP) is None
            and _pause_condition(self.old, PAUSE_BLUE_GREEN) is None
            and _pause_condition(self.old, PAUSE_INCONCLUSIVE_ANALYSIS) is None
        )
        verdict = rollout_analysis.blue_green_analysis(
            rollout_raw=self.raw,
            runs=self.observed.analysis_runs,
            lookup=self._template_lookup,
            pod_hash=self._new_hash(),
            stable_hash=stable_hash,
            revision=rsutil.revision(self.new_rs),
            cancel=cancel,
            skip_pre=self._skip_pre_promotion(self.pre_run),
            skip_post=self._skip_post_promotion(self.post_run),
            inconclusive_paused=_pause_condition(self.old, PAUSE_INCONCLUSIVE_ANALYSIS) is not None,
            retrying=self._retrying(),
            rerun_inconclusive=rerun_inconclusive,
            history=self._history_limits(),
        )
        if verdict.error:
            raise InvalidValueError(f"spec.strategy.blueGreen: {verdict.error}")
        self.actions.extend(verdict.actions)
        self.bg_verdict = verdict
        if verdict.abort_message and not self.pause.is_aborted():
            self.pause.add_abort = True
            self.pause.abort_message = verdict.abort_message
        elif verdict.inconclusive:
            self.pause.add_reasons.append(PAUSE_INCONCLUSIVE_ANALYSIS)

    # ------------------------------------------------------------------ status

    def _progressing(self, status: dict[str, Any]) -> bool:
        return cond.blue_green_progressing(old=self.old, new=status)

    def _available(self, status: dict[str, Any]) -> bool:
        """Available once the ReplicaSet behind the active Service is saturated."""
        active = str((status.get("blueGreen") or {}).get("activeSelector") or "")
        active_rs = next((rs for rs in self.all_rss if active and rsutil.rs_hash(rs) == active), None)
        return is_saturated(active_rs, self.replicas)

    def _healthy(self, status: dict[str, Any]) -> bool:
        return cond.blue_green_healthy(
            replicas=self.replicas,
            has_preview=bool(self.bg.preview_service),
            generation=self.generation,
            old=self.old,
            new=status,
        )

    def _reset_status(self, status: dict[str, Any]) -> None:
        super()._reset_status(status)
        for key in ("prePromotionAnalysisRunStatus", "postPromotionAnalysisRunStatus", "scaleUpPreviewCheckPoint"):
            status["blueGreen"].pop(key, None)

    def _should_full_promote_bg(self, status: dict[str, Any]) -> str:
        """Argo's shouldFullPromote for blue-green; the order of the checks matters."""
        if self.stable_rs is None:
            return "Initial deploy"
        active = (status.get("blueGreen") or {}).get("activeSelector") or ""
        if not active:
            return "Initial deploy"  # the active Service follows the first stable ReplicaSet
        if active != status.get("currentPodHash"):
            return ""
        if self.old.get("promoteFull"):
            return "Full promotion requested"
        if self._is_fast_rollback():
            return "Rollback within window" if self._rollback_within_window() else "Fast rollback"
        if self.pause.is_aborted():
            return ""
        if self.bg.post_promotion_analysis is not None:
            successful = (
                self.bg_verdict.post_successful
                if self.bg_verdict is not None
                else self.post_run is not None and analysis_run_phase(self.post_run) == ANALYSIS_SUCCESSFUL
            )
            if not successful:
                return ""
        return "Completed blue-green update"

    def _scale_up_preview_check_point(self) -> bool:
        """Argo's calculateScaleUpPreviewCheckPoint: a one-way switch once the preview is promoted."""
        assert self.new_rs is not None
        preview = self.bg.preview_replica_count
        if preview is None:
            return False
        if (self.old.get("blueGreen") or {}).get("scaleUpPreviewCheckPoint"):
            return True
        if not self._completed_pre_promotion() or not self._completed_blue_green_pause():
            return False
        return preview == rsutil.available_replicas(self.new_rs)

    def _sync_status_blue_green(self) -> Plan:
        """Argo's syncRolloutStatusBlueGreen."""
        assert self.new_rs is not None
        status = self._base_status()
        status.pop("currentStepHash", None)
        status["canary"] = {}
        old_bg = self.old.get("blueGreen") or {}
        blue_green: dict[str, Any] = {}
        verdict = self.bg_verdict
        pre_key, post_key = "prePromotionAnalysisRunStatus", "postPromotionAnalysisRunStatus"
        recorded = {
            pre_key: verdict.pre_run_status if verdict else old_bg.get(pre_key),
            post_key: verdict.post_run_status if verdict else old_bg.get(post_key),
        }
        blue_green.update({key: value for key, value in recorded.items() if value is not None})
        status["blueGreen"] = blue_green
        if self._template_or_steps_changed():
            self._reset_status(status)
        if self.old.get("promoteFull") or self._rollback_within_window():
            self.pause.clear = True
            self.pause.remove_abort = True
        preview = self.selectors.get(self.bg.preview_service or "", "")
        active = self.selectors.get(self.bg.active_service or "", "")
        if preview:
            blue_green["previewSelector"] = preview
        if active:
            blue_green["activeSelector"] = active
        reason = self._should_full_promote_bg(status)
        if reason:
            self._promote_stable(status, reason)
            blue_green.pop("scaleUpPreviewCheckPoint", None)
        elif self._scale_up_preview_check_point():
            blue_green["scaleUpPreviewCheckPoint"] = True
        active_rs = next((rs for rs in self.all_rss if active and rsutil.rs_hash(rs) == active), None)
        if active_rs is not None:
            status["HPAReplicas"] = rsutil.status_replicas(active_rs)
            status["selector"] = rsutil.format_selector((active_rs.get("spec") or {}).get("selector"))
            status["availableReplicas"] = rsutil.available_replicas(active_rs)
            status["readyReplicas"] = rsutil.ready_replicas(active_rs)
        return self._persist(status)
