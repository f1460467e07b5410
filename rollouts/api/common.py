"""Shared building blocks of the API models: the base model, IntOrString, durations, metadata.

Conventions every model follows (the rest of the code relies on them):

* Every model keeps fields it does not know (`extra="allow"`), so a
  read-modify-write of an object written by a newer Argo Rollouts loses nothing.
* Fields use Argo's camelCase JSON names as aliases; Python names work too.
* Optional fields default to None and `to_dict()` leaves None out, so a
  manifest round-trips without gaining fields the user never wrote.
* Argo's defaults are never stored in the model: they are applied by accessor
  methods, one place per default, e.g. `RolloutSpec.effective_replicas()` (1),
  `effective_revision_history_limit()` (10), `effective_progress_deadline_seconds()`
  (600), `effective_successful/unsuccessful_run_history_limit()` (5),
  `scale_down_delay_seconds()` / `abort_scale_down_delay_seconds()`,
  `CanaryStrategy.effective_max_surge()` / `effective_max_unavailable()` ("25%"),
  `BlueGreenStrategy.effective_auto_promotion_enabled()` (True),
  `Metric.effective_consecutive_error_limit()` (4),
  `ExperimentSpec.effective_progress_deadline_seconds()` / `effective_scale_down_delay_seconds()`,
  `RolloutPause.duration_seconds()`.
* Timestamps stay RFC 3339 strings, exactly as the API server sends them.
* IntOrString values resolve with `scaled_value` (Argo's reading: any string is
  a percentage) and durations with `parse_duration` (Go syntax or seconds).
"""

from __future__ import annotations

import re
from typing import Any, Self

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from rollouts.api.numbers import INT32_MAX, INT32_MIN, Int32, Int64, parse_int64

IntOrString = Int32 | str
"""Kubernetes' intstr.IntOrString: its int is an int32, so a larger one is a validation error naming the field."""


class K8sModel(BaseModel):
    """Base of every API model: camelCase aliases, unknown fields kept."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        alias_generator=to_camel,
        validate_assignment=False,
        protected_namespaces=(),
    )

    def to_dict(self) -> dict[str, Any]:
        """The object as the API server takes it: aliases, no None fields."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls.model_validate(data)


class OwnerReference(K8sModel):
    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None


class ObjectMeta(K8sModel):
    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: Int64 | None = None
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    owner_references: list[OwnerReference] | None = None
    finalizers: list[str] | None = None


class LabelSelectorRequirement(K8sModel):
    key: str
    operator: str
    values: list[str] | None = None


class LabelSelector(K8sModel):
    match_labels: dict[str, str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


# --------------------------------------------------------------------------- IntOrString

_PERCENT = re.compile(r"^\s*(\d+)\s*%\s*$")
_GO_ATOI = re.compile(r"^[+-]?[0-9]+$")
_SHOWN = 40


def shown(value: Any) -> str:
    """A user's value in an error message, cut short: a message must not carry a 5000-character value."""
    if isinstance(value, str):
        return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**_SHOWN:
        return f"an integer of {len(str(abs(value))) if abs(value) < 10**4000 else 'thousands of'} digits"
    if isinstance(value, dict | list):
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


class InvalidValueError(ValueError):
    """A value that does not parse (bad percentage, bad duration)."""


def scaled_value(value: IntOrString | None, total: int, *, round_up: bool, default: IntOrString = 0) -> int:
    """Argo's reading of an IntOrString against a total (maxSurge, maxUnavailable, ...).

    An int is taken as is. Argo resolves these with apimachinery's
    `GetValueFromIntOrPercent`, which treats EVERY string as a percentage after
    removing its "%" signs: "25%" and "25" both mean 25% of total. Percentages
    round up (maxSurge) or down (maxUnavailable) as `round_up` says.
    """
    if value is None:
        value = default
    if isinstance(value, bool):
        raise InvalidValueError(f"invalid int or percentage: {value!r}")
    if isinstance(value, int):
        if not INT32_MIN <= value <= INT32_MAX:
            raise InvalidValueError(f"{shown(value)} is out of range for an int-or-string (int32)")
        return value
    digits = value.replace("%", "")
    percent = parse_int64(digits) if _GO_ATOI.match(digits) else None
    if percent is None:
        raise InvalidValueError(f"invalid int or percentage: {shown(value)}")
    # Exact integer arithmetic: a float product overflows (or loses digits) for large values.
    scaled = percent * total
    return -(-scaled // 100) if round_up else scaled // 100


def is_percent(value: IntOrString | None) -> bool:
    return isinstance(value, str) and bool(_PERCENT.match(value))


# --------------------------------------------------------------------------- durations

MAX_DURATION_SECONDS = (2**63 - 1) / 1e9
"""The longest Go time.Duration, in seconds."""
MAX_DURATION_LENGTH = 256
"""Far longer than any duration a person writes ("1h30m", "0.5s"); parsing stays cheap below it."""
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(value: IntOrString | float | None) -> float | None:
    """Seconds from a Go duration ("30s", "1m30s", "500ms", "1h") or a number of seconds.

    Argo takes plain integers (and numeric strings) as seconds where a field is
    an IntOrString duration, e.g. `pause: {duration: 30}`.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidValueError("invalid duration: a boolean")
    if isinstance(value, int | float):
        if not -MAX_DURATION_SECONDS <= value <= MAX_DURATION_SECONDS:
            raise InvalidValueError(f"invalid duration: {shown(value)} seconds is out of range")
        return float(value)
    text = value.strip()
    if not text:
        raise InvalidValueError("invalid duration: empty string")
    if re.fullmatch(r"[0-9]+", text):
        whole = parse_int64(text)
        if whole is None or whole > MAX_DURATION_SECONDS:
            raise InvalidValueError(f"invalid duration: {shown(value)} seconds is out of range")
        return float(whole)
    sign = 1.0
    if text[0] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if len(text) > MAX_DURATION_LENGTH:
        raise InvalidValueError(f"invalid duration: longer than {MAX_DURATION_LENGTH} characters: {shown(value)}")
    position = 0
    total = 0.0
    # One anchored match after another (finditer would search ahead from every position: quadratic).
    while (match := _DURATION_PART.match(text, position)) is not None:
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
        if total > MAX_DURATION_SECONDS:
            # Go's ParseDuration refuses what does not fit in an int64 of nanoseconds (about 292 years).
            raise InvalidValueError(f"invalid duration: {shown(value)} is out of range")
    if position != len(text) or position == 0:
        raise InvalidValueError(f"invalid duration: {shown(value)} (expected e.g. 30s, 1m30s, 1h)")
    return sign * total


def format_duration(seconds: float) -> str:
    """Go's time.Duration.String() for whole seconds (used in messages)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
