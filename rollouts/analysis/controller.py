"""The AnalysisRun controller shell: read a run, take the due measurements, write its status.

All the rules live in analysis/plan.py (pure) and analysis/measure.py (the
provider calls); this module wires them to the informer, the work queue and
the API: it writes the run's status (a 409 requeues instead of overwriting;
every string in it already redacted and capped by measure.py),
records Argo's events, exports analysis_run_* metrics, requeues at the
instant the next measurement is due, and deletes completed runs whose
ttlStrategy expired. The rollout controller never imports this module: the
two meet only through AnalysisRun objects in the cluster (DESIGN.md §2).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from rollouts import metrics
from rollouts.analysis.measure import MeasurementSlots, reconcile_measurements
from rollouts.analysis.plan import ttl_expiry
from rollouts.analysis.providers.registry import new_provider
from rollouts.api.analysis import AnalysisRun, Metric
from rollouts.api.constants import ANALYSIS_ERROR, INSTANCE_ID_LABEL
from rollouts.api.errors import validation_message
from rollouts.api.kinds import ANALYSIS_RUNS
from rollouts.api.nesting import nesting_error, too_deep
from rollouts.api.timestamps import format_time
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ConflictError, NotFoundError
from rollouts.kube.events import EventRecorder
from rollouts.kube.informer import Informer, Object, object_key

log = logging.getLogger(__name__)


class AnalysisRunController:
    name = "analysisruns"

    def __init__(
        self,
        client: KubeClient,
        *,
        namespace: str | None = None,
        instance_id: str | None = None,
        prometheus_address: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        slots: MeasurementSlots | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        # Shared by every run this controller measures: one tenant cannot take them all.
        self.slots = slots or MeasurementSlots()
        self.prometheus_address = prometheus_address
        selector = f"{INSTANCE_ID_LABEL}={instance_id}" if instance_id else f"!{INSTANCE_ID_LABEL}"
        self.runs = Informer(client, ANALYSIS_RUNS, namespace=namespace, label_selector=selector)
        self.informers = [self.runs]
        self.events = EventRecorder(client)

    def bind(self, enqueue: Callable[[str], None]) -> None:
        def on_run(event: str, obj: Object, old: Object | None) -> None:
            if event == "DELETED":
                meta = obj["metadata"]
                metrics.forget_analysis_run(meta.get("namespace", ""), meta["name"])
            else:
                enqueue(object_key(obj))

        self.runs.add_handler(on_run)

    def _provider(self, metric: Metric) -> Any:
        return new_provider(metric, kube=self.client, prometheus_address=self.prometheus_address)

    async def reconcile(self, key: str) -> float | None:
        namespace, name = key.split("/", 1)
        raw = self.runs.get(namespace, name)
        if raw is None or raw["metadata"].get("deletionTimestamp"):
            return None
        started = time.perf_counter()
        try:
            return await self._reconcile(raw)
        except Exception:
            metrics.ANALYSIS_RUN_RECONCILE_ERROR.labels(namespace, name).inc()
            raise
        finally:
            metrics.ANALYSIS_RUN_RECONCILE.labels(namespace, name).observe(time.perf_counter() - started)

    async def _reconcile(self, raw: Object) -> float | None:
        run, invalid = _decode_run(raw)
        if run is None:
            await self._mark_invalid(raw, invalid)
            return None
        namespace, name = run.metadata.namespace, run.metadata.name or ""
        now = self.clock()
        expiry = ttl_expiry(run)
        if expiry is not None:
            if now >= expiry:
                with contextlib.suppress(NotFoundError):
                    await self.client.delete(ANALYSIS_RUNS, namespace, name, uid=run.metadata.uid)
                return None
            return (expiry - now).total_seconds()
        reconciled = await reconcile_measurements(
            run, now=now, provider_for=self._provider, kube=self.client, slots=self.slots
        )
        step = reconciled.step
        new_status = step.status.to_dict()
        if new_status != (raw.get("status") or {}):
            body = {**raw, "status": new_status}
            try:
                updated = await self.client.replace(ANALYSIS_RUNS, namespace, name, body)
            except ConflictError:
                return 0.1
            except NotFoundError:
                return None
            self.runs.upsert_local(updated)
            raw = updated
        for event in step.events:
            await self.events.record(raw, reason=event.reason, message=event.message, type=event.type)
        metrics.record_analysis_run(raw)
        if step.requeue_at is not None:
            return max(0.0, (step.requeue_at - now).total_seconds())
        expiry = ttl_expiry(AnalysisRun.from_dict(raw))
        if expiry is not None:
            return max(0.0, (expiry - now).total_seconds())
        return None

    async def _mark_invalid(self, raw: Object, message: str) -> None:
        """A run we cannot read ends in phase Error naming the field, once: no retry loop, nothing measured."""
        current = raw.get("status")
        status: dict[str, Any] = current if isinstance(current, dict) else {}
        wanted = f"Analysis spec invalid: {message}"
        if status.get("phase") == ANALYSIS_ERROR and status.get("message") == wanted:
            return
        meta = raw["metadata"]
        stamp = format_time(self.clock())
        patch = {"status": {"phase": ANALYSIS_ERROR, "message": wanted, "startedAt": stamp, "completedAt": stamp}}
        # A merge patch of status alone: the spec may be too deep to send back whole.
        with contextlib.suppress(NotFoundError):
            await self.client.patch(ANALYSIS_RUNS, meta.get("namespace"), meta["name"], patch, patch_type="merge")
        await self.events.record(raw, reason=f"AnalysisRun{ANALYSIS_ERROR}", message=wanted, type="Warning")


def _decode_run(raw: Object) -> tuple[AnalysisRun | None, str]:
    """The run's model, or None and a one-line reason naming the field (too deep, or refused by the model)."""
    path = too_deep(raw.get("spec"))
    if path is not None:
        return None, nesting_error(("spec", *path))
    try:
        return AnalysisRun.from_dict(raw), ""
    except ValidationError as error:
        return None, validation_message(error, raw)
