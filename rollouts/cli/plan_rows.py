"""`rollouts plan`'s walk: reconcile, settle, end runs, jump the clock, promote; one row per distinct state.

plan_walk.py builds the simulated cluster; this module drives it through the
update exactly as the controller would be driven (decide() after every change,
the clock moved to the next requeue only when nothing else happens) and turns
each state the rollout passes through into a row for plan_cmd.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rollouts.cli.plan_walk import (
    MAX_ROUNDS,
    AnalysisOutcome,
    Bounds,
    Manifests,
    PlanError,
    deploy,
    finish_runs,
    invalid_message,
    new_cluster,
    pause_seconds,
    previous_version,
    promote,
    update,
)
from rollouts.cli.summary import canary_steps, current_set_weight
from rollouts.rollout.simulate import HASH_LABEL, SimulatedCluster

SHORT_HASH = 6
ROW_KEYS = (
    "step",
    "setWeight",
    "stablePods",
    "canaryPods",
    "availablePods",
    "selectors",
    "pause",
    "needsHuman",
    "analysis",
    "phase",
    "elapsedSeconds",
    "note",
    "invariantsHeld",
)


def _short(value: str) -> str | None:
    return value[:SHORT_HASH] if value else None


def set_weight(world: SimulatedCluster) -> int | None:
    """The weight the current step asks for (the rule `get rollout` shows); None without steps."""
    return current_set_weight(world.ro) if canary_steps(world.ro) else None


def selectors(world: SimulatedCluster) -> dict[str, str | None]:
    """Each strategy Service's role -> the pod hash it selects (shortened)."""
    strategy = world.ro["spec"].get("strategy") or {}
    roles = (
        {"active": "activeService", "preview": "previewService"}
        if strategy.get("blueGreen") is not None
        else {"stable": "stableService", "canary": "canaryService"}
    )
    body = strategy.get("blueGreen") or strategy.get("canary") or {}
    found: dict[str, str | None] = {}
    for role, key in roles.items():
        name = body.get(key)
        service = world.services.get(name) if isinstance(name, str) else None
        if service is not None:
            found[role] = _short(str(service["spec"]["selector"].get(HASH_LABEL, "")))
    return found


def needs_human(world: SimulatedCluster) -> bool:
    paused = bool(world.status.get("pauseConditions")) or world.ro["spec"].get("paused") is True
    return paused and pause_seconds(world) is None


@dataclass
class Walk:
    """One walk of an update: the rows so far and what the row being built has to say."""

    world: SimulatedCluster
    outcome: AnalysisOutcome
    bounds: Bounds
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)
    """Every run seen (a run history limit may delete it later) -> its last phase."""
    held: bool = True
    start: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.start = self.world.now

    def row(self) -> dict[str, Any]:
        world = self.world
        status = world.status
        for name, run in world.analysis_runs.items():
            self.runs[name] = str((run.get("status") or {}).get("phase") or "Running")
        stable, current = str(status.get("stableRS") or ""), str(status.get("currentPodHash") or "")
        counts = world.counts()
        paused = bool(status.get("pauseConditions")) or world.ro["spec"].get("paused") is True
        seconds = pause_seconds(world) if paused else None
        finished = [phase for phase in self.runs.values() if phase != "Running"]
        last = next(reversed(self.runs.values()), None) if self.runs else None
        return {
            "step": status.get("currentStepIndex"),
            "setWeight": set_weight(world),
            "stablePods": counts.get(stable, 0),
            "canaryPods": counts.get(current, 0) if current != stable else 0,
            "availablePods": world.total_ready(),
            "selectors": selectors(world),
            "pause": (int(seconds) if seconds is not None else "indefinite") if paused else None,
            "needsHuman": paused and seconds is None,
            "analysis": {"started": len(self.runs), "finished": len(finished), "phase": last},
            "phase": status.get("phase"),
            "elapsedSeconds": int((world.now - self.start).total_seconds()),
            "note": "; ".join(self.notes) or None,
            "invariantsHeld": self.held,
        }

    def record(self) -> None:
        row = self.row()
        key = {k: v for k, v in row.items() if k not in ("elapsedSeconds", "note", "invariantsHeld")}
        previous = self.rows[-1] if self.rows else None
        if previous is None or key != {k: v for k, v in previous.items() if k in key}:
            self.rows.append(row)
            self.notes = []
            self.held = True
        elif self.notes:
            previous["note"] = "; ".join(filter(None, [previous.get("note"), *self.notes]))
            self.notes = []

    def state(self) -> tuple[Any, ...]:
        phases = sorted((n, str((r.get("status") or {}).get("phase"))) for n, r in self.world.analysis_runs.items())
        return (self.world.snapshot(), phases)


def walk(world: SimulatedCluster, *, outcome: AnalysisOutcome, bounds: Bounds) -> list[dict[str, Any]]:
    """Drive the updated rollout until it is Healthy on the new version, aborted, or stuck; the rows it passed."""
    walk = Walk(world=world, outcome=outcome, bounds=bounds)
    walk.notes.append("update applied")
    walk.record()
    for _ in range(MAX_ROUNDS):
        before = walk.state()
        plan = world.reconcile()
        message = invalid_message(world)
        if message:
            raise PlanError(message)
        if not bounds.check(world):
            walk.held = False
            walk.notes.append("replica bounds broken")
        world.settle()
        walk.notes += finish_runs(world, outcome)
        walk.record()
        if walk.state() != before or plan.requeue_after == 0:
            continue
        status = world.status
        if status.get("abort"):
            walk.rows[-1]["note"] = "; ".join(filter(None, [walk.rows[-1]["note"], f"aborted: {_abort_reason(walk)}"]))
            return walk.rows
        if status.get("phase") == "Healthy" and status.get("stableRS") == status.get("currentPodHash"):
            walk.rows[-1]["note"] = "; ".join(filter(None, [walk.rows[-1]["note"], "completed"]))
            return walk.rows
        if needs_human(world) and promote(world):
            walk.notes.append("promoted (simulated human)")
        elif plan.requeue_after:
            world.tick(plan.requeue_after)
        else:
            walk.rows[-1]["note"] = "; ".join(filter(None, [walk.rows[-1]["note"], "stuck: nothing left to do"]))
            return walk.rows
    raise PlanError(f"the rollout did not settle within {MAX_ROUNDS} reconciles")


def _abort_reason(walk: Walk) -> str:
    if any(phase in ("Failed", "Error") for phase in walk.runs.values()):
        return "analysis failed"
    return str(walk.world.status.get("message") or "aborted")


def plan_update(
    *, new: Manifests, old: Manifests | None, replicas: int | None, outcome: AnalysisOutcome
) -> list[dict[str, Any]]:
    """The rows of updating `old` (default: `new` with another pod template) to `new`; PlanError when it cannot be."""
    previous = old or previous_version(new)
    world = new_cluster(previous, new, replicas=replicas)
    deploy(world)
    update(world, new, replicas=replicas)
    return walk(world, outcome=outcome, bounds=Bounds.of(world.ro))
