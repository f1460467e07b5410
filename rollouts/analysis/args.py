"""Arguments of an analysis: `{{args.name}}` substitution, merging, and values from a Rollout.

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
from typing import Any

import orjson

from rollouts.api.analysis import Argument, Metric
from rollouts.api.constants import POD_TEMPLATE_HASH_LABEL
from rollouts.api.rollout import AnalysisRunArgument

SECRET_PLACEHOLDER = "temp-for-secret"
REDACTED = "*****"

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)


class ArgumentError(ValueError):
    """An argument that is missing, has no value, or a tag that names no argument."""


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


def redact(text: str | None, secrets: list[str]) -> str | None:
    """`text` with every secret value replaced by *****."""
    if text is None:
        return None
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def merge_args(incoming: list[Argument] | None, template: list[Argument] | None) -> list[Argument]:
    """Argo's MergeArgs: template args, with values given by the caller; all must be set."""
    merged = [arg.model_copy(deep=True) for arg in template or []]
    by_name = {arg.name: arg for arg in merged}
    for arg in incoming or []:
        target = by_name.get(arg.name)
        if target is None:
            continue
        if arg.value is not None:
            target.value = arg.value
        elif arg.value_from is not None:
            target.value_from = arg.value_from
    for arg in merged:
        if arg.value is None and arg.value_from is None:
            raise ArgumentError(f"args.{arg.name} was not resolved")
    return merged


# --------------------------------------------------------------------------- from a Rollout

_PATH_SPLIT = re.compile(r"[.\[\]]+")
_METADATA_MAP = re.compile(r"^metadata\.(labels|annotations)\['([^']*)'\]$")


def _field_value(obj: dict[str, Any], path: str) -> str:
    """A Rollout's field by path: `metadata.name`, `metadata.labels['app']`, `spec.replicas`."""
    match = _METADATA_MAP.match(path)
    if match:
        mapping = (obj.get("metadata") or {}).get(match.group(1)) or {}
        return str(mapping.get(match.group(2), ""))
    current: Any = obj
    for section in _PATH_SPLIT.split(path):
        if not section:
            continue
        if isinstance(current, list):
            if not section.isdigit():
                raise ArgumentError(f"invalid index '{section}'")
            index = int(section)
            if index >= len(current):
                raise ArgumentError(f"index {index} out of range")
            current = current[index]
        elif isinstance(current, dict):
            current = current.get(section)
        else:
            raise ArgumentError(f"invalid path {path} in rollout")
    if current is None:
        raise ArgumentError(f"invalid path {path} in rollout")
    if isinstance(current, list | dict):
        raise ArgumentError(f"path {path} in rollout must terminate in a primitive value")
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def rollout_arguments(
    args: list[AnalysisRunArgument] | None,
    *,
    rollout: dict[str, Any],
    stable_labels: dict[str, str] | None,
    latest_labels: dict[str, str] | None,
) -> list[Argument]:
    """Argo's BuildArgumentsForRolloutAnalysisRun: a Rollout's analysis args as run args.

    `podTemplateHashValue: Stable|Latest` reads the pod-template-hash label of
    the stable / newest ReplicaSet; `fieldRef.fieldPath` reads the Rollout.
    """
    out: list[Argument] = []
    for arg in args or []:
        value = arg.value
        source = arg.value_from
        if source is not None:
            if source.pod_template_hash_value is not None:
                labels = stable_labels if source.pod_template_hash_value == "Stable" else latest_labels
                value = (labels or {}).get(POD_TEMPLATE_HASH_LABEL, "")
            elif source.field_ref is not None:
                value = _field_value(rollout, source.field_ref.field_path)
        out.append(Argument(name=arg.name, value=value if value is not None else ""))
    return out
