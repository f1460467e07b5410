"""`rollouts plan`'s engine: walk an update through the product's simulator and record each state.

The plan must be what the controller does, so it runs the same pure decide()
on rollouts/rollout/simulate.py's cluster (the one the unit tests use): pods
become available as soon as they are scaled, time jumps to the next requeue,
AnalysisRuns end with the outcome the user chose, and a pause that waits for a
human is promoted with the same patch `rollouts promote` sends. Each distinct
state becomes one row (a plain dict, camelCase keys) for the JSON and table
views in plan_cmd.py.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from rollouts.api.common import parse_duration
from rollouts.api.constants import POD_TEMPLATE_HASH_LABEL, ROLLOUT_TYPE_LABEL
from rollouts.cli.patches import WrongStateError, promote_patches
from rollouts.rollout.canary_math import resolve_fenceposts
from rollouts.rollout.simulate import SimulatedCluster, merge_patch

MAX_ROUNDS = 400
PREVIOUS_MARKER = "rollouts.plan/previous-template"
SIMULATED_IMAGE = "busybox"


class PlanError(ValueError):
    """The rollout cannot be planned; the message is the one the controller would report."""


@dataclass(frozen=True)
class AnalysisOutcome:
    """How every simulated AnalysisRun ends: `phase` from step index `step` on (before it: Successful)."""

    phase: str = "Successful"
    step: int = 0

    def phase_at(self, step: int | None) -> str:
        return self.phase if (step or 0) >= self.step else "Successful"


def parse_analysis(text: str) -> AnalysisOutcome:
    """`pass`, `fail@STEP` or `inconclusive@STEP` (ValueError otherwise)."""
    if text == "pass":
        return AnalysisOutcome()
    match = re.fullmatch(r"(fail|inconclusive)@(\d+)", text)
    if match is None:
        raise ValueError(f"--analysis: expected pass, fail@STEP or inconclusive@STEP, got {text!r}")
    phase = "Failed" if match.group(1) == "fail" else "Inconclusive"
    return AnalysisOutcome(phase=phase, step=int(match.group(2)))


@dataclass
class Manifests:
    """The objects of one file the plan needs: the Rollout and what it names."""

    rollout: dict[str, Any]
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    templates: dict[tuple[bool, str], dict[str, Any]] = field(default_factory=dict)
    workload: dict[str, Any] | None = None


def manifests_from(documents: list[Any]) -> Manifests:
    """Pick the Rollout, Services, AnalysisTemplates and Deployment out of a file's documents."""
    rollouts = [d for d in documents if isinstance(d, dict) and d.get("kind") == "Rollout"]
    if len(rollouts) != 1:
        raise PlanError(f"expected exactly one Rollout in the file, found {len(rollouts)}")
    found = Manifests(rollout=copy.deepcopy(rollouts[0]))
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        name = str((doc.get("metadata") or {}).get("name", ""))
        kind = doc.get("kind")
        if kind == "Service":
            found.services[name] = copy.deepcopy(doc)
        elif kind in ("AnalysisTemplate", "ClusterAnalysisTemplate"):
            found.templates[(kind == "ClusterAnalysisTemplate", name)] = copy.deepcopy(doc)
        elif kind == "Deployment":
            found.workload = copy.deepcopy(doc)
    return found


def strategy_of(rollout: dict[str, Any]) -> dict[str, Any]:
    strategy = (rollout.get("spec") or {}).get("strategy") or {}
    return dict(strategy) if isinstance(strategy, dict) else {}


def service_names(rollout: dict[str, Any]) -> list[str]:
    names = []
    for body in strategy_of(rollout).values():
        if isinstance(body, dict):
            names += [v for k, v in body.items() if k.endswith("Service") and isinstance(v, str) and v]
    return names


def template_refs(value: Any) -> list[tuple[bool, str]]:
    """Every (clusterScope, templateName) named anywhere in the strategy."""
    refs: list[tuple[bool, str]] = []
    if isinstance(value, dict):
        if isinstance(value.get("templateName"), str):
            refs.append((bool(value.get("clusterScope")), value["templateName"]))
        for item in value.values():
            refs += template_refs(item)
    elif isinstance(value, list):
        for item in value:
            refs += template_refs(item)
    return refs


