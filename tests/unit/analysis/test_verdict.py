"""Verdict rules: one measurement, one metric (limits and counters), the whole run."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.analysis.verdict import (
    assess_metric,
    assess_run,
    effective_count,
    evaluate_result,
    failure_inconclusive_or_error,
    is_terminating,
    is_worse,
    record_measurement,
    worst,
)
from rollouts.api.analysis import Measurement, Metric, MetricResult

OK, FAIL, ERR, INC = "Successful", "Failed", "Error", "Inconclusive"
RUNNING, PENDING = "Running", "Pending"


# --------------------------------------------------------------------------- measurement


@pytest.mark.parametrize(
    ("success", "failure", "expected"),
    [
        (None, None, OK),
        ("true", None, OK),
        ("false", None, FAIL),
        (None, "true", FAIL),
        (None, "false", OK),
        ("true", "false", OK),
        ("true", "true", FAIL),
        ("false", "true", FAIL),
        ("false", "false", INC),
    ],
)
def test_measurement_verdict(success: str | None, failure: str | None, expected: str) -> None:
    phase, message = evaluate_result(True, success_condition=success, failure_condition=failure)
    assert (phase, message) == (expected, None)


def test_measurement_uses_the_result() -> None:
    conditions = {"success_condition": "result[0] >= 0.95", "failure_condition": "result[0] < 0.5"}
    assert evaluate_result([0.99], **conditions)[0] == OK
    assert evaluate_result([0.1], **conditions)[0] == FAIL
    assert evaluate_result([0.7], **conditions)[0] == INC


@pytest.mark.parametrize(
    ("success", "failure", "kind"),
    [
        ("invalidVar == true", "true", "successCondition"),
        ("true", "invalidVar == true", "failureCondition"),
        ("result > ", None, "successCondition"),
        ("result + 1", None, "successCondition"),
    ],
)
def test_condition_errors_are_error_measurements(success: str, failure: str | None, kind: str) -> None:
    phase, message = evaluate_result(True, success_condition=success, failure_condition=failure)
    assert phase == ERR
    assert message is not None and message.startswith(f"could not evaluate {kind}")


def test_syntax_error_message_names_the_position() -> None:
    _, message = evaluate_result(1, success_condition="result >= = 1", failure_condition=None)
    assert message is not None and "line 1, column 11" in message


@pytest.mark.parametrize("empty", [None, []])
def test_empty_result_error_says_no_data(empty: Any) -> None:
    phase, message = evaluate_result(empty, success_condition="result[0] >= 0.95", failure_condition=None)
    assert phase == ERR
    assert message is not None and "metric result is nil or empty" in message


# --------------------------------------------------------------------------- counters


def measured(*phases: str) -> MetricResult:
    result = MetricResult(name="m", phase=RUNNING)
    for phase in phases:
        measurement = Measurement(phase=phase)
        record_measurement(result, measurement)
        result.measurements = [*(result.measurements or []), measurement]
    return result


def test_counters() -> None:
    result = measured(OK, OK, ERR, ERR, FAIL, INC, OK)
    assert result.count == 5  # errors are not counted
    assert (result.successful, result.failed, result.inconclusive, result.error) == (3, 1, 1, 2)
    assert result.consecutive_error == 0
    assert result.consecutive_success == 1
    errors = measured(OK, ERR, ERR)
    assert (errors.consecutive_error, errors.consecutive_success) == (2, 0)
    assert measured(OK, OK).consecutive_success == 2
    assert measured(FAIL).consecutive_success == 0


def test_incomplete_measurement_counts_nothing() -> None:
    result = MetricResult(name="m", phase=RUNNING)
    record_measurement(result, Measurement(phase=RUNNING))
    assert result.count is None


# --------------------------------------------------------------------------- metric


def metric(**fields: Any) -> Metric:
    return Metric.model_validate({"name": "m", "provider": {"web": {"url": "x"}}, **fields})


def test_effective_count() -> None:
    assert effective_count(metric()) == 1
    assert effective_count(metric(interval="1m")) is None
    assert effective_count(metric(count=3, interval="1m")) == 3
    assert effective_count(metric(count="4", interval="1m")) == 4
    assert effective_count(metric(count=0)) == 1


def test_limits_default_failure_zero_inconclusive_zero_errors_four() -> None:
    m = metric(interval="1m")
    assert failure_inconclusive_or_error(m, measured(OK))[0] is None
    assert failure_inconclusive_or_error(m, measured(FAIL)) == (
        FAIL,
        "failed (1) > failureLimit (0)",
    )
    assert failure_inconclusive_or_error(m, measured(INC))[0] == INC
    assert failure_inconclusive_or_error(m, measured(ERR, ERR, ERR, ERR))[0] is None
    assert failure_inconclusive_or_error(m, measured(ERR, ERR, ERR, ERR, ERR)) == (
        ERR,
        "consecutiveErrors (5) > consecutiveErrorLimit (4)",
    )
    # Error wins over Inconclusive wins over Failed, as in Argo.
    assert failure_inconclusive_or_error(m, measured(FAIL, INC))[0] == INC
    assert failure_inconclusive_or_error(m, measured(FAIL, INC, *[ERR] * 5))[0] == ERR


def test_limits_configured() -> None:
    m = metric(interval="1m", failureLimit=2, inconclusiveLimit=1, consecutiveErrorLimit=0)
    assert failure_inconclusive_or_error(m, measured(FAIL, FAIL))[0] is None
    assert failure_inconclusive_or_error(m, measured(FAIL, FAIL, FAIL))[0] == FAIL
    assert failure_inconclusive_or_error(m, measured(INC))[0] is None
    assert failure_inconclusive_or_error(m, measured(INC, INC))[0] == INC
    assert failure_inconclusive_or_error(m, measured(ERR))[0] == ERR
    disabled = metric(interval="1m", failureLimit=-1, consecutiveSuccessLimit=2)
    assert failure_inconclusive_or_error(disabled, measured(*[FAIL] * 10))[0] is None


def test_assess_metric_pending_running_and_terminating() -> None:
    m = metric(interval="1m")
    empty = MetricResult(name="m", phase=RUNNING)
    assert assess_metric(m, empty, terminating=False) == PENDING
    assert assess_metric(m, empty, terminating=True) == OK
    in_flight = MetricResult(name="m", phase=RUNNING, measurements=[Measurement(phase=RUNNING)])
    assert assess_metric(m, in_flight, terminating=False) == RUNNING
    assert assess_metric(m, in_flight, terminating=True) == RUNNING
    assert assess_metric(m, measured(OK), terminating=False) == RUNNING  # runs until terminated
    assert assess_metric(m, measured(OK), terminating=True) == OK


def test_assess_metric_keeps_a_completed_phase() -> None:
    done = measured(OK)
    done.phase = FAIL
    assert assess_metric(metric(), done, terminating=False) == FAIL


def test_assess_metric_count_reached() -> None:
    assert assess_metric(metric(), measured(OK), terminating=False) == OK
    m = metric(count=3, interval="1m", failureLimit=1)
    assert assess_metric(m, measured(OK, FAIL), terminating=False) == RUNNING
    assert assess_metric(m, measured(OK, FAIL, OK), terminating=False) == OK
    assert assess_metric(m, measured(OK, FAIL, FAIL), terminating=False) == FAIL


def test_assess_metric_consecutive_success_limit() -> None:
    both = metric(count=4, interval="1m", failureLimit=2, consecutiveSuccessLimit=2)
    assert assess_metric(both, measured(FAIL, OK, OK), terminating=False) == OK
    assert assess_metric(both, measured(OK, FAIL, OK), terminating=False) == RUNNING
    # count reached, neither limit reached -> Inconclusive
    assert assess_metric(both, measured(OK, FAIL, OK, FAIL), terminating=False) == INC
    only_success = metric(count=3, interval="1m", failureLimit=-1, consecutiveSuccessLimit=2)
    assert assess_metric(only_success, measured(OK, FAIL, OK), terminating=False) == FAIL
    assert assess_metric(only_success, measured(FAIL, OK, OK), terminating=False) == OK


# --------------------------------------------------------------------------- run


def result_with(name: str, *phases: str, dry_run: bool = False) -> MetricResult:
    result = measured(*phases)
    result.name = name
    result.dry_run = dry_run or None
    return result


def named(name: str, **fields: Any) -> Metric:
    return Metric.model_validate({"name": name, "provider": {"web": {"url": "x"}}, **fields})


def test_run_is_running_until_every_metric_completes() -> None:
    metrics = [named("a"), named("b")]
    results = {"a": result_with("a", OK)}
    assessment = assess_run(metrics, results, dry_run=set(), terminate=False)
    assert assessment.phase == RUNNING
    assert assessment.message == ""
    assert results["a"].phase == OK
    assert [(t.name, t.new_phase) for t in assessment.transitions] == [("a", OK)]


def test_run_successful_when_all_successful() -> None:
    metrics = [named("a"), named("b")]
    results = {"a": result_with("a", OK), "b": result_with("b", OK)}
    assessment = assess_run(metrics, results, dry_run=set(), terminate=False)
    assert assessment.phase == OK
    assert (assessment.summary.count, assessment.summary.successful) == (2, 2)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(FAIL, ERR, FAIL), (ERR, INC, ERR), (INC, OK, INC), (OK, FAIL, FAIL)],
)
def test_run_phase_is_the_worst(a: str, b: str, expected: str) -> None:
    metrics = [named("a"), named("b")]
    results = {"a": result_with("a", a), "b": result_with("b", b)}
    if ERR in (a, b):
        # an Error metric needs consecutiveErrorLimit + 1 errors
        name = "a" if a == ERR else "b"
        results[name] = result_with(name, *[ERR] * 5)
    assessment = assess_run(metrics, results, dry_run=set(), terminate=False)
    assert assessment.phase == expected
    assert f"assessed {expected} due to" in assessment.message


def test_failure_message_names_metric_and_limit() -> None:
    results = {"a": result_with("a", FAIL)}
    results["a"].measurements[-1].message = "boom"  # type: ignore[index]
    assessment = assess_run([named("a")], results, dry_run=set(), terminate=False)
    assert assessment.phase == FAIL
    assert assessment.message == (
        'Metric "a" assessed Failed due to failed (1) > failureLimit (0): "Error Message: boom"'
    )
    assert assessment.summary.failed == 1


def test_fail_fast_once_terminating() -> None:
    # a Failed metric from an earlier assessment terminates the run: the other,
    # open-ended metric is closed as Successful and the run is Failed.
    metrics = [named("a"), named("b", interval="1m")]
    results = {"a": result_with("a", FAIL), "b": result_with("b", OK)}
    results["a"].phase = FAIL
    assert is_terminating(results.values())
    assessment = assess_run(metrics, results, dry_run=set(), terminate=False)
    assert assessment.phase == FAIL
    assert results["b"].phase == OK


def test_dry_run_metrics_never_decide() -> None:
    metrics = [named("a"), named("dry")]
    results = {"a": result_with("a", OK), "dry": result_with("dry", FAIL, dry_run=True)}
    assessment = assess_run(metrics, results, dry_run={"dry"}, terminate=False)
    assert assessment.phase == OK
    assert results["dry"].phase == FAIL
    assert results["dry"].message == "Metric assessed Failed due to failed (1) > failureLimit (0)"
    assert (assessment.summary.count, assessment.summary.successful) == (1, 1)
    assert (assessment.dry_run_summary.count, assessment.dry_run_summary.failed) == (1, 1)
    results["dry"].phase = FAIL
    assert not is_terminating(results.values())


def test_only_dry_run_metrics_is_successful() -> None:
    results = {"dry": result_with("dry", FAIL, dry_run=True)}
    assessment = assess_run([named("dry")], results, dry_run={"dry"}, terminate=False)
    assert assessment.phase == OK


def test_terminate_before_any_measurement_is_successful() -> None:
    assessment = assess_run([named("a")], {}, dry_run=set(), terminate=True)
    assert assessment.phase == OK
    assert assessment.message == "Run Terminated"


def test_terminate_closes_open_ended_metrics() -> None:
    metrics = [named("a", interval="1m")]
    results = {"a": result_with("a", OK, OK)}
    assert assess_run(metrics, results, dry_run=set(), terminate=False).phase == RUNNING
    assessment = assess_run(metrics, results, dry_run=set(), terminate=True)
    assert assessment.phase == OK
    assert assessment.message == "Run Terminated"


def test_phase_order() -> None:
    assert is_worse(OK, FAIL)
    assert is_worse(INC, ERR)
    assert is_worse(ERR, FAIL)
    assert not is_worse(FAIL, ERR)
    assert worst(INC, OK) == INC
    assert worst(OK, RUNNING) == RUNNING
