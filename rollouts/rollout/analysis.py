"""Analysis from the rollout's side: which AnalysisRuns should exist, and what they decided.

Pure, like decide(): given the rollout, the AnalysisRuns it owns and its
templates, it returns runs to create, terminate or delete, the run statuses
Argo records in `status.canary` / `status.blueGreen`, and the verdict: a
Failed or Error run aborts the update, an Inconclusive one pauses it
(InconclusiveAnalysisRun) until promote or abort, a Successful step run
completes its step, a Successful pre-promotion run lets the active Service
switch and a Successful post-promotion run lets the new ReplicaSet become
stable. Names, labels and owner references are Argo's, so Argo's tools see the
same runs. A run is found again by its name; a retried rollout gets a fresh
run named `<name>.<n>` (Argo's collision counter), and finished runs beyond
the rollout's run history limits are deleted.

The AnalysisRun spec is built from templates by rollouts/api/runs.py, which
the analysis controller shares; the two packages never import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
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
from rollouts.api.phases import COMPLETED_ANALYSIS_PHASES, analysis_run_phase
from rollouts.api.rollout import AnalysisTemplateRef, Rollout, RolloutAnalysis
from rollouts.api.runs import collect_templates, new_run_from_templates, rollout_arguments
from rollouts.rollout.actions import CreateAnalysisRun, DeleteAnalysisRun, TerminateAnalysisRun

BACKGROUND = "Background"
STEP = "Step"
PRE_PROMOTION = "PrePromotion"
POST_PROMOTION = "PostPromotion"
STEP_INDEX_LABEL = "step-index"

TemplateLookup = Callable[[AnalysisTemplateRef], AnalysisTemplate | None]


RunAction = CreateAnalysisRun | TerminateAnalysisRun | DeleteAnalysisRun


@dataclass
class AnalysisVerdict:
    actions: list[RunAction] = field(default_factory=list)
    step_run_status: dict[str, Any] | None = None
    background_run_status: dict[str, Any] | None = None
    abort_message: str | None = None
    inconclusive: bool = False
    step_completed: bool = False
    error: str | None = None


@dataclass
class BlueGreenAnalysisVerdict:
    actions: list[RunAction] = field(default_factory=list)
    pre_run_status: dict[str, Any] | None = None
    post_run_status: dict[str, Any] | None = None
    pre_successful: bool = False
    post_successful: bool = False
    abort_message: str | None = None
    inconclusive: bool = False
    error: str | None = None


@dataclass(frozen=True)
class HistoryLimits:
    """The rollout's spec.analysis run history limits and the pod hashes of its ReplicaSets."""

    successful: int
    unsuccessful: int
    replicaset_hashes: dict[str, bool]
    """pod-template-hash -> the ReplicaSet is being deleted."""


def _run_status(run: dict[str, Any]) -> dict[str, Any]:
    status = {"name": run["metadata"]["name"], "status": analysis_run_phase(run)}
    message = (run.get("status") or {}).get("message")
    if message:
        status["message"] = message
    return status


def run_name(rollout: str, pod_hash: str, revision: int, infix: int | str | None = None) -> str:
    base = f"{rollout}-{pod_hash}-{revision}"
    return base if infix is None else f"{base}-{infix}"


def _collision_index(name: str, base: str) -> int | None:
    """0 for `base`, n for `base.n` (Argo's collision counter), None for another name."""
    if name == base:
        return 0
    prefix, dot, counter = name.rpartition(".")
    if dot and prefix == base and counter.isdigit():
        return int(counter)
    return None


def current_run(by_name: dict[str, dict[str, Any]], base: str) -> tuple[str, dict[str, Any] | None]:
    """The newest run for `base` (highest collision counter) and its name; (base, None) when none exists."""
    found: tuple[int, str] | None = None
    for name in by_name:
        index = _collision_index(name, base)
        if index is not None and (found is None or index > found[0]):
            found = (index, name)
    if found is None:
        return base, None
    return found[1], by_name[found[1]]


def _retry_name(base: str, index_of_current: str) -> str:
    index = _collision_index(index_of_current, base) or 0
    return f"{base}.{index + 1}"


