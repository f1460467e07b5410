"""Arguments of an analysis: `{{args.name}}` substitution into metrics (redaction re-exported).

A metric refers to its arguments as `{{args.name}}` anywhere in its spec (the
query, a URL, a Job's command). Argo substitutes on the metric's JSON text,
escaping each value as a Go string literal so that quotes or newlines in a
value cannot break the JSON; we do the same, so a template behaves alike here.
Unknown `{{...}}` tags and arguments without a value are errors that name the
argument, which the run reports as phase Error.
"""

from __future__ import annotations

import json
import re

import orjson

from rollouts.analysis.redaction import REDACTED, redact
from rollouts.api.analysis import Argument, Metric
from rollouts.api.runs import ArgumentError, merge_args, rollout_arguments

__all__ = [
    "REDACTED",
    "ArgumentError",
    "argument_values",
    "merge_args",
    "redact",
    "resolve_metric",
    "rollout_arguments",
    "substitute",
]

SECRET_PLACEHOLDER = "temp-for-secret"

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)


def _go_quote_inner(value: str) -> str:
    # strconv.Quote without its surrounding quotes: a value safe inside a JSON string.
    return json.dumps(value, ensure_ascii=False)[1:-1]


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace every `{{args.x}}` (spaces allowed inside the braces) in `text`."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        tag = match.group(1).strip()
        if tag.startswith("args.") and tag[5:] in values:
            return values[tag[5:]]
        missing.append(match.group(1))
        return ""

    out = _TAG.sub(replace, text)
    if missing:
        raise ArgumentError(f"failed to resolve {{{{{missing[-1]}}}}}")
    return out


def argument_values(args: list[Argument] | None, secret_values: dict[str, str] | None = None) -> dict[str, str]:
    """Name -> value. Secret arguments take their value from `secret_values` (by
    argument name), fetched by the caller; without it they get a placeholder, which
    is enough to validate the metrics without reading any secret."""
    values: dict[str, str] = {}
    for arg in args or []:
        if arg.value_from is not None and arg.value_from.secret_key_ref is not None:
            if secret_values is None:
                values[arg.name] = SECRET_PLACEHOLDER
                continue
            if arg.name not in secret_values:
                ref = arg.value_from.secret_key_ref
                raise ArgumentError(f"key '{ref.key}' does not exist in secret '{ref.name}' (args.{arg.name})")
            values[arg.name] = secret_values[arg.name]
            continue
        if arg.value is None:
            raise ArgumentError(f'argument "{arg.name}" was not supplied')
        values[arg.name] = arg.value
    return values


def resolve_metric(metric: Metric, values: dict[str, str]) -> Metric:
    """The metric with `{{args.x}}` substituted everywhere in its spec."""
    text = orjson.dumps(metric.to_dict()).decode()
    if "{{" not in text:
        return metric
    quoted = {name: _go_quote_inner(value) for name, value in values.items()}
    resolved = substitute(text, quoted)
    try:
        return Metric.model_validate(orjson.loads(resolved))
    except (orjson.JSONDecodeError, ValueError) as err:
        raise ArgumentError(f"metric {metric.name!r} is invalid after substitution: {err}") from err
