"""The AnalysisRun state machine as two pure steps around the measurements.

The shell (the AnalysisRun controller) reconciles a run as:

    plan = decide(run, now)                # which metrics to measure, resume or stop
    ... resolve secrets, call the providers for plan.tasks ...
    step = complete(run, plan, outcomes, now=now, secrets=secrets)
    ... write step.status, record step.events, requeue at step.requeue_at ...

Both steps are functions of the run (spec + status as stored in the cluster)
and `now`, so a controller restarted at any point continues where the status
says, and every timing rule is tested with a fake clock. The rules are Argo's
(analysis/analysis.go): a metric is measured after its initialDelay, then every
interval until it has `count` measurements (once when neither count nor
interval is set, until the run is terminated when only interval is set); an
Error measurement is retried after 10s; a run that is terminated, or whose
metric already Failed / Errored / was Inconclusive, takes no new measurements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import re2  # type: ignore[import-untyped]

from rollouts.analysis.args import ArgumentError, argument_values, redact, resolve_metric
from rollouts.analysis.verdict import (
    assess_run,
    effective_count,
    int_value,
    is_completed,
    is_terminating,
    record_measurement,
)
from rollouts.api.analysis import (
    AnalysisRun,
    AnalysisRunStatus,
    Measurement,
    Metric,
    MetricResult,
    RunSummary,
)
from rollouts.api.common import InvalidValueError, parse_duration
from rollouts.api.constants import (
    ANALYSIS_ERROR,
    ANALYSIS_FAILED,
    ANALYSIS_INCONCLUSIVE,
    ANALYSIS_RUNNING,
    ANALYSIS_SUCCESSFUL,
    DEFAULT_MEASUREMENT_RETENTION,
)
from rollouts.api.timestamps import format_time, parse_time

DEFAULT_ERROR_RETRY_SECONDS = 10.0

__all__ = [
    "Event",
    "MeasurementOutcome",
    "MetricTask",
    "Plan",
    "Step",
    "complete",
    "decide",
    "ttl_expiry",
    "validate_metric",
]


def _seconds(value: str | None) -> float | None:
    return parse_duration(value) if value else None


@dataclass
class MetricTask:
    """A metric to measure now; `incomplete` is an in-flight measurement to resume or stop."""

    metric: Metric
    incomplete: Measurement | None = None
    terminate: bool = False


@dataclass
class Plan:
    """What `decide` found: an error that ends the run, or the measurements to take."""

    error: str | None = None
    completed: bool = False
    metrics: list[Metric] = field(default_factory=list)
    tasks: list[MetricTask] = field(default_factory=list)
    dry_run: set[str] = field(default_factory=set)
    retention: dict[str, int] = field(default_factory=dict)
    terminating: bool = False


@dataclass
class MeasurementOutcome:
    """What a provider returned for a task; `metadata` goes on a new MetricResult."""

    measurement: Measurement
    metadata: dict[str, str] | None = None


@dataclass
class Event:
    type: str  # Normal / Warning
    reason: str
    message: str


@dataclass
class Step:
    status: AnalysisRunStatus
    requeue_at: datetime | None
    events: list[Event]
    # Metrics whose measurement history was trimmed: their providers may garbage-collect
    # (a Job provider deletes the Jobs of dropped measurements), keeping `limit`.
    trimmed: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- validation


def validate_metric(metric: Metric) -> None:
    """Argo's ValidateMetric: limits, count vs interval, durations, exactly one provider."""
    count = int_value(metric.count)
    failure_limit = int_value(metric.failure_limit)
    success_limit = int_value(metric.consecutive_success_limit)
    inconclusive_limit = int_value(metric.inconclusive_limit)
    if success_limit < 0:
        raise ValueError("consecutiveSuccessLimit must be >= 0")
    if failure_limit < -1:
        raise ValueError("failureLimit must be >= 0, or -1 to be disabled")
    if success_limit == 0 and failure_limit == -1:
        raise ValueError("failureLimit and consecutiveSuccessLimit cannot both be disabled")
    if inconclusive_limit < 0:
        raise ValueError("inconclusiveLimit must be >= 0")
    if metric.consecutive_error_limit is not None and int_value(metric.consecutive_error_limit) < 0:
        raise ValueError("consecutiveErrorLimit must be >= 0")
    if count > 0:
        if failure_limit >= 0 and count < failure_limit + success_limit:
            raise ValueError(
                f"count ({count}) must be >= failureLimit + consecutiveSuccessLimit "
                f"({failure_limit} + {success_limit}) if both >= 0"
            )
        if failure_limit < 0 and count < success_limit:
            raise ValueError("count must be >= consecutiveSuccessLimit")
        if count < inconclusive_limit:
            raise ValueError("count must be >= inconclusiveLimit")
    if count > 1 and not metric.interval:
        raise ValueError("interval must be specified when count > 1")
    for name, value in (("interval", metric.interval), ("initialDelay", metric.initial_delay)):
        try:
            _seconds(value)
        except InvalidValueError as err:
            raise ValueError(f"invalid {name} string: {err}") from err
    kinds = metric.provider.kinds()
    if not kinds:
        raise ValueError("no provider specified")
    if len(kinds) > 1:
        raise ValueError(f"multiple providers specified: {', '.join(kinds)}")


