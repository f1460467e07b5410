"""What a blue-green reconcile knows and judges: its state beside the context, and the predicates over it.

bluegreen.py does the blue-green reconcile (switches, scaling, pauses,
analysis, status); the questions it asks on the way (is the new ReplicaSet
saturated, ready for the pause, fast-tracked, past its pause, past its
pre-promotion analysis; may an analysis be skipped) are answered here from the
observed status, the strategy and what this reconcile decided so far, as
Argo's bluegreen.go and utils/replicaset do. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rollouts.api.constants import (
    ANALYSIS_SUCCESSFUL,
    PAUSE_BLUE_GREEN,
    PAUSE_INCONCLUSIVE_ANALYSIS,
    SCALE_DOWN_DEADLINE_ANNOTATION,
)
from rollouts.api.phases import analysis_run_phase
from rollouts.api.rollout import BlueGreenStrategy
from rollouts.api.timestamps import parse_time
from rollouts.rollout import analysis as rollout_analysis
from rollouts.rollout import conditions as cond
from rollouts.rollout import replicaset_sync as rssync
from rollouts.rollout import replicasets as rsutil
from rollouts.rollout import sync
from rollouts.rollout.context import RolloutContext
from rollouts.rollout.pause import pause_condition
from rollouts.rollout.replicasets import RS
from rollouts.rollout.status import Status


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
    status: Status,
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


@dataclass
class BlueGreenReconcile:
    """A blue-green reconcile: the shared context plus what only blue-green tracks."""

    ctx: RolloutContext
    bg: BlueGreenStrategy
    selectors: dict[str, str]
    """Selectors as they stand, including the switches this reconcile decides (Argo mutates its copy)."""
    new_rs_within_delay: bool = False
    """Argo's newRSWithinDelay, read before this reconcile removes the deadline."""
    pre_run: dict[str, Any] | None = None
    post_run: dict[str, Any] | None = None
    verdict: rollout_analysis.BlueGreenAnalysisVerdict | None = None

    @property
    def new_hash(self) -> str:
        assert self.ctx.new_rs is not None
        return rsutil.rs_hash(self.ctx.new_rs)

    # sync.StrategyRules

    def progressing(self, status: Status) -> bool:
        return cond.blue_green_progressing(old=self.ctx.old, new=status)

    def healthy(self, status: Status) -> bool:
        ctx = self.ctx
        return cond.blue_green_healthy(
            replicas=ctx.replicas,
            has_preview=bool(self.bg.preview_service),
            generation=ctx.generation,
            old=ctx.old,
            new=status,
        )

    def available(self, status: Status) -> bool:
        """Available once the ReplicaSet behind the active Service is saturated."""
        active = str((status.get("blueGreen") or {}).get("activeSelector") or "")
        return is_saturated(rs_with_hash(self.ctx, active), self.ctx.replicas)

    def indefinite_step(self) -> bool:
        return sync.is_indefinite(self.ctx)


def rs_with_hash(ctx: RolloutContext, pod_hash: str) -> RS | None:
    """The ReplicaSet whose pods carry `pod_hash` ("" finds none)."""
    return next((rs for rs in ctx.all_rss if pod_hash and rsutil.rs_hash(rs) == pod_hash), None)


def halted(ctx: RolloutContext) -> bool:
    """Argo's haltProgress: a manual pause or an inconclusive analysis stops every switch and scale."""
    return bool(ctx.rollout.spec.paused) or pause_condition(ctx.old, PAUSE_INCONCLUSIVE_ANALYSIS) is not None


def wanted_new_replicas(bg: BlueGreenReconcile) -> int:
    """The size the new ReplicaSet should have now (new_rs_replicas for this reconcile)."""
    ctx = bg.ctx
    assert ctx.new_rs is not None
    return new_rs_replicas(
        blue_green=bg.bg,
        replicas=ctx.replicas,
        new_rs=ctx.new_rs,
        active_rs=rs_with_hash(ctx, str((ctx.old.get("blueGreen") or {}).get("activeSelector") or "")),
        status=ctx.old,
        spec_paused=bool(ctx.rollout.spec.paused),
    )


