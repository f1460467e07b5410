"""Web provider: an HTTP call whose JSON answer (or a part of it) is the result.

Argo's web metric: `url`, `method` (GET default; a body only with POST/PUT),
`headers` (values may come from secret arguments, substituted before we get
the metric), `body` or `jsonBody`, `timeoutSeconds` (10 by default),
`insecure` and `jsonPath`. Argo writes jsonPath in the Kubernetes style,
`{$.data.ok}`; we accept that and plain `$.data.ok`, evaluated with
jsonpath-ng (its extended parser, so filters work too), and use the first
match, as Argo does. A non-2xx status is an Error measurement; a body that is
not JSON is evaluated as a string (`result == 'OK'`). `timeoutSeconds` is one
deadline for the whole call and the body is capped (providers/http.py).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx
from jsonpath_ng.ext.parser import parse as parse_jsonpath

from rollouts.analysis.providers.base import Clock, MetricProvider, utc_now
from rollouts.analysis.providers.http import BodyTooLargeError, exchange
from rollouts.api.analysis import AnalysisRun, Measurement, Metric

DEFAULT_TIMEOUT_SECONDS = 10
_BODY_METHODS = {"POST", "PUT"}


@functools.lru_cache(maxsize=256)
def _compiled_jsonpath(path: str) -> Any:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if not text:
        text = "$"
    if text.startswith("."):
        text = "$" + text
    return parse_jsonpath(text)


def extract(data: Any, json_path: str | None) -> tuple[Any, str]:
    """The first value `json_path` selects in `data`, and its JSON text."""
    try:
        expression = _compiled_jsonpath(json_path or "$")
    except Exception as err:  # jsonpath-ng raises plain Exception for some syntax errors
        raise ValueError(f"invalid jsonPath {json_path!r}: {err}") from err
    matches = expression.find(data)
    if not matches:
        raise ValueError("result of web metric produced no value")
    value = matches[0].value
    # Go's json.Marshal: compact, map keys sorted.
    return value, json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


class WebProvider(MetricProvider):
    kind = "web"

    def __init__(self, *, clock: Clock = utc_now) -> None:
        super().__init__(clock=clock)

    async def run(self, run: AnalysisRun, metric: Metric) -> Measurement:
        measurement = self.started()
        spec = metric.provider.web
        if spec is None:
            return self.error(measurement, "metric has no web provider")
        method = (spec.method or "GET").upper()
        if spec.body and spec.json_body is not None:
            return self.error(
                measurement,
                "use either Body or JSONBody; both cannot exists for WebMetric payload",
            )
        has_body = bool(spec.body) or spec.json_body is not None
        if has_body and method not in _BODY_METHODS:
            return self.error(
                measurement,
                "Body/JSONBody can only be used with POST or PUT WebMetric Method types",
            )
        if spec.authentication is not None and (spec.authentication.oauth2 or spec.authentication.sigv4):
            return self.error(measurement, "web metric oauth2/sigv4 authentication not supported")
        headers = {h.key: h.value for h in spec.headers or []}
        content: bytes | None = None
        if spec.body:
            content = spec.body.encode()
        elif spec.json_body is not None:
            content = json.dumps(spec.json_body).encode()
            headers["Content-Type"] = "application/json"
        timeout = spec.timeout_seconds if spec.timeout_seconds and spec.timeout_seconds > 0 else None
        seconds = timeout or DEFAULT_TIMEOUT_SECONDS
        try:
            answer = await exchange(
                method, spec.url, seconds=seconds, verify=not spec.insecure, headers=headers, content=content
            )
        except TimeoutError:
            return self.error(measurement, f"{method} {spec.url}: timed out after {seconds}s")
        except BodyTooLargeError as err:
            return self.error(measurement, f"{method} {spec.url}: {err}")
        except (httpx.HTTPError, ValueError) as err:
            return self.error(measurement, f"{method} {spec.url}: {err or type(err).__name__}")
        if not 200 <= answer.status < 300:
            return self.error(measurement, f"received non 2xx response code: {answer.status}")
        body = answer.text
        try:
            data = json.loads(body)
        except ValueError:
            return self.verdict(measurement, metric, body, body)
        try:
            result, value = extract(data, spec.json_path)
        except ValueError as err:
            return self.error(measurement, f"Could not find JSONPath in body: {err}")
        return self.verdict(measurement, metric, result, value)