def _validate(metrics: list[Metric]) -> None:
    if not metrics:
        raise ValueError("no metrics specified")
    names: set[str] = set()
    for index, metric in enumerate(metrics):
        if metric.name in names:
            raise ValueError(f"metrics[{index}]: duplicate name '{metric.name}'")
        names.add(metric.name)
        try:
            validate_metric(metric)
        except ValueError as err:
            raise ValueError(f"metrics[{index}]: {err}") from err


MAX_PATTERN_LENGTH = 1024
"""A metricName pattern names metrics of one run; longer is a mistake (or an attack), refused."""


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the error is reported in the run's message, not printed on stderr
    options.never_capture = True
    return options


# RE2 is Go's regexp syntax with linear-time matching: a user's pattern cannot backtrack for minutes
# on the loop that renews the leader Lease (Python's re would, e.g. "(a+)+$").
_RE2_OPTIONS = _re2_options()


def _match_rules(patterns: list[str], metrics: list[Metric], what: str) -> list[set[str]]:
    """Each rule's metric names (Go regexp.MatchString: unanchored, RE2 syntax); a rule must match one."""
    matched: list[set[str]] = []
    for index, pattern in enumerate(patterns):
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise ValueError(f"{what}[{index}]: metricName pattern longer than {MAX_PATTERN_LENGTH} characters")
        try:
            regex = re2.compile(pattern, _RE2_OPTIONS)
        except re2.error as err:
            reason = err.args[0].decode(errors="replace") if err.args and isinstance(err.args[0], bytes) else str(err)
            raise ValueError(f"{what}[{index}]: invalid metricName pattern: {reason}") from err
        names = {m.name for m in metrics if regex.search(m.name)}
        if not names:
            raise ValueError(f"{what}[{index}]: Rule didn't match any metric name(s)")
        matched.append(names)
    return matched


# --------------------------------------------------------------------------- decide


def _results(run: AnalysisRun) -> dict[str, MetricResult]:
    status = run.status or AnalysisRunStatus()
    return {result.name: result for result in status.metric_results or []}


def decide(run: AnalysisRun, now: datetime) -> Plan:
    """Which metrics of `run` need a measurement at `now` (or why the run is in Error)."""
    status = run.status or AnalysisRunStatus()
    if is_completed(status.phase):
        return Plan(completed=True)
    try:
        values = argument_values(run.spec.args)
        metrics = [resolve_metric(metric, values) for metric in run.spec.metrics]
    except ArgumentError as err:
        return Plan(error=f"Unable to resolve metric arguments: {err}")
    try:
        _validate(metrics)
        dry_sets = _match_rules([r.metric_name for r in run.spec.dry_run or []], metrics, "dryRun")
        retention_rules = run.spec.measurement_retention or []
        retention_sets = _match_rules([r.metric_name for r in retention_rules], metrics, "measurementRetention")
    except ValueError as err:
        return Plan(error=f"Analysis spec invalid: {err}")
    dry_run = set().union(*dry_sets) if dry_sets else set()
    retention: dict[str, int] = {}
    for rule, names in zip(retention_rules, retention_sets, strict=True):
        for name in names:
            retention[name] = rule.limit

    results = _results(run)
    terminating = bool(run.spec.terminate) or is_terminating(results.values())
    started_at = parse_time(status.started_at)
    plan = Plan(metrics=metrics, dry_run=dry_run, retention=retention, terminating=terminating)
    for index, metric in enumerate(metrics):
        spec_metric = run.spec.metrics[index]
        result = results.get(metric.name)
        if result is not None and is_completed(result.phase):
            continue
        measurements = (result.measurements if result else None) or []
        last = measurements[-1] if measurements else None
        if last is not None and last.finished_at is None:
            resume_at = parse_time(last.resume_at)
            if not terminating and resume_at is not None and resume_at > now:
                continue
            plan.tasks.append(MetricTask(spec_metric, incomplete=last, terminate=terminating))
            continue
        if terminating:
            continue
        if last is None:
            delay = _seconds(metric.initial_delay)
            if delay and (started_at is None or started_at + timedelta(seconds=delay) > now):
                continue
            plan.tasks.append(MetricTask(spec_metric))
            continue
        count = effective_count(metric)
        if count is not None and result is not None and (result.count or 0) >= count:
            continue
        interval = _retry_interval(metric, last)
        finished_at = parse_time(last.finished_at)
        if interval is not None and finished_at is not None and now > finished_at + interval:
            plan.tasks.append(MetricTask(spec_metric))
    return plan


