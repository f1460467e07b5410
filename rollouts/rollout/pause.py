"""Pause and abort bookkeeping: Argo's pauseContext (rollout/pause.go).

A reconcile does not edit `pauseConditions`, `controllerPause` or `abort`
where it decides to pause or abort: it records the wish here and the changes
are applied to the new status once, when it is persisted, so that every
strategy adds and removes pauses by the same rules.
"""

from __future__ import annotations

from datetime import datetime

from rollouts.api.timestamps import format_time
from rollouts.rollout.status import PAUSE_KEYS, PauseCondition, Status


class PauseContext:
    """Pause/abort changes collected during one reconcile, applied to the new status by `apply()`."""

    def __init__(self, old: Status) -> None:
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

    def apply(self, status: Status, now: datetime) -> None:
        for key in PAUSE_KEYS:
            status.pop(key, None)
        if self.add_abort or (not self.remove_abort and self.old.get("abort")):
            status["abort"] = True
            status["abortedAt"] = self.old.get("abortedAt") or format_time(now)
            return
        if self.clear:
            return
        controller_pause = bool(self.old.get("controllerPause"))
        kept: list[PauseCondition] = []
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


def pause_condition(status: Status, reason: str) -> PauseCondition | None:
    """The pause condition with this reason, if the status has one."""
    return next((p for p in status.get("pauseConditions") or [] if p.get("reason") == reason), None)
