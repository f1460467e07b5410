"""Taking the measurements a plan asks for: secrets, providers, concurrency, clean-up.

This is the I/O between `plan.decide` and `plan.complete`, kept here so the
AnalysisRun controller shell is only "read run -> reconcile_measurements ->
write status". Secrets named by `secretKeyRef` arguments are read for this
reconcile only and never stored: the status keeps the reference, and every
secret value is redacted from measurement messages and values. All due
metrics are measured concurrently (a TaskGroup), each with its own provider;
a provider that cannot be built or that raises unexpectedly is an Error
measurement for that metric alone.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

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
from rollouts.api.analysis import AnalysisRun, Measurement, Metric
from rollouts.api.constants import ANALYSIS_ERROR
from rollouts.api.timestamps import format_time
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import KubeError
from rollouts.kube.resources import SECRETS

log = logging.getLogger(__name__)

ProviderFactory = Callable[[Metric], MetricProvider]


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
) -> MeasurementOutcome:
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
    try:
        if task.incomplete is None:
            measurement = await provider.run(run, metric)
        elif task.terminate:
            measurement = await provider.terminate(run, metric, task.incomplete)
        else:
            measurement = await provider.resume(run, metric, task.incomplete)
    except Exception as err:  # one provider's bug must not stop the other metrics
        log.exception("provider %s failed on metric %s", provider.kind, metric.name)
        return failed(f"{provider.kind} provider failed: {err}")
    return MeasurementOutcome(measurement, provider.metadata(metric))


async def reconcile_measurements(
    run: AnalysisRun,
    *,
    now: datetime,
    provider_for: ProviderFactory,
    kube: KubeClient | None = None,
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

    outcomes: dict[str, MeasurementOutcome] = {}
    async with asyncio.TaskGroup() as group:
        tasks = {
            task.metric.name: group.create_task(_one(run, task, values=values, provider_for=provider_for, now=now))
            for task in plan.tasks
        }
    for name, done in tasks.items():
        outcomes[name] = done.result()
    secrets = sorted(set(secret_values.values()))
    step = complete(run, plan, outcomes, now=now, secrets=secrets)

    for name, limit in step.trimmed.items():
        metric = next((m for m in plan.metrics if m.name == name), None)
        if metric is None:
            continue
        try:
            await provider_for(metric).garbage_collect(run, metric, limit)
        except (ProviderError, KubeError) as err:
            log.warning("garbage collection of metric %s failed: %s", name, err)
    return Reconciled(step, plan)