def _retry_interval(metric: Metric, last: Measurement) -> timedelta | None:
    if last.phase == ANALYSIS_ERROR or not metric.interval:
        # Without an interval a metric is re-measured only to retry an error (or to
        # reach count); Argo uses its error-retry interval for both.
        return timedelta(seconds=DEFAULT_ERROR_RETRY_SECONDS)
    seconds = _seconds(metric.interval)
    return timedelta(seconds=seconds) if seconds is not None else None


# --------------------------------------------------------------------------- complete


def _record(
    results: dict[str, MetricResult],
    order: list[str],
    *,
    task: MetricTask,
    outcome: MeasurementOutcome,
    dry_run: bool,
    now: datetime,
    secrets: list[str],
) -> None:
    name = task.metric.name
    result = results.get(name)
    if result is None:
        result = MetricResult(
            name=name,
            phase=ANALYSIS_RUNNING,
            dry_run=True if dry_run else None,
            metadata=outcome.metadata or None,
        )
        results[name] = result
        order.append(name)
    measurement = outcome.measurement.model_copy()
    if task.terminate and measurement.phase in (ANALYSIS_SUCCESSFUL, ANALYSIS_INCONCLUSIVE):
        measurement.message = "Metric Terminated"
    if is_completed(measurement.phase):
        if measurement.finished_at is None:
            measurement.finished_at = format_time(now)
        record_measurement(result, measurement)
    measurement.message = redact(measurement.message, secrets)
    measurement.value = redact(measurement.value, secrets)
    measurements = list(result.measurements or [])
    if task.incomplete is not None and measurements:
        measurements[-1] = measurement
    else:
        measurements.append(measurement)
    result.measurements = measurements


def _next_reconcile(metrics: list[Metric], results: dict[str, MetricResult], started_at: datetime) -> datetime | None:
    """The earliest instant a metric is due (Argo's calculateNextReconcileTime)."""
    earliest: datetime | None = None

    def consider(moment: datetime) -> None:
        nonlocal earliest
        if earliest is None or moment < earliest:
            earliest = moment

    for metric in metrics:
        result = results.get(metric.name)
        if result is not None and is_completed(result.phase):
            continue
        measurements = (result.measurements if result else None) or []
        if not measurements:
            delay = _seconds(metric.initial_delay)
            if delay:
                consider(started_at + timedelta(seconds=delay))
            continue
        last = measurements[-1]
        if last.finished_at is None:
            resume_at = parse_time(last.resume_at)
            if resume_at is not None:
                consider(resume_at)
            continue
        count = effective_count(metric)
        if count is not None and result is not None and (result.count or 0) >= count:
            continue
        finished_at = parse_time(last.finished_at)
        if finished_at is None:
            continue
        if last.phase == ANALYSIS_ERROR:
            consider(finished_at + timedelta(seconds=DEFAULT_ERROR_RETRY_SECONDS))
        elif metric.interval:
            seconds = _seconds(metric.interval)
            if seconds is not None:
                consider(finished_at + timedelta(seconds=seconds))
    return earliest


def _summary(summary: object) -> RunSummary:
    return RunSummary(
        count=getattr(summary, "count", 0),
        successful=getattr(summary, "successful", 0),
        failed=getattr(summary, "failed", 0),
        inconclusive=getattr(summary, "inconclusive", 0),
        error=getattr(summary, "error", 0),
    )


