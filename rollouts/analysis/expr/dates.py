"""Builtins over time: now, duration, date (Prometheus rangeQuery start/end).

Go's time.Time / time.Duration become datetime / timedelta; `date` accepts a
Go reference-time layout, translated to strptime directives. The evaluator
answers now() itself from the caller's `$now` (see `nodes.Now`); the entry
here makes `now` a known function of the table (reading the wall clock).
Text longer than `MAX_TIME_TEXT_CHARS` is refused before parsing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.analysis.expr.budget import MAX_TIME_TEXT_CHARS
from rollouts.analysis.expr.errors import ExprError
from rollouts.analysis.expr.values import need_str
from rollouts.api.common import InvalidValueError, parse_duration

__all__ = ["DATE_FUNCTIONS"]


def _short_text(value: Any, name: str) -> str:
    text = need_str(value, name)
    if len(text) > MAX_TIME_TEXT_CHARS:
        raise ExprError(f"{name}(): {len(text)} characters is over the time text budget of {MAX_TIME_TEXT_CHARS}")
    return text


def _duration(value: Any) -> timedelta:
    text = _short_text(value, "duration")
    try:
        seconds = parse_duration(text)
    except InvalidValueError as err:
        raise ExprError(f"duration(): {err}") from err
    return timedelta(seconds=seconds or 0.0)


# Go reference-time layout elements -> strptime directives, longest first.
_GO_LAYOUT = [
    ("2006", "%Y"),
    ("January", "%B"),
    ("Monday", "%A"),
    ("Z07:00", "%z"),
    ("-07:00", "%z"),
    ("-0700", "%z"),
    ("Jan", "%b"),
    ("Mon", "%a"),
    ("MST", "%Z"),
    (".000000", ".%f"),
    (".000", ".%f"),
    ("01", "%m"),
    ("02", "%d"),
    ("15", "%H"),
    ("03", "%I"),
    ("04", "%M"),
    ("05", "%S"),
    ("PM", "%p"),
    ("06", "%y"),
]


def _go_layout_to_strptime(layout: str) -> str:
    out = []
    index = 0
    while index < len(layout):
        for go, py in _GO_LAYOUT:
            if layout.startswith(go, index):
                out.append(py)
                index += len(go)
                break
        else:
            out.append("%%" if layout[index] == "%" else layout[index])
            index += 1
    return "".join(out)


def _date(value: Any, *rest: Any) -> datetime:
    text = _short_text(value, "date")
    zone: Any = UTC
    if len(rest) == 2:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(need_str(rest[1], "date"))
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ExprError(f"date(): unknown time zone {rest[1]!r}") from err
    try:
        if rest:
            parsed = datetime.strptime(text, _go_layout_to_strptime(_short_text(rest[0], "date")))
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise ExprError(f"date(): cannot parse {text!r}: {err}") from err
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


DATE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "now": lambda: datetime.now(UTC),
    "duration": _duration,
    "date": _date,
}