def _finished(run: dict[str, Any]) -> bool:
    return analysis_run_phase(run) in COMPLETED_ANALYSIS_PHASES or bool((run.get("spec") or {}).get("terminate"))


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
    retrying: bool = False,
    history: HistoryLimits | None = None,
) -> AnalysisVerdict:
    """What analysis wants this reconcile. `progressing`: a canary is under way, not aborted.

    `retrying`: the rollout was aborted and a human retried it, so a finished run is replaced by a new one.
    """
    rollout = Rollout.from_dict(rollout_raw)
    canary = rollout.spec.strategy.canary
    verdict = AnalysisVerdict()
    book = _RunBook.of(
        runs, rollout_raw=rollout_raw, lookup=lookup, pod_hash=pod_hash, revision=revision, stable_hash=stable_hash
    )
    if canary is None:
        return verdict

    def ensure(base: str, analysis: RolloutAnalysis, kind: str, index: int | None) -> dict[str, Any] | None:
        run, error = book.ensure(base, retrying=retrying, analysis=analysis, kind=kind, step_index=index)
        verdict.error = error or verdict.error
        return run

    background = canary.analysis
    starting = (background.starting_step or 0) if background else 0
    if progressing and background is not None and background.templates and (step_index or 0) >= starting:
        run = ensure(run_name(rollout.name, pod_hash, revision), background, BACKGROUND, None)
        if run is not None:
            verdict.background_run_status = _run_status(run)
            phase = analysis_run_phase(run)
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
            phase = analysis_run_phase(run)
            if phase == ANALYSIS_SUCCESSFUL:
                verdict.step_completed = True
            elif phase in (ANALYSIS_FAILED, ANALYSIS_ERROR):
                verdict.abort_message = (run.get("status") or {}).get("message") or f"step analysis {phase}"
            elif phase == ANALYSIS_INCONCLUSIVE:
                verdict.inconclusive = True

    verdict.actions.extend(book.actions + book.retire(history))
    return verdict


@dataclass
class _RunBook:
    """One reconcile's view of a rollout's runs: found by name, kept (`wanted`), created, retired."""

    by_name: dict[str, dict[str, Any]]
    build: Callable[..., dict[str, Any]]
    """keyword arguments of _build_run other than this revision's -> a run body."""
    wanted: set[str] = field(default_factory=set)
    actions: list[RunAction] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        runs: list[dict[str, Any]],
        *,
        rollout_raw: dict[str, Any],
        lookup: TemplateLookup,
        pod_hash: str,
        revision: int,
        stable_hash: str,
    ) -> _RunBook:
        build = partial(
            _build_run,
            rollout_raw=rollout_raw,
            lookup=lookup,
            pod_hash=pod_hash,
            revision=revision,
            stable_hash=stable_hash,
        )
        return cls(by_name={run["metadata"]["name"]: run for run in runs}, build=build)

    def keep(self, base: str) -> tuple[str, dict[str, Any] | None]:
        """The current run for `base` (see current_run), kept if it exists."""
        name, existing = current_run(self.by_name, base)
        if existing is not None:
            self.wanted.add(name)
        return name, existing

    def ensure(self, base: str, *, retrying: bool, **build_args: Any) -> tuple[dict[str, Any] | None, str | None]:
        """The current run for `base`, creating it (or its retry) when needed; (run or None, error or None)."""
        name, existing = current_run(self.by_name, base)
        if existing is not None and not (retrying and _finished(existing)):
            self.wanted.add(name)
            return existing, None
        if existing is not None:
            name = _retry_name(base, name)
        self.wanted.add(name)
        try:
            body = self.build(name=name, **build_args)
        except ValueError as error:  # TemplateError (missing template, bad merge) or ArgumentError
            return None, str(error)
        self.actions.append(CreateAnalysisRun(body=body))
        return None, None

    def retire(self, history: HistoryLimits | None) -> list[RunAction]:
        """Runs not kept stop measuring; finished ones beyond the history limits are deleted."""
        return _retire_others([run for name, run in self.by_name.items() if name not in self.wanted], history=history)


