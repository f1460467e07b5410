"""Fuzzing the AnalysisRun planner: no run the API server accepts may make a reconcile raise (issue #13).

Each example builds an AnalysisRun from a valid one with hostile values
written into its spec (counts and limits as huge, negative or odd
int-or-strings, durations of any length, regular expressions in dryRun and
measurementRetention, TTLs) and its status (malformed timestamps, counters of
any size, unknown phases). The model either refuses it with a message that
names a written field (the controller then marks the run Error), or
`decide()`, `complete()` with a measurement for every task, `ttl_expiry()` and
a second `decide()` on the result all return. Deterministic: derandomized,
no example database; ROLLOUTS_FUZZ_EXAMPLES sets the number of examples.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rollouts.analysis.plan import MeasurementOutcome, complete, decide, ttl_expiry
from rollouts.api.analysis import AnalysisRun, Measurement
from rollouts.api.errors import validation_message
from tests.unit.rollout.test_fuzz_decide import DURATIONS, INT_OR_STRING, INTS, SHALLOW_JSON, STRINGS, TIMES, put

EXAMPLES = int(os.environ.get("ROLLOUTS_FUZZ_EXAMPLES", "800"))
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
PHASES = st.sampled_from(["Pending", "Running", "Successful", "Failed", "Error", "Inconclusive", "", "Weird"])
REGEXES = st.sampled_from(["web", ".*", "(a+)+$", "(", "[", "(?P<x>", "\\", "w" * 5000, "(x*)*y", "^$"])

METRIC = ("spec", "metrics", 0)
RESULT = ("status", "metricResults", 0)
MEASUREMENT = (*RESULT, "measurements", 0)
FIELDS: list[tuple[tuple[Any, ...], st.SearchStrategy[Any]]] = [
    ((*METRIC, "name"), st.one_of(STRINGS, st.just("a" * 40 + "!"))),
    ((*METRIC, "count"), INT_OR_STRING),
    ((*METRIC, "failureLimit"), INT_OR_STRING),
    ((*METRIC, "inconclusiveLimit"), INT_OR_STRING),
    ((*METRIC, "consecutiveErrorLimit"), INT_OR_STRING),
    ((*METRIC, "consecutiveSuccessLimit"), INT_OR_STRING),
    ((*METRIC, "interval"), DURATIONS),
    ((*METRIC, "initialDelay"), DURATIONS),
    ((*METRIC, "successCondition"), STRINGS),
    ((*METRIC, "provider", "web", "timeoutSeconds"), INTS),
    ((*METRIC, "provider", "prometheus", "timeout"), INTS),
    (("spec", "dryRun", 0, "metricName"), REGEXES),
    (("spec", "measurementRetention", 0, "metricName"), REGEXES),
    (("spec", "measurementRetention", 0, "limit"), INTS),
    (("spec", "ttlStrategy", "secondsAfterCompletion"), INTS),
    (("spec", "ttlStrategy", "secondsAfterSuccess"), INTS),
    (("spec", "terminate"), st.booleans()),
    (("spec", "args", 0, "value"), STRINGS),
    (("status", "phase"), PHASES),
    (("status", "startedAt"), TIMES),
    (("status", "completedAt"), TIMES),
    ((*RESULT, "name"), st.sampled_from(["web", "other"])),
    ((*RESULT, "phase"), PHASES),
    ((*RESULT, "count"), INTS),
    ((*RESULT, "failed"), INTS),
    ((*RESULT, "error"), INTS),
    ((*RESULT, "consecutiveError"), INTS),
    ((*RESULT, "consecutiveSuccess"), INTS),
    ((*MEASUREMENT, "phase"), PHASES),
    ((*MEASUREMENT, "startedAt"), TIMES),
    ((*MEASUREMENT, "finishedAt"), TIMES),
    ((*MEASUREMENT, "resumeAt"), TIMES),
    (("status", "runSummary", "count"), INTS),
    (("status", "unknown"), SHALLOW_JSON),
]


def base_run() -> dict[str, Any]:
    return {
        "metadata": {"name": "run", "namespace": "ns"},
        "spec": {
            "args": [{"name": "path", "value": "x"}],
            "metrics": [
                {
                    "name": "web",
                    "interval": "10s",
                    "count": 3,
                    "successCondition": "result == 1",
                    "provider": {"web": {"url": "http://127.0.0.1/{{args.path}}"}},
                }
            ],
        },
        "status": {
            "phase": "Running",
            "startedAt": "2026-01-01T11:59:00Z",
            "metricResults": [
                {
                    "name": "web",
                    "phase": "Running",
                    "count": 1,
                    "successful": 1,
                    "measurements": [
                        {
                            "phase": "Successful",
                            "startedAt": "2026-01-01T11:59:00Z",
                            "finishedAt": "2026-01-01T11:59:00Z",
                            "value": "1",
                        }
                    ],
                }
            ],
        },
    }


WRITES = st.lists(
    st.sampled_from(FIELDS).flatmap(lambda field: field[1].map(lambda value: (field[0], value))),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(writes=WRITES, outcome=PHASES)
def test_planner_never_raises_on_hostile_runs(writes: list[tuple[tuple[Any, ...], Any]], outcome: str) -> None:
    raw = base_run()
    for path, value in writes:
        put(raw, path, value)
    try:
        run = AnalysisRun.from_dict(raw)
    except ValidationError as error:
        message = validation_message(error, raw)
        written = {str(key) for path, _ in writes for key in path if isinstance(key, str)}
        assert any(name in message for name in written), (message, writes)
        assert len(message) < 500
        return
    plan = decide(run, NOW)
    outcomes = {
        task.metric.name: MeasurementOutcome(Measurement(phase=outcome or "Successful", value="1"))
        for task in plan.tasks
    }
    step = complete(run, plan, outcomes, now=NOW)
    if plan.error is not None:
        assert len(plan.error) < 2000
    run.status = step.status
    ttl_expiry(run)
    decide(run, NOW)
