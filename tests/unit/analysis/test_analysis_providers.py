"""Web and Prometheus providers against real HTTP servers on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from rollouts.analysis.providers.prometheus import PrometheusProvider, convert_result
from rollouts.analysis.providers.web import WebProvider, extract
from rollouts.api.analysis import AnalysisRun, Metric
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
