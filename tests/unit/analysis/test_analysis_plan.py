"""The AnalysisRun state machine with a fake clock: scheduling, counters, errors, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.analysis.plan import (
    MeasurementOutcome,
    Plan,
    Step,
    complete,
    decide,
    format_time,
    parse_time,
    ttl_expiry,
)
from rollouts.api.analysis import AnalysisRun, Measurement

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
WEB = {"web": {"url": "http://127.0.0.1/{{args.path}}"}}


def run_of(*metrics: dict[str, Any], **spec: Any) -> AnalysisRun:
    full = [{"provider": {"web": {"url": "http://127.0.0.1/"}}, **m} for m in metrics]
    return AnalysisRun.model_validate({"metadata": {"name": "r", "namespace": "ns"}, "spec": {"metrics": full, **spec}})


def measure(plan: Plan, phase: str, now: datetime, **fields: Any) -> dict[str, MeasurementOutcome]:
    return {
        task.metric.name: MeasurementOutcome(Measurement(phase=phase, started_at=format_time(now), **fields))
        for task in plan.tasks
    }


def step(run: AnalysisRun, now: datetime, phase: str = "Successful", **fields: Any) -> Step:
    """One reconcile: decide, measure every due metric with `phase`, complete; run updated."""
    plan = decide(run, now)
    result = complete(run, plan, measure(plan, phase, now, **fields), now=now)
    run.status = result.status
    return result


def names(plan: Plan) -> list[str]:
    return [task.metric.name for task in plan.tasks]


def test_single_measurement_without_count_or_interval() -> None:
    run = run_of({"name": "once", "successCondition": "result == 1"})
    assert names(decide(run, T0)) == ["once"]
    result = step(run, T0)
    status = result.status
    assert status.phase == "Successful"
    assert status.started_at == format_time(T0)
    assert status.completed_at == format_time(T0)
    metric_result = status.metric_results[0]  # type: ignore[index]
    assert (metric_result.phase, metric_result.count, metric_result.successful) == (
        "Successful",
        1,
        1,
    )
    assert metric_result.measurements[0].finished_at == format_time(T0)  # type: ignore[index]
    assert result.requeue_at is None
    assert [e.reason for e in result.events] == ["MetricSuccessful", "AnalysisRunSuccessful"]
    assert status.run_summary is not None and status.run_summary.successful == 1
    # a completed run plans nothing more
    assert decide(run, T0 + timedelta(hours=1)).completed


def test_interval_and_count() -> None:
    run = run_of({"name": "m", "interval": "30s", "count": 3})
    first = step(run, T0)
    assert first.status.phase == "Running"
    assert first.requeue_at == T0 + timedelta(seconds=30)
    assert decide(run, T0 + timedelta(seconds=29)).tasks == []
    # due strictly after the interval, like Argo's now.After(finishedAt + interval)
    assert decide(run, T0 + timedelta(seconds=30)).tasks == []
    t1 = T0 + timedelta(seconds=31)
    assert step(run, t1).status.phase == "Running"
    t2 = t1 + timedelta(seconds=31)
    final = step(run, t2)
    assert final.status.phase == "Successful"
    assert final.status.metric_results[0].count == 3  # type: ignore[index]
    assert final.requeue_at is None


def test_interval_only_runs_until_terminated() -> None:
    run = run_of({"name": "m", "interval": "10s"})
    now = T0
    for _ in range(15):
        assert step(run, now).status.phase == "Running"
        now += timedelta(seconds=11)
    result = run.status.metric_results[0]  # type: ignore[union-attr,index]
    assert result.count == 15
    assert len(result.measurements or []) == 10  # default measurementRetention
    run.spec.terminate = True
    plan = decide(run, now)
    assert plan.tasks == []
    done = complete(run, plan, {}, now=now)
    assert done.status.phase == "Successful"
    assert done.status.message == "Run Terminated"


def test_initial_delay() -> None:
    run = run_of({"name": "m", "initialDelay": "1m"})
    first = step(run, T0)
    assert names(decide(run, T0)) == []
    assert first.status.phase == "Running"
    assert first.status.started_at == format_time(T0)
    assert first.requeue_at == T0 + timedelta(minutes=1)
    assert names(decide(run, T0 + timedelta(seconds=59))) == []
    assert step(run, T0 + timedelta(minutes=1)).status.phase == "Successful"


def test_error_measurements_retry_after_ten_seconds_until_the_limit() -> None:
    run = run_of({"name": "m", "interval": "1m", "count": 2})
    now = T0
    for attempt in range(1, 6):
        result = step(run, now, "Error", message="connection refused")
        metric_result = result.status.metric_results[0]  # type: ignore[index]
        assert metric_result.consecutive_error == attempt
        if attempt < 5:
            assert result.status.phase == "Running"
            assert result.requeue_at == now + timedelta(seconds=10)
            now += timedelta(seconds=11)
    assert result.status.phase == "Error"
    assert result.status.message == (
        'Metric "m" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
        '"Error Message: connection refused"'
    )
    assert result.requeue_at is None


def test_errors_then_success_reset_the_streak() -> None:
    run = run_of({"name": "m", "interval": "1m", "count": 2, "consecutiveErrorLimit": 1})
    step(run, T0, "Error")
    step(run, T0 + timedelta(seconds=11), "Successful")
    status = step(run, T0 + timedelta(seconds=72), "Successful").status
    assert status.phase == "Successful"
    assert status.metric_results[0].error == 1  # type: ignore[index]


def test_fail_fast_stops_other_metrics() -> None:
    run = run_of(
        {"name": "bad", "successCondition": "false"},
        {"name": "forever", "interval": "10s"},
    )
    plan = decide(run, T0)
    outcomes = {
        "bad": MeasurementOutcome(Measurement(phase="Failed")),
        "forever": MeasurementOutcome(Measurement(phase="Successful")),
    }
    result = complete(run, plan, outcomes, now=T0)
    assert result.status.phase == "Failed"
    phases = {r.name: r.phase for r in result.status.metric_results or []}
    assert phases == {"bad": "Failed", "forever": "Successful"}
    assert result.requeue_at is None
    run.status = result.status
    assert decide(run, T0 + timedelta(minutes=5)).completed


def test_dry_run_failure_does_not_fail_the_run() -> None:
    run = run_of(
        {"name": "real"},
        {"name": "experimental-1"},
        dryRun=[{"metricName": "experimental-.*"}],
    )
    plan = decide(run, T0)
    assert plan.dry_run == {"experimental-1"}
    outcomes = {
        "real": MeasurementOutcome(Measurement(phase="Successful")),
        "experimental-1": MeasurementOutcome(Measurement(phase="Failed")),
    }
    status = complete(run, plan, outcomes, now=T0).status
    assert status.phase == "Successful"
    dry = next(r for r in status.metric_results or [] if r.name == "experimental-1")
    assert (dry.phase, dry.dry_run) == ("Failed", True)
    assert status.dry_run_summary is not None and status.dry_run_summary.failed == 1


def test_measurement_retention() -> None:
    run = run_of(
        {"name": "kept", "interval": "1s"},
        {"name": "other", "interval": "1s"},
        measurementRetention=[{"metricName": "kept", "limit": 3}],
    )
    now = T0
    trimmed: dict[str, int] = {}
    for _ in range(12):
        trimmed.update(step(run, now).trimmed)
        now += timedelta(seconds=2)
    lengths = {r.name: len(r.measurements or []) for r in run.status.metric_results or []}  # type: ignore[union-attr]
    assert lengths == {"kept": 3, "other": 10}
    assert trimmed == {"kept": 3, "other": 10}


def test_missing_argument_is_an_error_naming_it() -> None:
    run = run_of({"name": "m", "provider": WEB}, args=[{"name": "path"}, {"name": "other", "value": "x"}])
    plan = decide(run, T0)
    assert plan.error == 'Unable to resolve metric arguments: argument "path" was not supplied'
    result = complete(run, plan, {}, now=T0)
    assert result.status.phase == "Error"
    assert result.status.message == plan.error
    assert [e.reason for e in result.events] == ["AnalysisRunError"]


def test_unknown_argument_reference_is_an_error() -> None:
    run = run_of({"name": "m", "provider": WEB}, args=[{"name": "other", "value": "x"}])
    assert decide(run, T0).error == ("Unable to resolve metric arguments: failed to resolve {{args.path}}")


def test_arguments_are_substituted_secrets_hidden() -> None:
    run = run_of(
        {"name": "m", "provider": WEB},
        args=[{"name": "path", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
    )
    plan = decide(run, T0)
    assert plan.error is None
    assert plan.metrics[0].provider.web.url == "http://127.0.0.1/temp-for-secret"  # type: ignore[union-attr]
    # the task keeps the unresolved metric: the shell resolves it with the real secret
    assert plan.tasks[0].metric.provider.web.url.endswith("{{args.path}}")  # type: ignore[union-attr]


def test_secret_values_are_redacted_in_status() -> None:
    run = run_of({"name": "m"})
    plan = decide(run, T0)
    outcome = MeasurementOutcome(
        Measurement(phase="Error", message="GET http://x/?token=s3cr3t failed", value="s3cr3t")
    )
    status = complete(run, plan, {"m": outcome}, now=T0, secrets=["s3cr3t"]).status
    measurement = status.metric_results[0].measurements[0]  # type: ignore[index]
    assert measurement.message == "GET http://x/?token=***** failed"
    assert measurement.value == "*****"


def test_invalid_specs_are_errors() -> None:
    cases = [
        (run_of({"name": "m", "count": 3}), "interval must be specified when count > 1"),
        (run_of({"name": "a"}, {"name": "a"}), "duplicate name 'a'"),
        (run_of({"name": "m", "failureLimit": -2}), "failureLimit must be >= 0, or -1"),
        (run_of({"name": "m", "failureLimit": -1}), "cannot both be disabled"),
        (run_of({"name": "m", "interval": "soon"}), "invalid interval"),
        (run_of(dryRun=[{"metricName": "x"}]), "no metrics specified"),
        (
            run_of({"name": "m"}, dryRun=[{"metricName": "nomatch"}]),
            "dryRun[0]: Rule didn't match any metric name(s)",
        ),
        (
            run_of(
                {
                    "name": "m",
                    "provider": {"web": {"url": "x"}, "prometheus": {"query": "up"}},
                }
            ),
            "multiple providers specified",
        ),
        (
            run_of({"name": "m", "count": 2, "interval": "1s", "failureLimit": 3}),
            "count (2) must be >= failureLimit + consecutiveSuccessLimit",
        ),
    ]
    for run, message in cases:
        error = decide(run, T0).error
        assert error is not None and error.startswith("Analysis spec invalid: "), error
        assert message in error, error


def test_no_provider_is_invalid() -> None:
    run = AnalysisRun.model_validate({"spec": {"metrics": [{"name": "m"}]}})
    assert decide(run, T0).error == "Analysis spec invalid: metrics[0]: no provider specified"


def test_in_flight_measurement_resumes_at_resume_at() -> None:
    run = run_of({"name": "job"})
    resume_at = T0 + timedelta(seconds=5)
    plan = decide(run, T0)
    running = MeasurementOutcome(
        Measurement(phase="Running", started_at=format_time(T0), resume_at=format_time(resume_at)),
        metadata={"job-name": "abc"},
    )
    first = complete(run, plan, {"job": running}, now=T0)
    run.status = first.status
    assert first.status.phase == "Running"
    assert first.status.metric_results[0].metadata == {"job-name": "abc"}  # type: ignore[index]
    assert first.requeue_at == resume_at
    assert decide(run, T0 + timedelta(seconds=4)).tasks == []
    plan = decide(run, resume_at)
    assert plan.tasks[0].incomplete is not None and not plan.tasks[0].terminate
    done = complete(run, plan, {"job": MeasurementOutcome(Measurement(phase="Successful"))}, now=resume_at)
    measurements = done.status.metric_results[0].measurements  # type: ignore[index]
    assert [m.phase for m in measurements or []] == ["Successful"]
    assert done.status.phase == "Successful"


def test_terminate_stops_an_in_flight_measurement() -> None:
    run = run_of({"name": "job"})
    plan = decide(run, T0)
    resume = format_time(T0 + timedelta(minutes=5))
    running = MeasurementOutcome(Measurement(phase="Running", resume_at=resume))
    run.status = complete(run, plan, {"job": running}, now=T0).status
    run.spec.terminate = True
    plan = decide(run, T0 + timedelta(seconds=1))
    assert [t.terminate for t in plan.tasks] == [True]


def test_ttl_expiry() -> None:
    run = run_of({"name": "m"}, ttlStrategy={"secondsAfterSuccess": 60, "secondsAfterFailure": 5})
    assert ttl_expiry(run) is None
    step(run, T0)
    assert ttl_expiry(run) == T0 + timedelta(seconds=61)
    run.status.phase = "Failed"  # type: ignore[union-attr]
    assert ttl_expiry(run) == T0 + timedelta(seconds=6)
    run.spec.ttl_strategy = None
    assert ttl_expiry(run) is None
    completion = run_of({"name": "m"}, ttlStrategy={"secondsAfterCompletion": 10})
    step(completion, T0, "Error")  # Error measurement alone does not complete it
    assert ttl_expiry(completion) is None


def test_time_round_trip() -> None:
    assert parse_time(format_time(T0)) == T0
    assert parse_time(None) is None


def test_terminated_in_flight_measurement_is_marked_metric_terminated() -> None:
    run = run_of({"name": "job"})
    plan = decide(run, T0)
    resume = format_time(T0 + timedelta(minutes=5))
    run.status = complete(
        run, plan, {"job": MeasurementOutcome(Measurement(phase="Running", resume_at=resume))}, now=T0
    ).status
    run.spec.terminate = True
    later = T0 + timedelta(seconds=1)
    plan = decide(run, later)
    # the Job provider answers a termination with Inconclusive, as Argo's does
    result = complete(run, plan, {"job": MeasurementOutcome(Measurement(phase="Inconclusive"))}, now=later)
    measurement = result.status.metric_results[0].measurements[0]  # type: ignore[index]
    assert (measurement.phase, measurement.message) == ("Inconclusive", "Metric Terminated")
    assert measurement.finished_at == format_time(later)
    assert result.status.phase == "Inconclusive"
    assert result.status.message == (
        'Metric "job" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0): '
        '"Error Message: Metric Terminated"'
    )