def _stand_in_template(cluster: bool, name: str, namespace: str) -> dict[str, Any]:
    """A template the file does not contain: measured by nobody, since the plan decides each run's phase."""
    job = {
        "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": SIMULATED_IMAGE}]}}
        }
    }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ClusterAnalysisTemplate" if cluster else "AnalysisTemplate",
        "metadata": {"name": name, **({} if cluster else {"namespace": namespace})},
        "spec": {"metrics": [{"name": "simulated", "provider": {"job": job}}]},
    }


def _prepared(rollout: dict[str, Any], replicas: int | None) -> dict[str, Any]:
    body = copy.deepcopy(rollout)
    body.pop("status", None)
    meta = body.setdefault("metadata", {})
    meta.setdefault("name", "rollout")
    meta.setdefault("namespace", "default")
    meta["uid"] = "plan-uid"
    meta["generation"] = 1
    if replicas is not None:
        body.setdefault("spec", {})["replicas"] = replicas
    return body


def _marked(obj: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(obj)
    template = (body.get("spec") or {}).get("template")
    if isinstance(template, dict):
        meta = template.setdefault("metadata", {})
        meta.setdefault("annotations", {})[PREVIOUS_MARKER] = "true"
    return body


def previous_version(new: Manifests) -> Manifests:
    """The same objects with a different pod template (the workloadRef's, if any), so the update walks the steps."""
    return Manifests(
        rollout=_marked(new.rollout) if new.workload is None else copy.deepcopy(new.rollout),
        services=new.services,
        templates=new.templates,
        workload=_marked(new.workload) if new.workload is not None else None,
    )


def new_cluster(old: Manifests, new: Manifests, *, replicas: int | None) -> SimulatedCluster:
    """The simulated cluster running `old` (not yet deployed), with every object either version names."""
    ro = _prepared(old.rollout, replicas)
    namespace = ro["metadata"]["namespace"]
    selector = ((ro.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    services: dict[str, dict[str, Any] | None] = {}
    for manifests in (old, new):
        for name in service_names(manifests.rollout):
            given = manifests.services.get(name)
            stand_in: dict[str, Any] = {"metadata": {"name": name}, "spec": {"selector": dict(selector)}}
            body: dict[str, Any] = copy.deepcopy(given) if given else stand_in
            body.setdefault("metadata", {}).setdefault("namespace", namespace)
            body.setdefault("spec", {}).setdefault("selector", {})
            services[name] = body
    templates = {**old.templates, **new.templates}
    for manifests in (old, new):
        for ref in template_refs(strategy_of(manifests.rollout)):
            templates.setdefault(ref, _stand_in_template(ref[0], ref[1], namespace))
    return SimulatedCluster(
        ro=ro, services=services, analysis_templates=templates, workload=_generation(old.workload, 1)
    )


def _generation(workload: dict[str, Any] | None, generation: int) -> dict[str, Any] | None:
    if workload is None:
        return None
    body = copy.deepcopy(workload)
    body.setdefault("metadata", {})["generation"] = generation
    return body


@dataclass
class Bounds:
    """Replica bounds the walk must keep: total desired <= ceiling, available >= floor."""

    floor: int
    ceiling: int | None
    held: bool = True

    @classmethod
    def of(cls, rollout: dict[str, Any]) -> Bounds:
        spec = rollout.get("spec") or {}
        replicas = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        canary = strategy_of(rollout).get("canary")
        if not isinstance(canary, dict):
            return cls(floor=replicas, ceiling=None)  # blue-green: the active side never drops
        surge, unavailable = resolve_fenceposts(
            max_surge=canary.get("maxSurge", "25%"),
            max_unavailable=canary.get("maxUnavailable", "25%"),
            replicas=replicas,
        )
        return cls(floor=replicas - unavailable, ceiling=replicas + surge)

    def check(self, world: SimulatedCluster) -> bool:
        """After a reconcile: the ReplicaSet controller deletes pods above each spec.replicas at once."""
        ready = world.ready_pods()
        desired = sum(int(rs["spec"]["replicas"]) for rs in world.replicasets.values())
        available = sum(
            min(int(rs["spec"]["replicas"]), ready.get(rs["metadata"]["labels"][POD_TEMPLATE_HASH_LABEL], 0))
            for rs in world.replicasets.values()
        )
        ok = available >= self.floor and (self.ceiling is None or desired <= self.ceiling)
        self.held = self.held and ok
        return ok


def finish_runs(world: SimulatedCluster, outcome: AnalysisOutcome) -> list[str]:
    """Play the analysis controller: end each running run as chosen; background runs under `pass` keep running."""
    notes = []
    step = world.status.get("currentStepIndex")
    for name, run in sorted(world.analysis_runs.items()):
        if (run.get("status") or {}).get("phase") in ("Successful", "Failed", "Error", "Inconclusive"):
            continue
        if (run.get("spec") or {}).get("terminate"):
            run["status"] = {"phase": "Successful", "message": "Run Terminated"}
            continue
        kind = run["metadata"].get("labels", {}).get(ROLLOUT_TYPE_LABEL, "")
        phase = outcome.phase_at(step if isinstance(step, int) else None)
        if phase == "Successful" and kind == "Background":
            continue
        world.finish_run(name, phase, "" if phase == "Successful" else f"simulated: analysis {phase.lower()}")
        notes.append(f"analysis {name}: {phase}")
    return notes


def invalid_message(world: SimulatedCluster) -> str | None:
    condition = world.condition("InvalidSpec")
    return str(condition.get("message", "")) if condition and condition.get("status") == "True" else None


def deploy(world: SimulatedCluster) -> None:
    """The first deploy of the old version, to steady state (its runs succeed)."""
    for _ in range(MAX_ROUNDS):
        before = world.snapshot()
        plan = world.reconcile()
        message = invalid_message(world)
        if message:
            raise PlanError(message)
        world.settle()
        finish_runs(world, AnalysisOutcome())
        if world.snapshot() == before and plan.requeue_after != 0:
            if world.status.get("phase") == "Healthy" or not plan.requeue_after:
                return
            world.tick(plan.requeue_after)
    raise PlanError("the previous version did not reach a steady state")


def update(world: SimulatedCluster, new: Manifests, *, replicas: int | None) -> None:
    """What `kubectl apply` of the new version does: a new spec, the next generation (and the workload's)."""
    if new.workload is not None:
        before = int((world.workload or {}).get("metadata", {}).get("generation") or 0)
        world.workload = _generation(new.workload, before + 1)
    body = _prepared(new.rollout, replicas)
    world.ro["spec"] = body["spec"]
    world.ro["metadata"]["generation"] = int(world.ro["metadata"]["generation"]) + 1
    merge_patch(
        world.ro["metadata"], {"labels": body["metadata"].get("labels")} if "labels" in body["metadata"] else {}
    )


def promote(world: SimulatedCluster) -> bool:
    """A human runs `rollouts promote`: apply its patches (status and spec); False when there is nothing to do."""
    try:
        patches = promote_patches(world.ro)
    except WrongStateError:
        return False
    for patch in (patches.spec, patches.status):
        if patch:
            merge_patch(world.ro, patch)
    return bool(patches.spec or patches.status)


def pause_seconds(world: SimulatedCluster) -> float | None:
    """The length of a timed canary pause step or blue-green auto-promotion, None when it waits for a human."""
    reasons = {c.get("reason") for c in world.status.get("pauseConditions") or []}
    strategy = strategy_of(world.ro)
    if "CanaryPauseStep" in reasons:
        steps = (strategy.get("canary") or {}).get("steps") or []
        index = world.status.get("currentStepIndex")
        if isinstance(index, int) and index < len(steps):
            return parse_duration(((steps[index] or {}).get("pause") or {}).get("duration"))
    if "BlueGreenPause" in reasons:
        blue_green = strategy.get("blueGreen") or {}
        if blue_green.get("autoPromotionEnabled") is False:
            return None  # the controller ignores autoPromotionSeconds then: a human promotes
        seconds = blue_green.get("autoPromotionSeconds")
        return float(seconds) if seconds else None
    return None
