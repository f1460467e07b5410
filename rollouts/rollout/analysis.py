"""Canary analysis from the rollout's side: which AnalysisRuns should exist, and what they decided.

Pure, like plan.decide(): given the rollout, the AnalysisRuns it owns and its
templates, it returns runs to create or terminate, the run statuses Argo
records in `status.canary`, and the verdict: a Failed or Error run aborts the
update, an Inconclusive one pauses it (InconclusiveAnalysisRun) until promote
or abort, a Successful step run completes its step. Names, labels and owner
references are Argo's, so Argo's tools see the same runs.

The AnalysisRun spec is built from templates by rollouts/api/runs.py, which
the analysis controller shares; the two packages never import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rollouts.api.analysis import AnalysisTemplate
from rollouts.api.common import ObjectMeta, OwnerReference
from rollouts.api.constants import (
    ANALYSIS_ERROR,
    ANALYSIS_FAILED,
    ANALYSIS_INCONCLUSIVE,
    ANALYSIS_SUCCESSFUL,
    INSTANCE_ID_LABEL,
    POD_TEMPLATE_HASH_LABEL,
    REVISION_ANNOTATION,
    ROLLOUT_TYPE_LABEL,
)
from rollouts.api.rollout import AnalysisTemplateRef, Rollout, RolloutAnalysis
from rollouts.api.runs import collect_templates, new_run_from_templates, rollout_arguments
from rollouts.rollout.actions import CreateAnalysisRun, TerminateAnalysisRun

BACKGROUND = "Background"
STEP = "Step"
STEP_INDEX_LABEL = "step-index"
COMPLETED = (ANALYSIS_SUCCESSFUL, ANALYSIS_FAILED, ANALYSIS_ERROR, ANALYSIS_INCONCLUSIVE)

TemplateLookup = Callable[[AnalysisTemplateRef], AnalysisTemplate | None]


@dataclass
class AnalysisVerdict:
    actions: list[CreateAnalysisRun | TerminateAnalysisRun] = field(default_factory=list)
    step_run_status: dict[str, Any] | None = None
    background_run_status: dict[str, Any] | None = None
    abort_message: str | None = None
    inconclusive: bool = False
    step_completed: bool = False
    error: str | None = None


def _phase(run: dict[str, Any]) -> str:
    return str((run.get("status") or {}).get("phase") or "Pending")


def _run_status(run: dict[str, Any]) -> dict[str, Any]:
    status = {"name": run["metadata"]["name"], "status": _phase(run)}
    message = (run.get("status") or {}).get("message")
    if message:
        status["message"] = message
    return status


def run_name(rollout: str, pod_hash: str, revision: int, step_index: int | None = None) -> str:
    base = f"{rollout}-{pod_hash}-{revision}"
    return base if step_index is None else f"{base}-{step_index}"


def _build_run(
    *,
    rollout_raw: dict[str, Any],
    analysis: RolloutAnalysis,
    lookup: TemplateLookup,
    name: str,
    kind: str,
    pod_hash: str,
    revision: int,
    stable_hash: str,
    step_index: int | None,
) -> dict[str, Any]:
    templates, cluster_templates = collect_templates(analysis.templates or [], lookup)
    args = rollout_arguments(
        analysis.args,
        rollout=rollout_raw,
        stable_labels={POD_TEMPLATE_HASH_LABEL: stable_hash},
        latest_labels={POD_TEMPLATE_HASH_LABEL: pod_hash},
    )
    meta = rollout_raw["metadata"]
    labels = {POD_TEMPLATE_HASH_LABEL: pod_hash, ROLLOUT_TYPE_LABEL: kind}
    if step_index is not None:
        labels[STEP_INDEX_LABEL] = str(step_index)
    instance = (meta.get("labels") or {}).get(INSTANCE_ID_LABEL)
    if instance:
        labels[INSTANCE_ID_LABEL] = instance
    extra = analysis.analysis_run_metadata
    if extra and extra.labels:
        labels.update(extra.labels)
    annotations = {REVISION_ANNOTATION: str(revision), **((extra.annotations or {}) if extra else {})}
    run = new_run_from_templates(
        templates,
        cluster_templates,
        args=args,
        dry_run=analysis.dry_run,
        measurement_retention=analysis.measurement_retention,
        metadata=ObjectMeta(
            name=name,
            namespace=meta["namespace"],
            labels=labels,
            annotations=annotations,
            owner_references=[
                OwnerReference(
                    api_version=rollout_raw.get("apiVersion", "argoproj.io/v1alpha1"),
                    kind="Rollout",
                    name=meta["name"],
                    uid=meta["uid"],
                    controller=True,
                    block_owner_deletion=True,
                )
            ],
        ),
    )
    return run.to_dict()


def canary_analysis(
    *,
    rollout_raw: dict[str, Any],
    runs: list[dict[str, Any]],
    lookup: TemplateLookup,
    pod_hash: str,
    stable_hash: str,
    revision: int,
    step_index: int | None,
    at_analysis_step: bool,
    progressing: bool,
) -> AnalysisVerdict:
    """What analysis wants this reconcile. `progressing`: a canary is under way, not aborted."""
    rollout = Rollout.from_dict(rollout_raw)
    canary = rollout.spec.strategy.canary
    verdict = AnalysisVerdict()
    by_name = {run["metadata"]["name"]: run for run in runs}
    wanted: set[str] = set()
    if canary is None:
        return verdict

    def ensure(name: str, analysis: RolloutAnalysis, kind: str, index: int | None) -> dict[str, Any] | None:
        wanted.add(name)
        existing = by_name.get(name)
        if existing is not None:
            return existing
        try:
            body = _build_run(
                rollout_raw=rollout_raw,
                analysis=analysis,
                lookup=lookup,
                name=name,
                kind=kind,
                pod_hash=pod_hash,
                revision=revision,
                stable_hash=stable_hash,
                step_index=index,
            )
        except ValueError as error:  # TemplateError (missing template, bad merge) or ArgumentError
            verdict.error = str(error)
            return None
        verdict.actions.append(CreateAnalysisRun(body=body))
        return None

    background = canary.analysis
    starting = (background.starting_step or 0) if background else 0
    if progressing and background is not None and background.templates and (step_index or 0) >= starting:
        run = ensure(run_name(rollout.name, pod_hash, revision), background, BACKGROUND, None)
        if run is not None:
            verdict.background_run_status = _run_status(run)
            phase = _phase(run)
            if phase in (ANALYSIS_FAILED, ANALYSIS_ERROR):
                verdict.abort_message = (run.get("status") or {}).get("message") or f"background analysis {phase}"
            elif phase == ANALYSIS_INCONCLUSIVE:
                verdict.inconclusive = True

    steps = canary.effective_steps()
    if progressing and at_analysis_step and step_index is not None and step_index < len(steps):
        step_analysis = steps[step_index].analysis
        assert step_analysis is not None
        run = ensure(run_name(rollout.name, pod_hash, revision, step_index), step_analysis, STEP, step_index)
        if run is not None:
            verdict.step_run_status = _run_status(run)
            phase = _phase(run)
            if phase == ANALYSIS_SUCCESSFUL:
                verdict.step_completed = True
            elif phase in (ANALYSIS_FAILED, ANALYSIS_ERROR):
                verdict.abort_message = (run.get("status") or {}).get("message") or f"step analysis {phase}"
            elif phase == ANALYSIS_INCONCLUSIVE:
                verdict.inconclusive = True

    # Runs no longer wanted (aborted, promoted, superseded revision, finished step) stop measuring.
    for name, run in by_name.items():
        if name in wanted or _phase(run) in COMPLETED or (run.get("spec") or {}).get("terminate"):
            continue
        verdict.actions.append(TerminateAnalysisRun(name=name))
    return verdict
