"""The one interface every measurement provider implements, and the helpers they share.

It mirrors Argo's metric provider interface (Run / Resume / Terminate /
GarbageCollect / GetMetadata) because the AnalysisRun state machine relies on
those moments: most providers answer in `run`; a Job answers later, through
`resume`, and must be stopped by `terminate` and cleaned by
`garbage_collect`. Providers never raise for a failed measurement: anything
that goes wrong (server down, timeout, bad JSON, bad condition) is a
measurement in phase Error with a message, counted against
consecutiveErrorLimit by the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from rollouts.analysis.verdict import evaluate_result
from rollouts.api.analysis import AnalysisRun, Measurement, Metric
from rollouts.api.constants import ANALYSIS_ERROR
from rollouts.api.timestamps import format_time

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ProviderError(Exception):
    """A provider that cannot be built for a metric (unsupported kind, bad settings)."""


class MetricProvider:
    """Base of the providers; subclasses implement `run` and override what they need."""

    kind: ClassVar[str] = ""

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self.clock = clock

    async def run(self, run: AnalysisRun, metric: Metric) -> Measurement:
        raise NotImplementedError

    async def resume(self, run: AnalysisRun, metric: Metric, measurement: Measurement) -> Measurement:
        """Continue an in-flight measurement; providers that answer at once never get here."""
        return measurement

    async def terminate(self, run: AnalysisRun, metric: Metric, measurement: Measurement) -> Measurement:
        """Stop an in-flight measurement because the run is terminating."""
        return measurement

    async def garbage_collect(self, run: AnalysisRun, metric: Metric, limit: int) -> None:
        """Remove what old measurements left behind, keeping the newest `limit`."""
        return None

    def metadata(self, metric: Metric) -> dict[str, str] | None:
        """Extra facts shown on the MetricResult (e.g. the resolved query)."""
        return None

    # ------------------------------------------------------------------ helpers

    def started(self) -> Measurement:
        return Measurement(phase="Running", started_at=format_time(self.clock()))

    def error(self, measurement: Measurement, message: str) -> Measurement:
        """Argo's MarkMeasurementError."""
        measurement.phase = ANALYSIS_ERROR
        measurement.message = message
        measurement.finished_at = format_time(self.clock())
        return measurement

    def verdict(self, measurement: Measurement, metric: Metric, result: Any, value: str) -> Measurement:
        """Finish `measurement` with the phase the metric's conditions give for `result`."""
        phase, message = evaluate_result(
            result,
            success_condition=metric.success_condition,
            failure_condition=metric.failure_condition,
        )
        if message is not None:
            return self.error(measurement, message)
        measurement.phase = phase
        measurement.value = value
        measurement.finished_at = format_time(self.clock())
        return measurement


def go_float(value: float) -> str:
    """A float as Go's strconv.FormatFloat(f, 'f', -1, 64) / Prometheus' SampleValue prints it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)).normalize(), "f")
    return "0" if text in ("-0", "0") else text