def _retire_others(others: list[dict[str, Any]], *, history: HistoryLimits | None) -> list[RunAction]:
    """Runs no longer wanted stop measuring; finished ones beyond the history limits are deleted.

    Argo's FilterAnalysisRunsToDelete: newest first, a run without a pod hash
    or whose ReplicaSet is gone or going is deleted, then up to `successful`
    Successful and `unsuccessful` Failed/Error/Inconclusive runs are kept.
    """
    actions: list[RunAction] = []
    for run in others:
        if not _finished(run):
            actions.append(TerminateAnalysisRun(name=run["metadata"]["name"]))
    if history is None:
        return actions
    kept = {ANALYSIS_SUCCESSFUL: 0, "unsuccessful": 0}
    newest_first = sorted(
        others,
        key=lambda run: (str(run["metadata"].get("creationTimestamp") or ""), run["metadata"]["name"]),
        reverse=True,
    )
    for run in newest_first:
        meta = run["metadata"]
        pod_hash = (meta.get("labels") or {}).get(POD_TEMPLATE_HASH_LABEL)
        delete = pod_hash is None or history.replicaset_hashes.get(pod_hash, True)
        phase = analysis_run_phase(run)
        if not delete and phase == ANALYSIS_SUCCESSFUL:
            kept[ANALYSIS_SUCCESSFUL] += 1
            delete = kept[ANALYSIS_SUCCESSFUL] > history.successful
        elif not delete and phase in (ANALYSIS_FAILED, ANALYSIS_ERROR, ANALYSIS_INCONCLUSIVE):
            kept["unsuccessful"] += 1
            delete = kept["unsuccessful"] > history.unsuccessful
        if delete and not meta.get("deletionTimestamp"):
            actions.append(DeleteAnalysisRun(name=meta["name"], uid=str(meta.get("uid") or "")))
    return actions


def blue_green_analysis(
    *,
    rollout_raw: dict[str, Any],
    runs: list[dict[str, Any]],
    lookup: TemplateLookup,
    pod_hash: str,
    stable_hash: str,
    revision: int,
    cancel: bool,
    skip_pre: bool,
    skip_post: bool,
    inconclusive_paused: bool,
    retrying: bool,
    rerun_inconclusive: bool = False,
    history: HistoryLimits | None = None,
) -> BlueGreenAnalysisVerdict:
    """Argo's reconcileAnalysisRuns for blue-green: the pre- and post-promotion runs of the new ReplicaSet.

    `cancel`: fully promoted, aborted, promoteFull, fast rollback or first
    deploy; running runs stop, the finished ones stay recorded in status.
    `skip_pre` / `skip_post`: Argo's skipPre/PostPromotionAnalysisRun (the
    switch happened already / not yet, or the new ReplicaSet is not saturated).
    `rerun_inconclusive`: a human promoted past an Inconclusive run, which is measured again.
    """
    rollout = Rollout.from_dict(rollout_raw)
    blue_green = rollout.spec.strategy.blue_green
    verdict = BlueGreenAnalysisVerdict()
    book = _RunBook.of(
        runs, rollout_raw=rollout_raw, lookup=lookup, pod_hash=pod_hash, revision=revision, stable_hash=stable_hash
    )
    if blue_green is None:
        return verdict

    def reconcile(analysis: RolloutAnalysis | None, infix: str, kind: str, skip: bool) -> dict[str, Any] | None:
        base = run_name(rollout.name, pod_hash, revision, infix)
        if analysis is None or not analysis.templates:
            return None
        if cancel or skip or inconclusive_paused:
            # Kept: its status stays recorded (Argo keeps it once stable); a cancelled one stops measuring.
            name, existing = book.keep(base)
            if existing is not None and (cancel or skip) and not _finished(existing):
                book.actions.append(TerminateAnalysisRun(name=name))
            return existing
        existing = current_run(book.by_name, base)[1]
        rerun = rerun_inconclusive and existing is not None and analysis_run_phase(existing) == ANALYSIS_INCONCLUSIVE
        run, error = book.ensure(base, retrying=retrying or rerun, analysis=analysis, kind=kind, step_index=None)
        verdict.error = error or verdict.error
        return run

    for analysis, infix, kind, skip, post in (
        (blue_green.pre_promotion_analysis, "pre", PRE_PROMOTION, skip_pre, False),
        (blue_green.post_promotion_analysis, "post", POST_PROMOTION, skip_post, True),
    ):
        run = reconcile(analysis, infix, kind, skip)
        if run is None:
            continue
        run_status = _run_status(run)
        phase = analysis_run_phase(run)
        if post:
            verdict.post_run_status = run_status
            verdict.post_successful = phase == ANALYSIS_SUCCESSFUL
        else:
            verdict.pre_run_status = run_status
            verdict.pre_successful = phase == ANALYSIS_SUCCESSFUL
        if cancel:
            continue
        if phase == ANALYSIS_INCONCLUSIVE:
            verdict.inconclusive = True
        elif phase in (ANALYSIS_FAILED, ANALYSIS_ERROR):
            stage = "post-promotion" if post else "pre-promotion"
            message = f"Blue/green {stage} analysis phase error/failed"
            detail = (run.get("status") or {}).get("message")
            verdict.abort_message = f"{message}: {detail}" if detail else message
    verdict.actions.extend(book.actions + book.retire(history))
    return verdict
