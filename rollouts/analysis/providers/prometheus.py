"""Prometheus provider: an instant PromQL query through prometheus-api-client.

prometheus-api-client is synchronous (requests), so each query runs in a
worker thread with its own timeout and never blocks the event loop. The JSON
result is turned into what conditions see, as Argo does: a scalar is a number
(`result >= 0.95`), a vector or a matrix (a `rangeQuery`, whose start and
end are time expressions such as `now() - duration("5m")`) a list of numbers (`result[0]`,
`all(result, {# < 1})`), an empty vector `[]` (`len(result) == 0`). The
client's own retries are off: the run retries an Error measurement after 10s
and counts it against consecutiveErrorLimit, which is the behaviour users
configure.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from prometheus_api_client.exceptions import PrometheusApiClientException
from prometheus_api_client.prometheus_connect import PrometheusConnect
from requests import RequestException
from requests.exceptions import JSONDecodeError
from urllib3.util.retry import Retry

from rollouts.analysis.expr import ExprError, evaluate_time
from rollouts.analysis.providers.base import Clock, MetricProvider, ProviderError, go_float, utc_now
from rollouts.api.analysis import AnalysisRun, Measurement, Metric, PrometheusMetric
from rollouts.api.common import InvalidValueError, parse_duration

DEFAULT_TIMEOUT_SECONDS = 30
Window = tuple[datetime, datetime, str] | None


class UnsupportedResultError(ValueError):
    """A Prometheus answer we cannot turn into a condition input."""


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

    def _query(self, spec: PrometheusMetric, address: str, timeout: int, window: Window) -> Any:
        headers = {h.key: h.value for h in spec.headers or []}
        basic = spec.authentication.basic_auth if spec.authentication else None
        auth = (basic.username or "", basic.password or "") if basic else None
        options: dict[str, Any] = {"headers": headers or None, "auth": auth}
        client = PrometheusConnect(
            url=address,
            disable_ssl=bool(spec.insecure),
            retry=Retry(total=0, connect=0, read=0, redirect=0, status=0),
            timeout=timeout,
            **options,
        )
        params = {"timeout": f"{timeout}s"}
        try:
            if window is not None:
                start, end, step = window
                return client.custom_query_range(
                    spec.query or "", start_time=start, end_time=end, step=step, params=params
                )
            return client.custom_query(spec.query or "", params=params)
        finally:
            client._session.close()

    async def run(self, run: AnalysisRun, metric: Metric) -> Measurement:
        measurement = self.started()
        try:
            spec, address, timeout = self._settings(metric)
            window = self._range(spec)
        except ProviderError as err:
            return self.error(measurement, str(err))
        try:
            data = await asyncio.wait_for(asyncio.to_thread(self._query, spec, address, timeout, window), timeout + 1)
        except TimeoutError:
            return self.error(measurement, f"prometheus query timed out after {timeout}s")
        except PrometheusApiClientException as err:
            return self.error(measurement, f"prometheus query failed: {err}")
        except (JSONDecodeError, KeyError) as err:
            return self.error(measurement, f"prometheus returned invalid JSON: {err}")
        except RequestException as err:
            return self.error(measurement, f"prometheus unreachable at {address}: {err}")
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
