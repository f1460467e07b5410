"""decide(): observed world + now -> actions + new status, for rolling and canary rollouts.

The functional core of the rollout controller (DESIGN.md §3). It reads the
Rollout, the ReplicaSets it owns and the Services it names, and returns what
should change, without I/O and with time passed in, so every transition is a
unit test and restarting the controller anywhere is safe: all state it needs
is in `.status`, labels and annotations. Semantics follow Argo Rollouts'
rollout/canary.go and sync.go (step progression, pause conditions, abort,
full promotion, fast rollback, progress deadline, phase and conditions).

Not yet here: blue-green (issue 5), analysis and experiment steps (issue 6;
such a step waits), traffic routing, restartAt, ephemeral canary/stable
metadata on running pods.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.api.common import InvalidValueError, parse_duration, scaled_value
from rollouts.api.constants import (
    PAUSE_CANARY_STEP,
    PHASE_DEGRADED,
    PHASE_HEALTHY,
    PHASE_PAUSED,
    PHASE_PROGRESSING,
    REVISION_ANNOTATION,
)
from rollouts.api.podhash import compute_pod_template_hash, fnv32a, safe_encode
from rollouts.api.rollout import CanaryStep, Rollout
from rollouts.api.validation import validate_rollout
from rollouts.rollout import canary
from rollouts.rollout.actions import (
    Action,
    CreateReplicaSet,
    DeleteReplicaSet,
    PatchRolloutMetadata,
    PatchServiceSelector,
    RecordEvent,
    ScaleReplicaSet,
)
from rollouts.rollout.replicasets import (
    RS,
    available_replicas,
    creation_key,
    find_new_replicaset,
    format_selector,
    new_replicaset,
    ready_replicas,
    revision,
    rs_hash,
    rs_name,
    spec_replicas,
    status_replicas,
)

MAX_WEIGHT = 100

# Progressing condition reasons (Argo's utils/conditions)
REASON_NEW_RS_CREATED = "NewReplicaSetCreated"
REASON_RS_UPDATED = "ReplicaSetUpdated"
REASON_NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
REASON_PAUSED = "RolloutPaused"
REASON_RESUMED = "RolloutResumed"
REASON_ABORTED = "RolloutAborted"
REASON_TIMED_OUT = "ProgressDeadlineExceeded"
REASON_RETRY = "RolloutRetry"
REASON_AVAILABLE = "AvailableReason"
REASON_COMPLETED = "RolloutCompleted"
REASON_HEALTHY = "RolloutHealthy"
REASON_INVALID_SPEC = "InvalidSpec"


@dataclass(frozen=True)
class Observed:
    rollout: dict[str, Any]
    replicasets: list[RS]
    services: dict[str, dict[str, Any] | None] = field(default_factory=dict)


@dataclass
class Plan:
    actions: list[Action]
    status: dict[str, Any]
    requeue_after: float | None = None


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def step_hash(steps: list[dict[str, Any]] | None) -> str:
    """Argo's ComputeStepHash: FNV-32a over Go's JSON of the steps list."""
    encoded = "null" if steps is None else json.dumps(steps, separators=(",", ":"))
    return safe_encode(str(fnv32a(encoded.encode())))


def step_string(step: CanaryStep) -> str:
    if step.set_weight is not None:
        return f"setWeight: {step.set_weight}"
    if step.pause is not None:
        if step.pause.duration is not None:
            return f"pause: {step.pause.duration}"
        return "pause"
    return ", ".join(step.kinds()) or "step"


def _condition(
    *, kind: str, status: str, reason: str, message: str, now: str, previous: dict[str, Any] | None
) -> dict[str, Any]:
    """A condition; lastTransitionTime moves only when status flips, lastUpdateTime when anything does."""
    if (
        previous
        and previous.get("status") == status
        and previous.get("reason") == reason
        and previous.get("message") == message
    ):
        return previous
    transition = previous.get("lastTransitionTime") if previous and previous.get("status") == status else now
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": now,
        "lastTransitionTime": transition or now,
    }


class _Decision:
    """One reconcile's working state; `decide()` is its only entry point."""

    def __init__(self, observed: Observed, now: datetime) -> None:
        self.raw = observed.rollout
        self.rollout = Rollout.from_dict(observed.rollout)
        self.replicasets = [rs for rs in observed.replicasets if not rs["metadata"].get("deletionTimestamp")]
        self.services = observed.services
        self.now = now
        self.now_text = timestamp(now)
        self.old_status: dict[str, Any] = copy.deepcopy(observed.rollout.get("status") or {})
        self.actions: list[Action] = []
        self.requeue: float | None = None

    def requeue_at(self, seconds: float) -> None:
        seconds = max(seconds, 0.05)
        self.requeue = seconds if self.requeue is None else min(self.requeue, seconds)

    def event(self, reason: str, message: str, kind: str = "Normal") -> None:
        self.actions.append(RecordEvent(reason=reason, message=message, type=kind))

    # ------------------------------------------------------------------ entry

    def run(self) -> Plan:
        errors = validate_rollout(self.rollout)
        if errors:
            return self.invalid(errors[0])
        if self.rollout.spec.strategy.canary is None:
            return self.invalid("spec.strategy: only the canary strategy is supported by this controller yet")
        try:
            return self.canary()
        except InvalidValueError as error:
            return self.invalid(str(error))

    def invalid(self, message: str) -> Plan:
        status = copy.deepcopy(self.old_status)
        previous = self._old_condition("InvalidSpec")
        condition = _condition(
            kind="InvalidSpec",
            status="True",
            reason=REASON_INVALID_SPEC,
            message=message,
            now=self.now_text,
            previous=previous,
        )
        status["conditions"] = self._merge_conditions(status.get("conditions"), [condition])
        status["phase"] = PHASE_DEGRADED
        status["message"] = f"InvalidSpec: {message}"
        status["observedGeneration"] = str(self.rollout.metadata.generation or 0)
        # Nothing decided before the spec turned out invalid may touch the cluster.
        self.actions = [a for a in self.actions if isinstance(a, RecordEvent)]
        if previous is None or previous.get("message") != message:
            self.event("InvalidSpec", f'The Rollout "{self.rollout.name}" is invalid: {message}', "Warning")
        return Plan(actions=self.actions, status=status)

    def _old_condition(self, kind: str) -> dict[str, Any] | None:
        for condition in self.old_status.get("conditions") or []:
            if condition.get("type") == kind:
                return dict(condition)
        return None

    @staticmethod
    def _merge_conditions(existing: list[dict[str, Any]] | None, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        merged = {c["type"]: c for c in existing or []}
        for update in updates:
            merged[update["type"]] = update
        return list(merged.values())

    # ----------------------------------------------------------------- canary

    def canary(self) -> Plan:
        ro = self.rollout
        spec = ro.spec
        strategy = spec.strategy.canary
        assert strategy is not None
        replicas = spec.effective_replicas()
        template = spec.template or {}
        old = self.old_status
        collision_count = old.get("collisionCount")
        pod_hash = compute_pod_template_hash(template, collision_count)
        steps = strategy.effective_steps()
        raw_steps = ((self.raw.get("spec") or {}).get("strategy") or {}).get("canary", {}).get("steps")
        current_step_hash = step_hash(raw_steps)
        step_count = len(steps)
        max_surge = scaled_value(strategy.effective_max_surge(), replicas, round_up=True)
        max_unavailable = scaled_value(strategy.effective_max_unavailable(), replicas, round_up=False)

        status: dict[str, Any] = {
            k: v
            for k, v in old.items()
            if k
            in (
                "pauseConditions",
                "controllerPause",
                "abort",
                "abortedAt",
                "promoteFull",
                "restartedAt",
                "collisionCount",
                "conditions",
                "stableRS",
                "currentStepIndex",
                "canary",
                "workloadObservedGeneration",
            )
        }
        stable_hash: str = old.get("stableRS") or ""
        new_rs = find_new_replicaset(self.replicasets, pod_hash=pod_hash, template=template)
        if new_rs is not None and rs_hash(new_rs) and rs_hash(new_rs) != pod_hash:
            pod_hash = rs_hash(new_rs)  # adopted: keep its hash
        template_changed = old.get("currentPodHash") != pod_hash or old.get("currentStepHash") != current_step_hash
        aborted = bool(old.get("abort"))
        paused_by_user = bool(spec.paused)

        if template_changed:
            # Argo's resetRolloutStatus: a new revision starts its steps again.
            status.pop("pauseConditions", None)
            status.pop("controllerPause", None)
            status.pop("abort", None)
            status.pop("abortedAt", None)
            status.pop("promoteFull", None)
            aborted = False
            status["currentStepIndex"] = 0
            status.setdefault("canary", {})
            status["canary"] = {}
            if step_count and stable_hash and stable_hash == pod_hash:
                self.event("SkipSteps", "Rollback to stable ReplicaSets")
                status["currentStepIndex"] = step_count
            if old.get("currentPodHash") and old.get("currentPodHash") != pod_hash:
                self.event(
                    REASON_RS_UPDATED if False else "RolloutUpdated",
                    f"Rollout updated to revision {self._next_revision(new_rs)}",
                )
        step_index = int(status.get("currentStepIndex") or 0) if step_count else 0
        if not step_count:
            status.pop("currentStepIndex", None)

        stable_rs = next((rs for rs in self.replicasets if stable_hash and rs_hash(rs) == stable_hash), None)
        if stable_rs is None and stable_hash:
            stable_rs = None  # the stable RS was deleted by someone; treat as no stable
        if stable_rs is None and new_rs is None:
            stable_hash = ""

        # --- create the new ReplicaSet when missing
        created = False
        if new_rs is None:
            revision_number = self._next_revision(None)
            canary_meta = strategy.canary_metadata if stable_rs is not None else strategy.stable_metadata
            body = new_replicaset(
                rollout=self.raw,
                template=template,
                pod_hash=pod_hash,
                replicas=0,
                revision_number=revision_number,
                extra_pod_metadata=canary_meta.to_dict() if canary_meta else None,
            )
            new_rs = copy.deepcopy(body)
            new_rs["status"] = {}
            created = True

        if not stable_hash:
            # Initial deploy: the first revision is stable at once (Argo's promoteStable).
            stable_hash = pod_hash
            status["stableRS"] = pod_hash
            stable_rs = new_rs
            status.pop("pauseConditions", None)
            status.pop("controllerPause", None)
            if step_count:
                step_index = step_count
            self.event(
                REASON_COMPLETED,
                f"Rollout completed update to revision {revision(new_rs) or 1} ({pod_hash}): Initial deploy",
            )

        is_stable = rs_name(new_rs) == (rs_name(stable_rs) if stable_rs else None)
        old_rss = [
            rs
            for rs in self.replicasets
            if rs_name(rs) != rs_name(new_rs) and (stable_rs is None or rs_name(rs) != rs_name(stable_rs))
        ]

        promote_full = bool(status.get("promoteFull"))
        if promote_full and step_count:
            step_index = step_count
            status.pop("pauseConditions", None)
            status.pop("controllerPause", None)

        if aborted:
            if step_count:
                step_index = step_count if is_stable else 0
            status.pop("pauseConditions", None)
            status.pop("controllerPause", None)
            if not status.get("abortedAt"):
                status["abortedAt"] = self.now_text
                self.event(
                    REASON_ABORTED,
                    f"Rollout aborted update to revision {revision(new_rs)}",
                    "Warning",
                )

        # --- weights and counts
        if aborted:
            weight = 0
        elif promote_full or is_stable or not step_count or step_index >= step_count:
            weight = MAX_WEIGHT
        else:
            weight = 0
            for step in reversed(steps[: step_index + 1]):
                if step.set_weight is not None:
                    weight = step.set_weight
                    break
        counts = canary.basic_canary_counts(
            replicas=replicas,
            weight=weight,
            max_weight=MAX_WEIGHT,
            max_surge=max_surge,
            max_unavailable=max_unavailable,
            new_rs=new_rs,
            stable_rs=None if is_stable else stable_rs,
            old_rss=old_rss,
        )
        if created:
            body = copy.deepcopy(new_rs)
            body.pop("status", None)
            body["spec"]["replicas"] = counts.new
            self.actions.append(CreateReplicaSet(body=body))
            self.event(
                REASON_NEW_RS_CREATED,
                f"Created ReplicaSet {rs_name(new_rs)} (revision {revision(new_rs)}) with size {counts.new}",
            )
            self.actions.append(PatchRolloutMetadata(annotations={REVISION_ANNOTATION: str(revision(new_rs))}))
        elif spec_replicas(new_rs) != counts.new:
            self._scale(new_rs, counts.new)
        if stable_rs is not None and not is_stable and spec_replicas(stable_rs) != counts.stable:
            self._scale(stable_rs, counts.stable)
        all_rss = [rs for rs in [new_rs, *([] if is_stable or stable_rs is None else [stable_rs]), *old_rss]]
        for name, target in canary.old_replicaset_scale_downs(
            replicas=replicas, max_unavailable=max_unavailable, old_rss=old_rss, all_rss=all_rss
        ).items():
            rs = next(r for r in old_rss if rs_name(r) == name)
            if spec_replicas(rs) != target:
                self._scale(rs, target)

        # --- services
        canary_target = stable_hash if (aborted or new_rs is None) else pod_hash
        self._point_service(strategy.canary_service, canary_target)
        self._point_service(strategy.stable_service, stable_hash)

        # --- step progression
        pause_conditions: list[dict[str, Any]] = list(status.get("pauseConditions") or [])
        controller_pause = bool(status.get("controllerPause"))
        if step_count and not aborted and not paused_by_user and step_index < step_count and not is_stable:
            step = steps[step_index]
            completed = False
            if step.pause is not None:
                completed, pause_conditions, controller_pause = self._pause_step(
                    step, pause_conditions, controller_pause
                )
            elif step.set_weight is not None:
                completed = canary.at_desired_counts(
                    replicas=replicas,
                    weight=step.set_weight,
                    max_weight=MAX_WEIGHT,
                    max_surge=max_surge,
                    new_rs=new_rs,
                    stable_rs=stable_rs,
                    old_rss=old_rss,
                )
            elif step.set_header_route is not None or step.set_mirror_route is not None:
                completed = True
            if completed:
                step_index += 1
                pause_conditions = [p for p in pause_conditions if p.get("reason") != PAUSE_CANARY_STEP]
                controller_pause = False
                self.event(
                    "RolloutStepCompleted",
                    f"Rollout step {step_index}/{step_count} completed ({step_string(step)})",
                )
                self.requeue_at(0)
        if pause_conditions:
            status["pauseConditions"] = pause_conditions
        else:
            status.pop("pauseConditions", None)
        if controller_pause:
            status["controllerPause"] = True
        else:
            status.pop("controllerPause", None)
        if step_count:
            status["currentStepIndex"] = step_index

        # --- full promotion once every step is done and the new RS is fully available
        if (
            not aborted
            and not is_stable
            and available_replicas(new_rs) == replicas
            and spec_replicas(new_rs) == replicas
        ):
            reason = ""
            if promote_full:
                reason = "Full promotion requested"
            elif not step_count or step_index >= step_count:
                reason = f"Completed all {step_count} canary steps"
            if reason:
                status["stableRS"] = pod_hash
                stable_hash = pod_hash
                status.pop("promoteFull", None)
                status.pop("pauseConditions", None)
                status.pop("controllerPause", None)
                self.event(
                    REASON_COMPLETED,
                    f"Rollout completed update to revision {revision(new_rs)} ({pod_hash}): {reason}",
                )
                self._point_service(strategy.stable_service, pod_hash)
                self._point_service(strategy.canary_service, pod_hash)
                self.requeue_at(0)
        if status.get("stableRS") == pod_hash:
            status.pop("promoteFull", None)

        # --- revision history
        self._cleanup_history(new_rs, stable_rs)

        # --- counters
        counted = [new_rs] if created else []
        every = [*counted, *self.replicasets]
        status["replicas"] = sum(status_replicas(rs) for rs in every)
        status["updatedReplicas"] = status_replicas(new_rs)
        status["readyReplicas"] = sum(ready_replicas(rs) for rs in every)
        status["availableReplicas"] = sum(available_replicas(rs) for rs in every)
        status["HPAReplicas"] = status["replicas"]
        status["selector"] = format_selector((self.raw.get("spec") or {}).get("selector"))
        status["currentPodHash"] = pod_hash
        status["currentStepHash"] = current_step_hash
        status["observedGeneration"] = str(ro.metadata.generation or 0)
        for key in (
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "HPAReplicas",
        ):
            if not status[key]:
                status.pop(key)
        if status.get("canary") == {}:
            status.pop("canary")
        self._conditions_and_phase(
            status,
            new_rs=new_rs,
            created=created,
            replicas=replicas,
            max_unavailable=max_unavailable,
            paused_by_user=paused_by_user,
            aborted=aborted,
        )
        if not status.get("canary"):
            status["canary"] = {}
        return Plan(actions=self.actions, status=status, requeue_after=self.requeue)

    # ---------------------------------------------------------------- helpers

    def _next_revision(self, new_rs: RS | None) -> int:
        if new_rs is not None and revision(new_rs):
            return revision(new_rs)
        return max([revision(rs) for rs in self.replicasets] or [0]) + 1

    def _scale(self, rs: RS, replicas: int) -> None:
        self.actions.append(ScaleReplicaSet(name=rs_name(rs), replicas=replicas))
        direction = "up" if replicas > spec_replicas(rs) else "down"
        self.event(
            "ScalingReplicaSet",
            f"Scaled {direction} ReplicaSet {rs_name(rs)} (revision {revision(rs)}) "
            f"from {spec_replicas(rs)} to {replicas}",
        )

    def _point_service(self, name: str | None, pod_hash: str) -> None:
        if not name or not pod_hash:
            return
        service = self.services.get(name)
        if service is None:
            raise InvalidValueError(f"spec.strategy.canary: service {name!r} not found")
        current = (service.get("spec", {}).get("selector") or {}).get("rollouts-pod-template-hash")
        if current != pod_hash and not any(
            isinstance(a, PatchServiceSelector) and a.service == name and a.pod_hash == pod_hash for a in self.actions
        ):
            self.actions = [a for a in self.actions if not (isinstance(a, PatchServiceSelector) and a.service == name)]
            self.actions.append(PatchServiceSelector(service=name, pod_hash=pod_hash))
            self.event(
                "SwitchService",
                f"Switched selector for service '{name}' from '{current or ''}' to '{pod_hash}'",
            )

    def _pause_step(
        self, step: CanaryStep, pause_conditions: list[dict[str, Any]], controller_pause: bool
    ) -> tuple[bool, list[dict[str, Any]], bool]:
        assert step.pause is not None
        existing = next((p for p in pause_conditions if p.get("reason") == PAUSE_CANARY_STEP), None)
        if controller_pause and existing is None:
            return True, pause_conditions, controller_pause  # promote cleared the pause
        if existing is None:
            existing = {"reason": PAUSE_CANARY_STEP, "startTime": self.now_text}
            pause_conditions = [*pause_conditions, existing]
            controller_pause = True
            self.event(REASON_PAUSED, f"Rollout is paused ({PAUSE_CANARY_STEP})")
        duration = parse_duration(step.pause.duration)
        if duration is not None:
            started = parse_time(existing.get("startTime")) or self.now
            expires = started + timedelta(seconds=duration)
            if self.now >= expires:
                self.event(REASON_RESUMED, "Rollout is resumed")
                return True, pause_conditions, controller_pause
            self.requeue_at((expires - self.now).total_seconds())
        return False, pause_conditions, controller_pause

    def _cleanup_history(self, new_rs: RS, stable_rs: RS | None) -> None:
        limit = self.rollout.spec.effective_revision_history_limit()
        keep = {rs_name(new_rs)} | ({rs_name(stable_rs)} if stable_rs else set())
        idle = [
            rs
            for rs in self.replicasets
            if rs_name(rs) not in keep and spec_replicas(rs) == 0 and status_replicas(rs) == 0
        ]
        idle.sort(key=creation_key)
        for rs in idle[: max(0, len(idle) - limit)]:
            self.actions.append(DeleteReplicaSet(name=rs_name(rs), uid=str(rs["metadata"].get("uid", ""))))

    def _conditions_and_phase(
        self,
        status: dict[str, Any],
        *,
        new_rs: RS,
        created: bool,
        replicas: int,
        max_unavailable: int,
        paused_by_user: bool,
        aborted: bool,
    ) -> None:
        now = self.now_text
        name = rs_name(new_rs)
        previous = {c["type"]: c for c in self.old_status.get("conditions") or []}
        updates: list[dict[str, Any]] = []
        complete = (
            status.get("stableRS") == status.get("currentPodHash")
            and available_replicas(new_rs) >= replicas
            and status.get("replicas", 0) == status.get("updatedReplicas", 0)
        )
        deadline = self.rollout.spec.effective_progress_deadline_seconds()
        progressing = previous.get("Progressing")
        paused = paused_by_user or bool(status.get("pauseConditions"))
        if aborted:
            message = f"Rollout aborted update to revision {revision(new_rs)}"
            progress = _condition(
                kind="Progressing",
                status="False",
                reason=REASON_ABORTED,
                message=message,
                now=now,
                previous=progressing,
            )
        elif paused:
            progress = _condition(
                kind="Progressing",
                status="Unknown",
                reason=REASON_PAUSED,
                message="Rollout is paused",
                now=now,
                previous=progressing,
            )
        elif complete:
            progress = _condition(
                kind="Progressing",
                status="True",
                reason=REASON_NEW_RS_AVAILABLE,
                message=f'ReplicaSet "{name}" has successfully progressed.',
                now=now,
                previous=progressing,
            )
        elif created:
            progress = _condition(
                kind="Progressing",
                status="True",
                reason=REASON_NEW_RS_CREATED,
                message=f'Created new replica set "{name}"',
                now=now,
                previous=progressing,
            )
        else:
            made_progress = (
                any(
                    status.get(key, 0) != self.old_status.get(key, 0)
                    for key in (
                        "updatedReplicas",
                        "readyReplicas",
                        "availableReplicas",
                        "currentStepIndex",
                    )
                )
                or progressing is None
                or progressing.get("reason") in (REASON_PAUSED, REASON_ABORTED, REASON_NEW_RS_AVAILABLE)
            )
            timed_out = progressing is not None and progressing.get("reason") == REASON_TIMED_OUT
            if made_progress and not (
                timed_out and status.get("availableReplicas", 0) == self.old_status.get("availableReplicas", 0)
            ):
                progress = {
                    "type": "Progressing",
                    "status": "True",
                    "reason": REASON_RS_UPDATED,
                    "message": f'ReplicaSet "{name}" is progressing.',
                    "lastUpdateTime": now,
                    "lastTransitionTime": (progressing or {}).get("lastTransitionTime", now)
                    if (progressing or {}).get("status") == "True"
                    else now,
                }
            else:
                progress = progressing or {}
                last = parse_time(progress.get("lastUpdateTime")) or self.now
                expires = last + timedelta(seconds=deadline)
                if progress.get("reason") != REASON_TIMED_OUT and self.now >= expires:
                    progress = _condition(
                        kind="Progressing",
                        status="False",
                        reason=REASON_TIMED_OUT,
                        message=f'ReplicaSet "{name}" has timed out progressing.',
                        now=now,
                        previous=progressing,
                    )
                    self.event(
                        REASON_TIMED_OUT,
                        f'Rollout "{self.rollout.name}" has timed out progressing.',
                        "Warning",
                    )
                    if self.rollout.spec.progress_deadline_abort:
                        status["abort"] = True
                        status["abortedAt"] = now
                        self.event(
                            REASON_ABORTED,
                            f"Rollout aborted update to revision {revision(new_rs)}: progress deadline exceeded",
                            "Warning",
                        )
                elif progress.get("reason") != REASON_TIMED_OUT:
                    self.requeue_at((expires - self.now).total_seconds())
        updates.append(progress)
        available = status.get("availableReplicas", 0) >= replicas - max_unavailable
        updates.append(
            _condition(
                kind="Available",
                status="True" if available else "False",
                reason=REASON_AVAILABLE,
                message="Rollout has minimum availability"
                if available
                else "Rollout does not have minimum availability",
                now=now,
                previous=previous.get("Available"),
            )
        )
        updates.append(
            _condition(
                kind="Completed",
                status="True" if complete else "False",
                reason=REASON_COMPLETED,
                message=(
                    f"Rollout completed update to revision {revision(new_rs)} ({status.get('currentPodHash')}): "
                    "Rollout is Healthy"
                    if complete
                    else f"Rollout not completed, started update to revision {revision(new_rs)} "
                    f"({status.get('currentPodHash')})"
                ),
                now=now,
                previous=previous.get("Completed"),
            )
        )
        if paused:
            updates.append(
                _condition(
                    kind="Paused",
                    status="True",
                    reason=REASON_PAUSED,
                    message="Rollout is paused",
                    now=now,
                    previous=previous.get("Paused"),
                )
            )
        invalid_cleared = [
            c for c in self.old_status.get("conditions") or [] if c.get("type") not in ("InvalidSpec", "Paused")
        ]
        conditions = self._merge_conditions(invalid_cleared, updates)
        phase, message = calculate_phase(
            conditions=conditions,
            paused_by_user=paused_by_user,
            pause_conditions=status.get("pauseConditions") or [],
            status=status,
            replicas=replicas,
        )
        healthy = phase == PHASE_HEALTHY
        conditions = self._merge_conditions(
            conditions,
            [
                _condition(
                    kind="Healthy",
                    status="True" if healthy else "False",
                    reason=REASON_HEALTHY,
                    message="Rollout is healthy" if healthy else "Rollout is not healthy",
                    now=now,
                    previous=previous.get("Healthy"),
                )
            ],
        )
        status["conditions"] = conditions
        status["phase"] = phase
        if message:
            status["message"] = message
        else:
            status.pop("message", None)


def calculate_phase(
    *,
    conditions: list[dict[str, Any]],
    paused_by_user: bool,
    pause_conditions: list[dict[str, Any]],
    status: dict[str, Any],
    replicas: int,
) -> tuple[str, str]:
    """Argo's CalculateRolloutPhase, in its order, for canary rollouts."""
    for condition in conditions:
        if condition.get("type") == "InvalidSpec" and condition.get("status") == "True":
            return PHASE_DEGRADED, f"InvalidSpec: {condition.get('message')}"
        if condition.get("reason") in (REASON_ABORTED, REASON_TIMED_OUT) and condition.get("type") == "Progressing":
            return PHASE_DEGRADED, f"{condition['reason']}: {condition.get('message')}"
    if paused_by_user:
        return PHASE_PAUSED, "manually paused"
    for pause in pause_conditions:
        return PHASE_PAUSED, str(pause.get("reason"))
    if status.get("updatedReplicas", 0) < replicas:
        return PHASE_PROGRESSING, "more replicas need to be updated"
    if status.get("availableReplicas", 0) < status.get("updatedReplicas", 0):
        return PHASE_PROGRESSING, "updated replicas are still becoming available"
    if status.get("replicas", 0) > status.get("updatedReplicas", 0):
        return PHASE_PROGRESSING, "old replicas are pending termination"
    if not status.get("stableRS") or status.get("stableRS") != status.get("currentPodHash"):
        return PHASE_PROGRESSING, "waiting for all steps to complete"
    return PHASE_HEALTHY, ""


def decide(observed: Observed, now: datetime) -> Plan:
    """Pure: the same observed state and `now` always give the same plan."""
    return _Decision(observed, now).run()
