"""Verdicts: one measurement's phase from its conditions, a metric's phase, a run's phase.

These are Argo's rules (utils/evaluate EvaluateResult, analysis/analysis.go
assessMetricStatus / assessRunStatus), kept free of I/O and of the clock so
every branch is unit-tested. The AnalysisRun plan applies them to the status
stored in the cluster; nothing here remembers anything between calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rollouts.analysis.expr import ExprError, evaluate_condition
from rollouts.api.analysis import Measurement, Metric, MetricResult
from rollouts.api.common import IntOrString
from rollouts.api.constants import (
    ANALYSIS_ERROR,
    ANALYSIS_FAILED,
    ANALYSIS_INCONCLUSIVE,
    ANALYSIS_PENDING,
    ANALYSIS_RUNNING,
    ANALYSIS_SUCCESSFUL,
    DEFAULT_CONSECUTIVE_ERROR_LIMIT,
)
from rollouts.api.numbers import parse_int64
from rollouts.api.phases import COMPLETED_ANALYSIS_PHASES

# Best to worst, as Argo orders them (utils/analysis/helpers.go analysisStatusOrder).
_PHASE_ORDER = (
    ANALYSIS_SUCCESSFUL,
    ANALYSIS_RUNNING,
    ANALYSIS_PENDING,
    ANALYSIS_INCONCLUSIVE,
    ANALYSIS_ERROR,
    ANALYSIS_FAILED,
)


def is_completed(phase: str | None) -> bool:
    return phase in COMPLETED_ANALYSIS_PHASES


def is_worse(current: str, new: str) -> bool:
    """Whether `new` is a worse phase than `current` (unknown phases rank as Successful)."""

    def rank(phase: str) -> int:
        return _PHASE_ORDER.index(phase) if phase in _PHASE_ORDER else 0

    return rank(new) > rank(current)


def worst(left: str, right: str) -> str:
    return right if is_worse(left, right) else left


# --------------------------------------------------------------------------- one measurement


def _is_nil_or_empty(result: Any) -> bool:
    return result is None or (isinstance(result, list | tuple | dict) and len(result) == 0)


def evaluate_result(
    result: Any, *, success_condition: str | None, failure_condition: str | None
) -> tuple[str, str | None]:
    """The phase of one measurement whose value is `result`, and an error message if any.

    No conditions -> Successful; success only -> Successful or Failed; failure
    only -> Failed or Successful; both, neither true -> Inconclusive; a
    condition that does not compile or evaluate -> Error.
    """
    success = False
    failure = False
    for kind, condition in (
        ("successCondition", success_condition),
        ("failureCondition", failure_condition),
    ):
        if not condition:
            continue
        try:
            value = evaluate_condition(condition, result)
        except ExprError as err:
            if _is_nil_or_empty(result):
                return ANALYSIS_ERROR, (
                    f'could not evaluate {kind} "{condition}": metric result is nil or empty: '
                    "no data returned from the metric provider"
                )
            return ANALYSIS_ERROR, f'could not evaluate {kind} "{condition}": {err}'
        if kind == "successCondition":
            success = value
        else:
            failure = value

    if not success_condition and not failure_condition:
        return ANALYSIS_SUCCESSFUL, None
    if success_condition and not failure_condition:
        failure = not success
    elif failure_condition and not success_condition:
        success = not failure
    if failure:
        return ANALYSIS_FAILED, None
    if not success:
        return ANALYSIS_INCONCLUSIVE, None
    return ANALYSIS_SUCCESSFUL, None


# --------------------------------------------------------------------------- counters


def record_measurement(result: MetricResult, measurement: Measurement) -> None:
    """Count a completed measurement into its metric's counters (Argo's runMeasurements)."""
    phase = measurement.phase
    if phase not in COMPLETED_ANALYSIS_PHASES:
        return
    if phase == ANALYSIS_ERROR:
        result.error = (result.error or 0) + 1
        result.consecutive_error = (result.consecutive_error or 0) + 1
        result.consecutive_success = 0
        return
    result.count = (result.count or 0) + 1
    result.consecutive_error = 0
    if phase == ANALYSIS_SUCCESSFUL:
        result.successful = (result.successful or 0) + 1
        result.consecutive_success = (result.consecutive_success or 0) + 1
    elif phase == ANALYSIS_FAILED:
        result.failed = (result.failed or 0) + 1
        result.consecutive_success = 0
    else:
        result.inconclusive = (result.inconclusive or 0) + 1
        result.consecutive_success = 0


# --------------------------------------------------------------------------- one metric


def int_value(value: IntOrString | None, default: int = 0) -> int:
    """Kubernetes IntOrString.IntValue(): ints as is, numeric strings parsed, others 0."""
    if value is None:
        return default
    if isinstance(value, int):
        return value
    # Go's Atoi: ASCII digits in int64 range (Python's int() takes other scripts' digits and
    # raises on strings of thousands of digits).
    return parse_int64(value.strip()) or 0


def effective_count(metric: Metric) -> int | None:
    """How many measurements the metric takes: count, else 1 without interval, else unbounded."""
    count = int_value(metric.count)
    if count == 0:
        return None if metric.interval else 1
    return count


def failure_inconclusive_or_error(metric: Metric, result: MetricResult) -> tuple[str | None, str]:
    """The limit a metric has exceeded (Failed / Inconclusive / Error, later ones win) and why."""
    phase: str | None = None
    message = ""
    failed = result.failed or 0
    failure_limit = int_value(metric.failure_limit)
    if failure_limit >= 0 and failed > failure_limit:
        phase = ANALYSIS_FAILED
        message = f"failed ({failed}) > failureLimit ({failure_limit})"
    inconclusive = result.inconclusive or 0
    inconclusive_limit = int_value(metric.inconclusive_limit)
    if inconclusive > inconclusive_limit:
        phase = ANALYSIS_INCONCLUSIVE
        message = f"inconclusive ({inconclusive}) > inconclusiveLimit ({inconclusive_limit})"
    consecutive_error = result.consecutive_error or 0
    error_limit = int_value(metric.consecutive_error_limit, DEFAULT_CONSECUTIVE_ERROR_LIMIT)
    if consecutive_error > error_limit:
        phase = ANALYSIS_ERROR
        message = f"consecutiveErrors ({consecutive_error}) > consecutiveErrorLimit ({error_limit})"
    return phase, message


def assess_metric(metric: Metric, result: MetricResult, *, terminating: bool) -> str:
    """A metric's phase from its counters and limits (Argo's assessMetricStatus)."""
    if is_completed(result.phase):
        return result.phase
    measurements = result.measurements or []
    if not measurements:
        return ANALYSIS_SUCCESSFUL if terminating else ANALYSIS_PENDING
    if not is_completed(measurements[-1].phase):
        return ANALYSIS_RUNNING
    limit_phase, _ = failure_inconclusive_or_error(metric, result)
    if limit_phase is not None:
        return limit_phase
    success_limit = int_value(metric.consecutive_success_limit)
    success_applicable = success_limit > 0
    if success_applicable and (result.consecutive_success or 0) >= success_limit:
        return ANALYSIS_SUCCESSFUL
    count = effective_count(metric)
    if count is not None and (result.count or 0) >= count:
        failure_applicable = metric.failure_limit is None or int_value(metric.failure_limit) >= 0
        if success_applicable and failure_applicable:
            # Neither limit was reached within count measurements: nobody can tell.
            return ANALYSIS_INCONCLUSIVE
        if success_applicable:
            return ANALYSIS_FAILED
        return ANALYSIS_SUCCESSFUL
    if terminating:
        return ANALYSIS_SUCCESSFUL
    return ANALYSIS_RUNNING


# --------------------------------------------------------------------------- the run


@dataclass
class Summary:
    count: int = 0
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0

    def add(self, phase: str | None) -> None:
        if phase == ANALYSIS_ERROR:
            self.error += 1
        elif phase == ANALYSIS_FAILED:
            self.failed += 1
        elif phase == ANALYSIS_INCONCLUSIVE:
            self.inconclusive += 1
        else:
            self.successful += 1


@dataclass
class MetricTransition:
    """A metric whose phase changed in this assessment (an event for the shell to record)."""

    name: str
    old_phase: str
    new_phase: str


@dataclass
class RunAssessment:
    phase: str
    message: str
    summary: Summary
    dry_run_summary: Summary
    transitions: list[MetricTransition]


def assess_run(
    metrics: list[Metric],
    results: dict[str, MetricResult],
    *,
    dry_run: set[str],
    terminate: bool,
) -> RunAssessment:
    """The run's phase: the worst completed metric, Running while any is not done.

    Updates each MetricResult's phase (and message) in place, as Argo's
    assessRunStatus does. A run terminates early ("fail fast") once a
    non-dry-run metric is Failed, Error or Inconclusive: the caller stops
    scheduling measurements (see `is_terminating`) and the remaining metrics
    assess as Successful, so the worst phase decides.
    """
    terminating = terminate or is_terminating(results.values())
    worst_phase = ""
    worst_message = "Run Terminated" if terminate else ""
    everything_completed = True
    summary = Summary()
    dry_summary = Summary()
    transitions: list[MetricTransition] = []

    for metric in metrics:
        is_dry = metric.name in dry_run
        if is_dry:
            dry_summary.count += 1
        else:
            summary.count += 1
        result = results.get(metric.name)
        if result is None:
            everything_completed = False
            continue
        phase = assess_metric(metric, result, terminating=terminating)
        if phase != result.phase:
            transitions.append(MetricTransition(metric.name, result.phase, phase))
            measurements = result.measurements or []
            if measurements:
                result.message = measurements[-1].message
            result.phase = phase
        if not is_completed(phase):
            everything_completed = False
            continue
        limit_phase, reason = failure_inconclusive_or_error(metric, result)
        if not is_dry:
            if not worst_phase or is_worse(worst_phase, phase):
                worst_phase = phase
                if reason:
                    worst_message = f'Metric "{metric.name}" assessed {phase} due to {reason}'
                    if result.message:
                        worst_message += f': "Error Message: {result.message}"'
            summary.add(limit_phase)
        else:
            if not worst_phase:
                worst_phase = ANALYSIS_SUCCESSFUL
            if reason:
                result.message = f"Metric assessed {phase} due to {reason}"
            dry_summary.add(limit_phase)

    worst_message = worst_message.strip()
    if terminating:
        return RunAssessment(worst_phase or ANALYSIS_SUCCESSFUL, worst_message, summary, dry_summary, transitions)
    if not everything_completed or not worst_phase:
        return RunAssessment(ANALYSIS_RUNNING, "", summary, dry_summary, transitions)
    return RunAssessment(worst_phase, worst_message, summary, dry_summary, transitions)


def is_terminating(results: Any) -> bool:
    """A non-dry-run metric already Failed, Error or Inconclusive ends the run early."""
    return any(
        not result.dry_run and result.phase in (ANALYSIS_FAILED, ANALYSIS_ERROR, ANALYSIS_INCONCLUSIVE)
        for result in results
    )
