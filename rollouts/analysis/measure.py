"""Taking the measurements a plan asks for: secrets, providers, concurrency, clean-up.

This is the I/O between `plan.decide` and `plan.complete`, kept here so the
AnalysisRun controller shell is only "read run -> reconcile_measurements ->
write status". Every tenant is hostile to every other, so this is also where
a measurement is contained:

- Secrets named by `secretKeyRef` arguments are read for this reconcile only
  and never stored: the status keeps the reference, and every string written
  from a measurement (value, message, metadata such as the resolved query,
  the run's message, events and logs) goes through one `Redactor`, which
  knows the secret's URL-encoded, escaped and base64 forms too. Strings are
  then capped (MAX_TEXT_CHARS) so no answer can bloat the object.
- Each provider call runs under one deadline (the provider's own) and holds a
  slot: a global bound on measurements in flight, and a smaller one per
  namespace. A measurement whose namespace has no free slot is not waited
  for (which would hold a work-queue worker for another tenant's time): it is
  skipped and the run requeued shortly.
- A provider that cannot be built or that raises unexpectedly is an Error
  measurement for that metric alone.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rollouts.analysis.args import ArgumentError, argument_values, resolve_metric
from rollouts.analysis.plan import (
    MeasurementOutcome,
    MetricTask,
    Plan,
    Step,
    complete,
    decide,
)
from rollouts.analysis.providers.base import MetricProvider, ProviderError
from rollouts.analysis.redaction import Redactor
from rollouts.api.analysis import AnalysisRun, AnalysisRunStatus, Measurement, Metric
from rollouts.api.constants import ANALYSIS_ERROR
from rollouts.api.timestamps import format_time
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import KubeError
from rollouts.kube.resources import SECRETS

log = logging.getLogger(__name__)

ProviderFactory = Callable[[Metric], MetricProvider]

# A value, message or metadata entry longer than this is cut: an etcd object
# holds 1.5 MiB and a run keeps up to 10 measurements of each metric.
MAX_TEXT_CHARS = 4096
TRUNCATED_MARKER = "... (truncated)"
DEFAULT_TOTAL_SLOTS = 32
DEFAULT_NAMESPACE_SLOTS = 4
# How soon a run whose measurement was deferred for want of a slot is looked at again.
DEFER_SECONDS = 1.0


def cap_text(text: str) -> str:
    """`text`, cut to MAX_TEXT_CHARS with a marker (idempotent)."""
    if len(text) <= MAX_TEXT_CHARS:
        return text
    return text[: MAX_TEXT_CHARS - len(TRUNCATED_MARKER)] + TRUNCATED_MARKER


def _clean(text: str | None, redactor: Redactor) -> str | None:
    return None if text is None else cap_text(redactor(text))


def _clean_mapping(values: dict[str, str] | None, redactor: Redactor) -> dict[str, str] | None:
    if values is None:
        return None
    return {cap_text(redactor(key)): cap_text(redactor(value)) for key, value in values.items()}


def sanitize_status(status: AnalysisRunStatus, redactor: Redactor) -> None:
    """Redact and cap, in place, every string of `status` that a measurement can fill."""
    status.message = _clean(status.message, redactor)
    for result in status.metric_results or []:
        result.message = _clean(result.message, redactor)
        result.metadata = _clean_mapping(result.metadata, redactor)
        for measurement in result.measurements or []:
            measurement.message = _clean(measurement.message, redactor)
            measurement.value = _clean(measurement.value, redactor)
            measurement.metadata = _clean_mapping(measurement.metadata, redactor)


@dataclass
class MeasurementSlots:
    """How many provider calls may be in flight: in all, and per namespace.

    The per-namespace bound is taken without waiting (`hold` yields False when
    the namespace is full) so that one tenant's backlog never parks the shared
    work-queue workers; the global bound is waited for, since every holder
    runs under a deadline.
    """

    total: int = DEFAULT_TOTAL_SLOTS
    per_namespace: int = DEFAULT_NAMESPACE_SLOTS
    in_flight: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.total < 1 or self.per_namespace < 1:
            raise ValueError("measurement slots must be at least 1")
        self._global = asyncio.Semaphore(self.total)

    @asynccontextmanager
    async def hold(self, namespace: str) -> AsyncIterator[bool]:
        if self.in_flight.get(namespace, 0) >= self.per_namespace:
            yield False
            return
        self.in_flight[namespace] = self.in_flight.get(namespace, 0) + 1
        try:
            async with self._global:
                yield True
        finally:
            left = self.in_flight[namespace] - 1
            if left:
                self.in_flight[namespace] = left
            else:
                del self.in_flight[namespace]


async def read_secret_arguments(kube: KubeClient, run: AnalysisRun) -> dict[str, str]:
    """Argument name -> secret value for every `valueFrom.secretKeyRef` argument of the run."""
    values: dict[str, str] = {}
    cache: dict[str, dict[str, str]] = {}
    namespace = run.metadata.namespace
    for arg in run.spec.args or []:
        ref = arg.value_from.secret_key_ref if arg.value_from else None
        if ref is None:
            continue
        if ref.name not in cache:
            try:
                secret = await kube.get(SECRETS, namespace, ref.name)
            except KubeError as err:
                raise ArgumentError(f"secret '{ref.name}' for args.{arg.name}: {err}") from err
            cache[ref.name] = secret.get("data") or {}
        encoded = cache[ref.name].get(ref.key)
        if encoded is None:
            raise ArgumentError(f"key '{ref.key}' does not exist in secret '{ref.name}'")
        try:
            values[arg.name] = base64.b64decode(encoded).decode()
        except (binascii.Error, UnicodeDecodeError) as err:
            raise ArgumentError(f"secret '{ref.name}' key '{ref.key}' is not text") from err
    return values


@dataclass
class Reconciled:
    step: Step
    plan: Plan


async def _one(
    run: AnalysisRun,
    task: MetricTask,
    *,
    values: dict[str, str],
    provider_for: ProviderFactory,
    now: datetime,
    slots: MeasurementSlots,
    redactor: Redactor,
) -> MeasurementOutcome | None:
    """The outcome of one task, or None when its namespace has no free slot (deferred)."""

    def failed(message: str) -> MeasurementOutcome:
        base = task.incomplete.model_copy() if task.incomplete else Measurement(phase="Error")
        base.phase = ANALYSIS_ERROR
        base.message = message
        base.started_at = base.started_at or format_time(now)
        base.finished_at = format_time(now)
        return MeasurementOutcome(base)

    try:
        metric = resolve_metric(task.metric, values)
        provider = provider_for(metric)
    except (ArgumentError, ProviderError) as err:
        return failed(str(err))
    async with slots.hold(run.metadata.namespace or "") as held:
        if not held:
            return None
        try:
            if task.incomplete is None:
                measurement = await provider.run(run, metric)
            elif task.terminate:
                measurement = await provider.terminate(run, metric, task.incomplete)
            else:
                measurement = await provider.resume(run, metric, task.incomplete)
        except Exception as err:  # one provider's bug must not stop the other metrics
            # No traceback: its frames' text can hold the resolved secret.
            message = redactor(f"{provider.kind} provider failed: {err}")
            log.error("metric %s of %s/%s: %s", metric.name, run.metadata.namespace, run.metadata.name, message)
            return failed(message)
    outcome = MeasurementOutcome(measurement.model_copy(), _clean_mapping(provider.metadata(metric), redactor))
    outcome.measurement.message = _clean(outcome.measurement.message, redactor)
    outcome.measurement.value = _clean(outcome.measurement.value, redactor)
    outcome.measurement.metadata = _clean_mapping(outcome.measurement.metadata, redactor)
    return outcome


async def reconcile_measurements(
    run: AnalysisRun,
    *,
    now: datetime,
    provider_for: ProviderFactory,
    kube: KubeClient | None = None,
    slots: MeasurementSlots | None = None,
) -> Reconciled:
    """Decide, measure every due metric concurrently, complete: the run's next status."""
    plan = decide(run, now)
    if plan.completed or plan.error is not None or not plan.tasks:
        return Reconciled(complete(run, plan, {}, now=now), plan)
    secret_values: dict[str, str] = {}
    try:
        if kube is not None:
            secret_values = await read_secret_arguments(kube, run)
        values = argument_values(run.spec.args, secret_values)
    except ArgumentError as err:
        plan = Plan(error=f"Unable to resolve metric arguments: {err}")
        return Reconciled(complete(run, plan, {}, now=now), plan)
    secrets = sorted(set(secret_values.values()))
    redactor = Redactor(secrets)
    slots = slots or MeasurementSlots()

    async with asyncio.TaskGroup() as group:
        tasks = {
            task.metric.name: group.create_task(
                _one(run, task, values=values, provider_for=provider_for, now=now, slots=slots, redactor=redactor)
            )
            for task in plan.tasks
        }
    outcomes: dict[str, MeasurementOutcome] = {}
    deferred = False
    for name, done in tasks.items():
        outcome = done.result()
        if outcome is None:
            deferred = True
        else:
            outcomes[name] = outcome
    step = complete(run, plan, outcomes, now=now, secrets=secrets)
    sanitize_status(step.status, redactor)
    for event in step.events:
        event.message = cap_text(redactor(event.message))
    if deferred:
        soon = now + timedelta(seconds=DEFER_SECONDS)
        step.requeue_at = soon if step.requeue_at is None else min(step.requeue_at, soon)

    for name, limit in step.trimmed.items():
        metric = next((m for m in plan.metrics if m.name == name), None)
        if metric is None:
            continue
        try:
            await provider_for(metric).garbage_collect(run, metric, limit)
        except (ProviderError, KubeError) as err:
            log.warning("garbage collection of metric %s failed: %s", name, redactor(str(err)))
    return Reconciled(step, plan)
