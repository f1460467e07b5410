"""A whole AnalysisRun reconciled step by step (fake clock) against a real loopback web server."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from rollouts.analysis.measure import (
    DEFER_SECONDS,
    MAX_TEXT_CHARS,
    TRUNCATED_MARKER,
    MeasurementSlots,
    cap_text,
    reconcile_measurements,
    sanitize_status,
)
from rollouts.analysis.providers.base import MetricProvider
from rollouts.analysis.providers.registry import new_provider
from rollouts.analysis.redaction import Redactor
from rollouts.api.analysis import AnalysisRun, AnalysisRunStatus, Measurement, Metric
from tests.unit.analysis.conftest import LocalServer, Reply

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(now: datetime) -> Callable[[Metric], MetricProvider]:
    """Providers on the same fake clock as the plan."""
    return lambda metric: new_provider(metric, clock=lambda: now)


def web_run(server: LocalServer, **metric: Any) -> AnalysisRun:
    return AnalysisRun.model_validate(
        {
            "metadata": {"name": "r", "namespace": "ns"},
            "spec": {
                "args": [{"name": "path", "value": "rate"}],
                "metrics": [
                    {
                        "name": "rate",
                        "provider": {"web": {"url": server.url("/m/{{args.path}}"), "jsonPath": "$.v"}},
                        **metric,
                    }
                ],
            },
        }
    )


async def test_run_reaches_successful_after_count_measurements(server: LocalServer) -> None:
    server.routes["/m/rate"] = Reply(body=json.dumps({"v": 0.99}))
    run = web_run(server, interval="10s", count=2, successCondition="result >= 0.95")
    first = await reconcile_measurements(run, now=T0, provider_for=at(T0))
    run.status = first.step.status
    assert run.status.phase == "Running"
    assert first.step.requeue_at == T0 + timedelta(seconds=10)
    later = T0 + timedelta(seconds=11)
    second = await reconcile_measurements(run, now=later, provider_for=at(later))
    status = second.step.status
    assert status.phase == "Successful"
    result = status.metric_results[0]  # type: ignore[index]
    assert [m.value for m in result.measurements or []] == ["0.99", "0.99"]
    assert server.requests[-1].path == "/m/rate"


async def test_server_errors_end_in_phase_error(server: LocalServer) -> None:
    server.routes["/m/rate"] = Reply(status=500, body="down")
    run = web_run(server, interval="10s", consecutiveErrorLimit=1)
    now = T0
    for _ in range(2):
        reconciled = await reconcile_measurements(run, now=now, provider_for=at(now))
        run.status = reconciled.step.status
        now += timedelta(seconds=11)
    assert run.status.phase == "Error"
    assert run.status.message is not None and "non 2xx response code: 500" in run.status.message


class ExplodingProvider(MetricProvider):
    kind = "boom"

    async def run(self, run: AnalysisRun, metric: Metric) -> Measurement:
        raise RuntimeError("provider bug")


async def test_a_provider_crash_is_an_error_measurement(server: LocalServer) -> None:
    run = web_run(server)
    reconciled = await reconcile_measurements(run, now=T0, provider_for=lambda metric: ExplodingProvider())
    measurement = reconciled.step.status.metric_results[0].measurements[0]  # type: ignore[index]
    assert measurement.phase == "Error"
    assert measurement.message == "boom provider failed: provider bug"


async def test_missing_argument_value_is_phase_error(server: LocalServer) -> None:
    run = web_run(server)
    run.spec.args = []
    reconciled = await reconcile_measurements(run, now=T0, provider_for=at(T0))
    assert reconciled.step.status.phase == "Error"
    assert reconciled.step.status.message == ("Unable to resolve metric arguments: failed to resolve {{args.path}}")


async def test_unsupported_provider_is_an_error_measurement() -> None:
    run = AnalysisRun.model_validate({"spec": {"metrics": [{"name": "dd", "provider": {"datadog": {"query": "q"}}}]}})
    reconciled = await reconcile_measurements(run, now=T0, provider_for=at(T0))
    measurement = reconciled.step.status.metric_results[0].measurements[0]  # type: ignore[index]
    assert (measurement.phase, measurement.message) == (
        "Error",
        "metric provider datadog is not supported",
    )


# --------------------------------------------------------------------------- secrets in any encoding

SECRET = 'pa ss/wörd+"<x>&=?'


def secret_encodings(secret: str) -> dict[str, str]:
    """Every form a secret can take in a message we write (the tests search for each)."""
    data = secret.encode()
    forms = {
        "raw": secret,
        "quote": quote(secret),
        "quote-safe-none": quote(secret, safe=""),
        "quote-lower-hex": quote(secret, safe="").lower(),
        "quote_plus": quote_plus(secret),
        "json": json.dumps(secret)[1:-1],
        "json-unicode": json.dumps(secret, ensure_ascii=False)[1:-1],
        "repr-bytes": repr(data)[2:-1],
        "b64": base64.b64encode(data).decode(),
        "b64-unpadded": base64.b64encode(data).decode().rstrip("="),
        "b64-urlsafe": base64.urlsafe_b64encode(data).decode(),
        "b64-urlsafe-unpadded": base64.urlsafe_b64encode(data).decode().rstrip("="),
    }
    for user in ("u", "us", "usr"):  # a Basic Authorization header at each byte offset
        forms[f"basic-{user}"] = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return forms


def leaks(text: str, secret: str) -> list[str]:
    """The encodings of `secret` whose secret-determined part still shows in `text`."""
    found = []
    for name, encoded in secret_encodings(secret).items():
        form = encoded
        if name.startswith("basic-"):
            # Only the characters that the secret alone determines: drop the user's
            # group and the last (padding-dependent) group.
            offset = len(name) - len("basic-") + 1
            form = form[4 * ((offset + 2) // 3) : -4]
        if form and form in text:
            found.append(name)
    return found


@pytest.mark.parametrize("name", sorted(secret_encodings(SECRET)))
def test_redactor_removes_every_encoding(name: str) -> None:
    form = secret_encodings(SECRET)[name]
    text = Redactor([SECRET])(f"GET /x?token={form} failed: {form}")
    assert leaks(text, SECRET) == [], text
    assert text.startswith("GET /x?token=")


def test_redaction_is_idempotent_and_leaves_other_text() -> None:
    redactor = Redactor(["*", "abc"])
    once = redactor("a*b abc YWJj plain")
    assert once == redactor(once)
    assert "plain" in once and "abc" not in once
    assert Redactor([])("nothing to hide") == "nothing to hide"


def test_sanitize_status_redacts_and_caps_every_written_string() -> None:
    long = "v" * (MAX_TEXT_CHARS * 2)
    status = AnalysisRunStatus.model_validate(
        {
            "phase": "Error",
            "message": f"failed: {quote_plus(SECRET)}",
            "metricResults": [
                {
                    "name": "m",
                    "phase": "Error",
                    "message": json.dumps(SECRET),
                    "metadata": {"ResolvedPrometheusQuery": f"up{{token={SECRET!r}}}"},
                    "measurements": [
                        {
                            "phase": "Error",
                            "message": base64.b64encode(f"u:{SECRET}".encode()).decode(),
                            "value": long,
                            "metadata": {"job-name": quote(SECRET)},
                        }
                    ],
                }
            ],
        }
    )
    sanitize_status(status, Redactor([SECRET]))
    text = json.dumps(status.to_dict(), ensure_ascii=False)
    assert leaks(text, SECRET) == [], text
    value = status.metric_results[0].measurements[0].value  # type: ignore[index]
    assert value is not None and len(value) == MAX_TEXT_CHARS and value.endswith(TRUNCATED_MARKER)
    assert cap_text(value) == value


def test_leak_search_finds_every_unredacted_encoding() -> None:
    forms = secret_encodings(SECRET)
    assert sorted(leaks(" ".join(forms.values()), SECRET)) == sorted(forms)


# --------------------------------------------------------------------------- measurement slots


class GatedProvider(MetricProvider):
    """Answers only when the test opens the gate; says when a call has started."""

    kind = "gated"

    def __init__(self, entered: asyncio.Event, gate: asyncio.Event) -> None:
        super().__init__(clock=lambda: T0)
        self.entered, self.gate = entered, gate

    async def run(self, run: AnalysisRun, metric: Metric) -> Measurement:
        self.entered.set()
        await self.gate.wait()
        return self.verdict(self.started(), metric, 1, "1")


def plain_run(namespace: str, name: str) -> AnalysisRun:
    return AnalysisRun.model_validate(
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"metrics": [{"name": "m", "provider": {"web": {"url": "http://127.0.0.1:1/"}}}]},
        }
    )


async def test_a_namespace_cannot_take_every_measurement_slot() -> None:
    slots = MeasurementSlots(total=2, per_namespace=1)
    entered, gate = asyncio.Event(), asyncio.Event()
    gated: Callable[[Metric], MetricProvider] = lambda metric: GatedProvider(entered, gate)  # noqa: E731
    busy = asyncio.create_task(reconcile_measurements(plain_run("noisy", "a"), now=T0, provider_for=gated, slots=slots))
    await entered.wait()
    assert slots.in_flight == {"noisy": 1}

    # The same tenant's next run is deferred (not waited for) and requeued soon ...
    deferred = await reconcile_measurements(plain_run("noisy", "b"), now=T0, provider_for=gated, slots=slots)
    assert not deferred.step.status.metric_results
    assert deferred.step.requeue_at == T0 + timedelta(seconds=DEFER_SECONDS)

    # ... while another tenant is measured at once, the noisy one still holding its slot.
    opened = asyncio.Event()
    opened.set()
    other = await reconcile_measurements(
        plain_run("quiet", "c"), now=T0, provider_for=lambda metric: GatedProvider(asyncio.Event(), opened), slots=slots
    )
    assert other.step.status.metric_results[0].measurements[0].phase == "Successful"  # type: ignore[index]
    assert slots.in_flight == {"noisy": 1} and not busy.done()
    gate.set()
    first = await busy
    assert first.step.status.metric_results[0].measurements[0].phase == "Successful"  # type: ignore[index]
    assert slots.in_flight == {}


def test_slots_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MeasurementSlots(total=0)
