"""Web and Prometheus providers against real HTTP servers on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from rollouts.analysis.providers.http import MAX_BODY_BYTES
from rollouts.analysis.providers.prometheus import PrometheusProvider, convert_result
from rollouts.analysis.providers.web import WebProvider, extract
from rollouts.api.analysis import AnalysisRun, Measurement, Metric
from tests.unit.analysis.conftest import LocalServer, Reply, free_port

RUN = AnalysisRun.model_validate({"metadata": {"name": "run", "namespace": "ns"}})


def web_metric(url: str, **fields: Any) -> Metric:
    conditions = {k: fields.pop(k) for k in ("successCondition", "failureCondition") if k in fields}
    return Metric.model_validate({"name": "web", **conditions, "provider": {"web": {"url": url, **fields}}})


# --------------------------------------------------------------------------- web


async def test_web_json_path_success(server: LocalServer) -> None:
    server.routes["/health"] = Reply(body=json.dumps({"data": {"ok": True, "rate": 0.99}}))
    metric = web_metric(
        server.url("/health"),
        jsonPath="{$.data}",
        successCondition="result.ok && result.rate >= 0.95",
    )
    measurement = await WebProvider().run(RUN, metric)
    assert measurement.phase == "Successful", measurement.message
    assert measurement.value == '{"ok":true,"rate":0.99}'
    assert measurement.started_at and measurement.finished_at


async def test_web_condition_failure(server: LocalServer) -> None:
    server.routes["/rate"] = Reply(body=json.dumps({"rate": 0.5}))
    metric = web_metric(server.url("/rate"), jsonPath="$.rate", successCondition="result >= 0.9")
    measurement = await WebProvider().run(RUN, metric)
    assert (measurement.phase, measurement.value) == ("Failed", "0.5")


async def test_web_non_2xx_is_error(server: LocalServer) -> None:
    server.routes["/broken"] = Reply(status=500, body="oops", content_type="text/plain")
    measurement = await WebProvider().run(RUN, web_metric(server.url("/broken")))
    assert measurement.phase == "Error"
    assert measurement.message == "received non 2xx response code: 500"


async def test_web_plain_text_is_a_string(server: LocalServer) -> None:
    server.routes["/text"] = Reply(body="I am OK", content_type="text/plain")
    metric = web_metric(server.url("/text"), successCondition="result == 'I am OK'")
    measurement = await WebProvider().run(RUN, metric)
    assert (measurement.phase, measurement.value) == ("Successful", "I am OK")


async def test_web_post_json_body_and_headers(server: LocalServer) -> None:
    server.routes["/post"] = Reply(body="[1, 2, 3]")
    metric = web_metric(
        server.url("/post"),
        method="POST",
        jsonBody={"query": "x"},
        headers=[{"key": "Authorization", "value": "Bearer s3cr3t"}],
        successCondition="len(result) == 3",
    )
    measurement = await WebProvider().run(RUN, metric)
    assert measurement.phase == "Successful", measurement.message
    recorded = server.requests[-1]
    assert recorded.method == "POST"
    assert json.loads(recorded.body) == {"query": "x"}
    assert recorded.headers["Authorization"] == "Bearer s3cr3t"
    assert recorded.headers["Content-Type"] == "application/json"


async def test_web_body_rules(server: LocalServer) -> None:
    url = server.url("/post")
    both = web_metric(url, method="POST", body="a", jsonBody={"b": 1})
    assert "both cannot exists" in ((await WebProvider().run(RUN, both)).message or "")
    get_with_body = web_metric(url, body="a")
    message = (await WebProvider().run(RUN, get_with_body)).message or ""
    assert "only be used with POST or PUT" in message
    put = web_metric(url, method="PUT", body="raw text")
    assert (await WebProvider().run(RUN, put)).phase == "Successful"
    assert server.requests[-1].body == b"raw text"


async def test_web_missing_json_path_is_error(server: LocalServer) -> None:
    server.routes["/obj"] = Reply(body=json.dumps({"a": 1}))
    measurement = await WebProvider().run(RUN, web_metric(server.url("/obj"), jsonPath="$.b"))
    assert measurement.phase == "Error"
    assert "produced no value" in (measurement.message or "")


async def test_web_timeout_is_error(server: LocalServer) -> None:
    server.routes["/slow"] = Reply(body="{}", delay=3)
    metric = web_metric(server.url("/slow"), timeoutSeconds=1)
    measurement = await WebProvider().run(RUN, metric)
    assert measurement.phase == "Error"
    assert "timed out" in (measurement.message or "")


async def test_web_connection_refused_is_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    measurement = await WebProvider().run(RUN, web_metric(url))
    assert measurement.phase == "Error"
    assert measurement.message


async def test_web_bad_condition_is_error(server: LocalServer) -> None:
    server.routes["/one"] = Reply(body="1")
    metric = web_metric(server.url("/one"), successCondition="result >")
    measurement = await WebProvider().run(RUN, metric)
    assert measurement.phase == "Error"
    assert "line 1, column 9" in (measurement.message or "")


def test_extract_json_path_forms() -> None:
    data = {"items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}]}
    assert extract(data, None) == (data, json.dumps(data, separators=(",", ":")))
    assert extract(data, "{$.items[1].v}")[0] == 2
    assert extract(data, "{.items[0].name}")[0] == "a"
    assert extract(data, "$.items[?(@.name == 'b')].v")[0] == 2
    with pytest.raises(ValueError, match="invalid jsonPath"):
        extract(data, "$.[[[")


# --------------------------------------------------------------------------- prometheus


def prom_metric(address: str | None, query: str = "up", **fields: Any) -> Metric:
    conditions = {k: fields.pop(k) for k in ("successCondition", "failureCondition") if k in fields}
    spec: dict[str, Any] = {"query": query, **fields}
    if address is not None:
        spec["address"] = address
    return Metric.model_validate({"name": "prom", **conditions, "provider": {"prometheus": spec}})


def prom_reply(result_type: str, result: Any) -> Reply:
    return Reply(body=json.dumps({"status": "success", "data": {"resultType": result_type, "result": result}}))


def test_convert_scalar_vector_matrix() -> None:
    assert convert_result([1700000000.1, "0.95"]) == (0.95, "0.95")
    vector = [
        {"metric": {"a": "1"}, "value": [1, "0.5"]},
        {"metric": {"a": "2"}, "value": [1, "1"]},
    ]
    assert convert_result(vector) == ([0.5, 1.0], "[0.5,1]")
    assert convert_result([]) == ([], "[]")
    matrix = [{"metric": {}, "values": [[1, "1"], [2, "2.5"]]}]
    assert convert_result(matrix) == ([1.0, 2.5], "[1,2.5]")
    nan, text = convert_result([1, "NaN"])
    assert math.isnan(nan) and text == "NaN"
    assert convert_result([1, "+Inf"]) == (math.inf, "+Inf")


async def test_prometheus_vector_query(server: LocalServer) -> None:
    server.routes["/api/v1/query"] = prom_reply(
        "vector", [{"metric": {"service": "web"}, "value": [1700000000, "0.97"]}]
    )
    metric = prom_metric(
        server.url(""),
        query='sum(rate(http_requests_total{code!~"5.."}[1m]))',
        successCondition="result[0] >= 0.95",
        headers=[{"key": "X-Scope-OrgID", "value": "tenant"}],
        authentication={"basicAuth": {"username": "u", "password": "p"}},
    )
    provider = PrometheusProvider()
    measurement = await provider.run(RUN, metric)
    assert (measurement.phase, measurement.value) == ("Successful", "[0.97]")
    recorded = server.requests[-1]
    query = parse_qs(urlparse(recorded.path).query)
    assert query["query"] == ['sum(rate(http_requests_total{code!~"5.."}[1m]))']
    assert recorded.headers["X-Scope-OrgID"] == "tenant"
    assert recorded.headers["Authorization"].startswith("Basic ")
    assert provider.metadata(metric) == {"ResolvedPrometheusQuery": 'sum(rate(http_requests_total{code!~"5.."}[1m]))'}


async def test_prometheus_scalar_and_empty_vector(server: LocalServer) -> None:
    server.routes["/api/v1/query"] = prom_reply("scalar", [1700000000, "0.2"])
    provider = PrometheusProvider(default_address=server.url(""))
    scalar = await provider.run(RUN, prom_metric(None, successCondition="result < 0.1"))
    assert (scalar.phase, scalar.value) == ("Failed", "0.2")
    server.routes["/api/v1/query"] = prom_reply("vector", [])
    empty = await provider.run(RUN, prom_metric(None, successCondition="len(result) == 0 || result[0] < 0.05"))
    assert (empty.phase, empty.value) == ("Successful", "[]")
    no_data = await provider.run(RUN, prom_metric(None, successCondition="result[0] >= 0.95"))
    assert no_data.phase == "Error"
    assert "metric result is nil or empty" in (no_data.message or "")


async def test_prometheus_range_query(server: LocalServer) -> None:
    server.routes["/api/v1/query_range"] = prom_reply(
        "matrix", [{"metric": {}, "values": [[1, "0.01"], [2, "0.02"], [3, "0.03"]]}]
    )
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    metric = prom_metric(
        server.url(""),
        successCondition="len(result) == 3 && max(result) < 0.05",
        rangeQuery={"start": 'now() - duration("10m")', "end": "now()", "step": "1m"},
    )
    measurement = await PrometheusProvider(clock=lambda: now).run(RUN, metric)
    assert (measurement.phase, measurement.value) == ("Successful", "[0.01,0.02,0.03]")
    params = parse_qs(urlparse(server.requests[-1].path).query)
    assert float(params["start"][0]) == (now - timedelta(minutes=10)).timestamp()
    assert float(params["end"][0]) == now.timestamp()
    assert params["step"] == ["60"]
    bad = prom_metric(server.url(""), rangeQuery={"start": "'x'", "end": "now()", "step": "1m"})
    error = await PrometheusProvider(clock=lambda: now).run(RUN, bad)
    assert error.phase == "Error"
    assert error.message == "failed to parse rangeQuery.start as time: expected time, but got string"


async def test_prometheus_http_error_is_error(server: LocalServer) -> None:
    server.routes["/api/v1/query"] = Reply(status=400, body=json.dumps({"status": "error", "error": "parse error"}))
    measurement = await PrometheusProvider().run(RUN, prom_metric(server.url("")))
    assert measurement.phase == "Error"
    assert "400" in (measurement.message or "")


async def test_prometheus_bad_json_is_error(server: LocalServer) -> None:
    server.routes["/api/v1/query"] = Reply(body="<html>not json</html>")
    measurement = await PrometheusProvider().run(RUN, prom_metric(server.url("")))
    assert measurement.phase == "Error"
    assert "invalid JSON" in (measurement.message or "")


async def test_prometheus_connection_refused_is_error() -> None:
    address = f"http://127.0.0.1:{free_port()}"
    measurement = await PrometheusProvider().run(RUN, prom_metric(address))
    assert measurement.phase == "Error"
    assert measurement.message and "unreachable" in measurement.message
    assert measurement.finished_at is not None


async def test_prometheus_settings_errors() -> None:
    provider = PrometheusProvider()
    no_address = await provider.run(RUN, prom_metric(None))
    assert no_address.phase == "Error" and "address is not set" in (no_address.message or "")
    negative = await provider.run(RUN, prom_metric("http://127.0.0.1:1", timeout=-1))
    assert "should not be negative" in (negative.message or "")


async def test_prometheus_timeout_is_error(server: LocalServer) -> None:
    server.routes["/api/v1/query"] = Reply(body="{}", delay=3)
    measurement = await PrometheusProvider().run(RUN, prom_metric(server.url(""), timeout=1))
    assert measurement.phase == "Error"
    assert measurement.message


# --------------------------------------------------------------------------- hostile servers

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """A loopback HTTP server written byte by byte, for answers http.server cannot give."""
    stop = asyncio.Event()

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            serving = asyncio.ensure_future(handler(reader, writer))
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
            serving.cancel()
            stopped.cancel()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        server.close()
        await server.wait_closed()


async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Headers at once, then a byte every 0.2s forever: each read is quick, the answer never ends."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    while True:
        writer.write(b"1\r\n \r\n")
        await writer.drain()
        await asyncio.sleep(0.2)


async def redirect_loop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Each hop answers quickly and redirects to itself."""
    await asyncio.sleep(0.2)
    writer.write(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()


def huge(declared: bool) -> Handler:
    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        size = 2 * MAX_BODY_BYTES
        length = f"Content-Length: {size}\r\n" if declared else "Connection: close\r\n"
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n{length}\r\n".encode())
        for _ in range(size // 65536):
            writer.write(b"x" * 65536)
            await writer.drain()

    return send


async def bounded(measure: Awaitable[Measurement]) -> Measurement:
    # Only a guard against a hang in a broken build; the assertions are on the outcome.
    return await asyncio.wait_for(measure, 60)


@pytest.mark.parametrize("handler", [drip, redirect_loop], ids=["drip", "redirect-loop"])
async def test_web_timeout_is_one_deadline_for_the_whole_exchange(handler: Handler) -> None:
    async with raw_server(handler) as url:
        measurement = await bounded(WebProvider().run(RUN, web_metric(url + "/", timeoutSeconds=1)))
    assert measurement.phase == "Error"
    assert "timed out after 1s" in (measurement.message or "")


@pytest.mark.parametrize("handler", [drip, redirect_loop], ids=["drip", "redirect-loop"])
async def test_prometheus_timeout_is_one_deadline_for_the_whole_exchange(handler: Handler) -> None:
    async with raw_server(handler) as url:
        measurement = await bounded(PrometheusProvider().run(RUN, prom_metric(url, timeout=1)))
    assert measurement.phase == "Error"
    assert measurement.message == "prometheus query timed out after 1s"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
async def test_web_body_is_capped(declared: bool) -> None:
    async with raw_server(huge(declared)) as url:
        measurement = await bounded(WebProvider().run(RUN, web_metric(url + "/")))
    assert measurement.phase == "Error"
    assert f"response body exceeds {MAX_BODY_BYTES} bytes" in (measurement.message or "")
    assert measurement.value is None


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
async def test_prometheus_body_is_capped(declared: bool) -> None:
    async with raw_server(huge(declared)) as url:
        measurement = await bounded(PrometheusProvider().run(RUN, prom_metric(url)))
    assert measurement.phase == "Error"
    assert f"response body exceeds {MAX_BODY_BYTES} bytes" in (measurement.message or "")


async def test_prometheus_error_answer_is_quoted_briefly(server: LocalServer) -> None:
    server.routes["/api/v1/query"] = Reply(status=500, body="e" * 100_000)
    measurement = await PrometheusProvider().run(RUN, prom_metric(server.url("")))
    assert measurement.phase == "Error"
    assert measurement.message is not None and "500" in measurement.message
    assert len(measurement.message) < 1000