def complete(
    run: AnalysisRun,
    plan: Plan,
    outcomes: dict[str, MeasurementOutcome],
    *,
    now: datetime,
    secrets: list[str] | None = None,
) -> Step:
    """The run's new status after the measurements of `plan` (keyed by metric name)."""
    old = run.status or AnalysisRunStatus()
    status = old.model_copy(deep=True)
    events: list[Event] = []
    if plan.completed:
        return Step(status=status, requeue_at=None, events=events)
    if plan.error is not None:
        if status.phase != ANALYSIS_ERROR or status.message != plan.error:
            events.append(_completion_event(ANALYSIS_ERROR))
        status.phase = ANALYSIS_ERROR
        status.message = plan.error
        status.started_at = status.started_at or format_time(now)
        status.completed_at = status.completed_at or format_time(now)
        return Step(status=status, requeue_at=None, events=events)

    results = {result.name: result for result in status.metric_results or []}
    order = [result.name for result in status.metric_results or []]
    for task in plan.tasks:
        outcome = outcomes.get(task.metric.name)
        if outcome is None:
            continue
        _record(
            results,
            order,
            task=task,
            outcome=outcome,
            dry_run=task.metric.name in plan.dry_run,
            now=now,
            secrets=secrets or [],
        )

    if status.started_at is None:
        status.started_at = format_time(now)
    terminate = bool(run.spec.terminate)
    assessment = assess_run(plan.metrics, results, dry_run=plan.dry_run, terminate=terminate)
    if assessment.phase == ANALYSIS_RUNNING and is_terminating(results.values()):
        # A metric just failed: stop the others now rather than one reconcile later.
        again = assess_run(plan.metrics, results, dry_run=plan.dry_run, terminate=terminate)
        again.transitions = assessment.transitions + again.transitions
        assessment = again
    for transition in assessment.transitions:
        if is_completed(transition.new_phase):
            events.append(
                Event(
                    type=_event_type(transition.new_phase),
                    reason=f"Metric{transition.new_phase}",
                    message=f"Metric '{transition.name}' Completed. Result: {transition.new_phase}",
                )
            )
    if assessment.phase != status.phase:
        status.phase = assessment.phase
        status.message = assessment.message or None
        if is_completed(assessment.phase):
            events.append(_completion_event(assessment.phase))
            status.completed_at = status.completed_at or format_time(now)
    status.run_summary = _summary(assessment.summary)
    status.dry_run_summary = _summary(assessment.dry_run_summary)

    trimmed: dict[str, int] = {}
    for name, result in results.items():
        limit = plan.retention.get(name) or DEFAULT_MEASUREMENT_RETENTION
        if limit <= 0:
            limit = DEFAULT_MEASUREMENT_RETENTION
        measurements = result.measurements or []
        if len(measurements) > limit:
            result.measurements = measurements[-limit:]
            trimmed[name] = limit
    status.metric_results = [results[name] for name in order]

    requeue_at = None
    if not is_completed(status.phase):
        started_at = parse_time(status.started_at) or now
        requeue_at = _next_reconcile(plan.metrics, results, started_at)
    return Step(status=status, requeue_at=requeue_at, events=events, trimmed=trimmed)


def _event_type(phase: str) -> str:
    return "Warning" if phase in (ANALYSIS_ERROR, ANALYSIS_FAILED) else "Normal"


def _completion_event(phase: str) -> Event:
    return Event(
        type=_event_type(phase),
        reason=f"AnalysisRun{phase}",
        message=f"Analysis Completed. Result: {phase}",
    )


def ttl_expiry(run: AnalysisRun) -> datetime | None:
    """When a completed run with a ttlStrategy is due for deletion (None: keep it)."""
    status = run.status or AnalysisRunStatus()
    ttl = run.spec.ttl_strategy
    if ttl is None or not is_completed(status.phase):
        return None
    completed_at = parse_time(status.completed_at)
    if completed_at is None:
        return None
    seconds: int | None = None
    if status.phase == ANALYSIS_SUCCESSFUL and ttl.seconds_after_success is not None:
        seconds = ttl.seconds_after_success
    elif status.phase == ANALYSIS_FAILED and ttl.seconds_after_failure is not None:
        seconds = ttl.seconds_after_failure
    elif ttl.seconds_after_completion is not None:
        seconds = ttl.seconds_after_completion
    if seconds is None:
        return None
    # Argo deletes once int(elapsed) > ttl, i.e. one second after the ttl has passed.
    return completed_at + timedelta(seconds=seconds + 1)