def ready_for_pause(bg: BlueGreenReconcile) -> bool:
    """Argo's ReadyForPause: the new ReplicaSet has its wanted size, all available."""
    new_rs = bg.ctx.new_rs
    assert new_rs is not None
    wanted = wanted_new_replicas(bg)
    return rsutil.spec_replicas(new_rs) == wanted and rsutil.available_replicas(new_rs) == wanted


def is_fast_rollback(bg: BlueGreenReconcile) -> bool:
    """Argo's isFastRollback, where a new RS still inside its scale-down delay also counts."""
    ctx = bg.ctx
    if not rssync.is_rollback(ctx):
        return False
    assert ctx.new_rs is not None
    return (
        rssync.rollback_within_window(ctx)
        or bg.new_rs_within_delay
        or ctx.old.get("stableRS") == rsutil.rs_hash(ctx.new_rs)
    )


def fast_tracked(bg: BlueGreenReconcile) -> bool:
    """Argo's isBlueGreenFastTracked: no pause, no waiting: switch the active Service now."""
    if is_fast_rollback(bg) or bg.ctx.old.get("promoteFull"):
        return True
    active = bg.selectors.get(bg.bg.active_service or "", "")
    return not active or active == bg.new_hash


def needs_controller_pause(bg: BlueGreenReconcile) -> bool:
    return not bg.bg.effective_auto_promotion_enabled() or (bg.bg.auto_promotion_seconds or 0) > 0


def completed_pre_promotion(bg: BlueGreenReconcile) -> bool:
    if bg.bg.pre_promotion_analysis is None:
        return True
    if bg.verdict is not None:
        return bg.verdict.pre_successful
    return bg.pre_run is not None and analysis_run_phase(bg.pre_run) == ANALYSIS_SUCCESSFUL


def completed_post_promotion(bg: BlueGreenReconcile) -> bool:
    if bg.verdict is not None:
        return bg.verdict.post_successful
    return bg.post_run is not None and analysis_run_phase(bg.post_run) == ANALYSIS_SUCCESSFUL


def completed_pause(bg: BlueGreenReconcile) -> bool:
    """Argo's CompletedBlueGreenPause: a human resumed, or autoPromotionSeconds passed."""
    ctx = bg.ctx
    if ctx.pause.has_add_pause():
        return False
    if (ctx.old.get("blueGreen") or {}).get("scaleUpPreviewCheckPoint"):
        return True
    pause = pause_condition(ctx.old, PAUSE_BLUE_GREEN)
    if bg.bg.effective_auto_promotion_enabled():
        seconds = bg.bg.auto_promotion_seconds or 0
        if seconds == 0:
            return True
        if pause is None:
            return False
        started = parse_time(pause.get("startTime")) or ctx.now
        return ctx.now > started + timedelta(seconds=seconds)
    return bool(ctx.old.get("controllerPause")) and pause is None


def skip_pre_promotion(bg: BlueGreenReconcile, current: dict[str, Any] | None) -> bool:
    """Argo's skipPrePromotionAnalysisRun."""
    ctx = bg.ctx
    assert ctx.new_rs is not None
    new_hash = bg.new_hash
    active = (ctx.old.get("blueGreen") or {}).get("activeSelector") or ""
    if ctx.old.get("stableRS") == new_hash or not active or active == new_hash:
        return True
    if current is not None:
        return False
    preview = bg.bg.preview_replica_count
    if preview is not None:
        return rsutil.spec_replicas(ctx.new_rs) != preview or rsutil.available_replicas(ctx.new_rs) != preview
    return not is_saturated(ctx.new_rs, ctx.replicas)


def skip_post_promotion(bg: BlueGreenReconcile, current: dict[str, Any] | None) -> bool:
    """Argo's skipPostPromotionAnalysisRun."""
    ctx = bg.ctx
    new_hash = bg.new_hash
    active = (ctx.old.get("blueGreen") or {}).get("activeSelector") or ""
    if ctx.old.get("stableRS") == new_hash or active != new_hash:
        return True
    if current is not None:
        return False
    return not is_saturated(ctx.new_rs, ctx.replicas)
