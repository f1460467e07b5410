"""Prometheus provider: an instant or range PromQL query over the HTTP API.

The query goes to `/api/v1/query` (or `/api/v1/query_range`) through one
bounded, asynchronous exchange (providers/http.py): the metric's `timeout`
is a deadline for the whole call and the answer is capped, so a slow or
hostile server costs one measurement slot for at most that long and no
thread outlives it. (prometheus-api-client, used before, is synchronous:
its time-out applied per socket read and its worker thread kept running
after a time-out.) The JSON result is turned into what conditions see, as
Argo does: a scalar is a number (`result >= 0.95`), a vector or a matrix (a
`rangeQuery`, whose start and end are time expressions such as
`now() - duration("5m")`) a list of numbers (`result[0]`,
`all(result, {# < 1})`), an empty vector `[]` (`len(result) == 0`). There
are no retries here: the run retries an Error measurement after 10s and
counts it against consecutiveErrorLimit, which is the behaviour users
configure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import orjson

from rollouts.analysis.expr import ExprError, evaluate_time
from rollouts.analysis.providers.base import Clock, MetricProvider, ProviderError, go_float, utc_now
from rollouts.analysis.providers.http import BodyTooLargeError, exchange
from rollouts.api.analysis import AnalysisRun, Measurement, Metric, PrometheusMetric
from rollouts.api.common import InvalidValueError, parse_duration

DEFAULT_TIMEOUT_SECONDS = 30
# How much of an error answer is quoted in the measurement message.
ERROR_BODY_CHARS = 512
Window = tuple[datetime, datetime, str] | None


class UnsupportedResultError(ValueError):
    """A Prometheus answer we cannot turn into a condition input."""


class QueryError(Exception):
    """Prometheus answered with an HTTP error status."""


class InvalidAnswerError(ValueError):
    """Prometheus answered 200 with something that is not its JSON envelope."""


def _sample(value: Any) -> float:
    # Prometheus sends sample values as strings ("0.5", "NaN", "+Inf").
    return float(value)


def convert_result(data: Any) -> tuple[Any, str]:
    """The `data.result` of a query as (condition input, value string for the status).

    prometheus-api-client returns only `data.result`: a scalar or string is a
    `[timestamp, "value"]` pair, a vector a list of `{"metric", "value"}`, a
    matrix a list of `{"metric", "values"}`.
    """
    if isinstance(data, list) and len(data) == 2 and not isinstance(data[0], dict):
        try:
            number = _sample(data[1])
        except (TypeError, ValueError) as err:
            raise UnsupportedResultError("Prometheus metric type not supported") from err
        return number, go_float(number)
    if not isinstance(data, list):
        raise UnsupportedResultError("Prometheus metric type not supported")
    samples: list[float] = []
    for series in data:
        if not isinstance(series, dict):
            raise UnsupportedResultError("Prometheus metric type not supported")
        if "value" in series:
            samples.append(_sample(series["value"][1]))
        else:
            samples.extend(_sample(pair[1]) for pair in series.get("values") or [])
    return samples, "[" + ",".join(go_float(s) for s in samples) + "]"


class PrometheusProvider(MetricProvider):
    kind = "prometheus"

    def __init__(self, *, default_address: str | None = None, clock: Clock = utc_now) -> None:
        super().__init__(clock=clock)
        self.default_address = default_address

    def _settings(self, metric: Metric) -> tuple[PrometheusMetric, str, int]:
        spec = metric.provider.prometheus
        if spec is None:
            raise ProviderError("metric has no prometheus provider")
        address = spec.address or self.default_address
        if not address:
            raise ProviderError("prometheus address is not set (metric or controller default)")
        timeout = DEFAULT_TIMEOUT_SECONDS if spec.timeout is None else spec.timeout
        if timeout < 0:
            raise ProviderError("prometheus timeout should not be negative")
        auth = spec.authentication
        if auth is not None and (auth.sigv4 or auth.oauth2):
            raise ProviderError("prometheus sigv4 and oauth2 authentication are not supported")
        return spec, address.rstrip("/"), timeout or DEFAULT_TIMEOUT_SECONDS

    def _range(self, spec: PrometheusMetric) -> tuple[datetime, datetime, str] | None:
        """Argo's rangeQuery: start and end are time expressions, step a duration."""
        query_range = spec.range_query
        if query_range is None:
            return None
        now = self.clock()
        bounds = []
        for name, source in (("start", query_range.start), ("end", query_range.end)):
            try:
                bounds.append(evaluate_time(source or "", now=now))
            except ExprError as err:
                raise ProviderError(f"failed to parse rangeQuery.{name} as time: {err}") from err
        try:
            step = parse_duration(query_range.step)
        except InvalidValueError as err:
            raise ProviderError(f"failed to parse rangeQuery.step as duration: {err}") from err
        if not step or step <= 0:
            raise ProviderError("failed to parse rangeQuery.step as duration: must be positive")
        return bounds[0], bounds[1], go_float(step)

    async def _query(self, spec: PrometheusMetric, address: str, timeout: int, window: Window) -> Any:
        """`data.result` of the query's answer."""
        headers = {h.key: h.value for h in spec.headers or []}
        basic = spec.authentication.basic_auth if spec.authentication else None
        auth = (basic.username or "", basic.password or "") if basic else None
        params = {"query": spec.query or "", "timeout": f"{timeout}s"}
        path = "/api/v1/query"
        if window is not None:
            start, end, step = window
            path = "/api/v1/query_range"
            params |= {"start": str(round(start.timestamp())), "end": str(round(end.timestamp())), "step": step}
        answer = await exchange(
            "GET",
            address + path,
            seconds=timeout,
            verify=not spec.insecure,
            headers=headers or None,
            params=params,
            auth=auth,
        )
        if answer.status != 200:
            raise QueryError(f"HTTP Status Code {answer.status} ({answer.body[:ERROR_BODY_CHARS]!r})")
        try:
            return orjson.loads(answer.body)["data"]["result"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as err:
            raise InvalidAnswerError(str(err) or type(err).__name__) from err

    async def run(self, run: AnalysisRun, metric: Metric) -> Measurement:
        measurement = self.started()
        try:
            spec, address, timeout = self._settings(metric)
            window = self._range(spec)
        except ProviderError as err:
            return self.error(measurement, str(err))
        try:
            data = await self._query(spec, address, timeout, window)
        except TimeoutError:
            return self.error(measurement, f"prometheus query timed out after {timeout}s")
        except QueryError as err:
            return self.error(measurement, f"prometheus query failed: {err}")
        except InvalidAnswerError as err:
            return self.error(measurement, f"prometheus returned invalid JSON: {err}")
        except BodyTooLargeError as err:
            return self.error(measurement, f"prometheus answer refused: {err}")
        except (httpx.HTTPError, ValueError) as err:
            return self.error(measurement, f"prometheus unreachable at {address}: {err or type(err).__name__}")
        try:
            result, value = convert_result(data)
        except (UnsupportedResultError, TypeError, ValueError, IndexError) as err:
            return self.error(measurement, str(err))
        return self.verdict(measurement, metric, result, value)

    def metadata(self, metric: Metric) -> dict[str, str] | None:
        spec = metric.provider.prometheus
        if spec is None or not spec.query:
            return None
        return {"ResolvedPrometheusQuery": spec.query}
