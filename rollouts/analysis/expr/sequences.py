"""Builtins over strings, arrays and maps: len, trim/split/join..., first/last/get, sort, uniq, JSON.

expr-lang's string and collection functions, with its nil-for-missing
reading (`first([])` and `get(m, "absent")` are nil, not errors). Those that
can make something much bigger than their arguments (repeat, join, replace,
split, concat) check the size budgets (`budget.py`) before building it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Hashable
from typing import Any

from rollouts.analysis.expr.budget import check_collection, check_string
from rollouts.analysis.expr.errors import ExprError
from rollouts.analysis.expr.values import fetch, is_number, items_of, need_str, to_int, type_name

__all__ = ["SEQUENCE_FUNCTIONS"]


def _len(value: Any) -> int:
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    raise ExprError(f"invalid argument for len (type {type_name(value)})")


def _first(value: Any) -> Any:
    items = items_of(value, "first")
    return items[0] if items else None


def _last(value: Any) -> Any:
    items = items_of(value, "last")
    return items[-1] if items else None


def _get(container: Any, key: Any) -> Any:
    try:
        return fetch(container, key, optional=True)
    except ExprError:
        return None


def _keys(value: Any) -> list[Any]:
    if not isinstance(value, dict):
        raise ExprError(f"keys() needs a map, got {type_name(value)}")
    return list(value)


def _values(value: Any) -> list[Any]:
    if not isinstance(value, dict):
        raise ExprError(f"values() needs a map, got {type_name(value)}")
    return list(value.values())


def _sort(value: Any, order: str = "asc") -> list[Any]:
    items = items_of(value, "sort")
    try:
        return sorted(items, reverse=order == "desc")
    except TypeError as err:
        raise ExprError(f"sort(): cannot compare elements: {err}") from err


def _flatten(value: Any) -> list[Any]:
    out: list[Any] = []
    for item in items_of(value, "flatten"):
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def _uniq_key(value: Any) -> Hashable | None:
    """A key equal for values `equal` calls equal, or None for values equal to nothing (NaN, and arrays holding it)."""
    if value is None or isinstance(value, bool | str):
        return (type(value).__name__, value)
    if is_number(value):
        return None if math.isnan(value) else ("number", value)
    if isinstance(value, list | tuple):
        keys = [_uniq_key(item) for item in value]
        return None if any(key is None for key in keys) else ("array", tuple(keys))
    if isinstance(value, dict):
        pairs = [(name, _uniq_key(item)) for name, item in value.items()]
        return None if any(key is None for _, key in pairs) else ("map", frozenset(pairs))
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value), value)


def _uniq(value: Any) -> list[Any]:
    """The distinct elements in first-seen order, by `equal`; linear time (keys, not pairwise comparisons)."""
    out: list[Any] = []
    seen: set[Hashable] = set()
    for item in items_of(value, "uniq"):
        key = _uniq_key(item)
        if key is None:
            out.append(item)
        elif key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _concat(*values: Any) -> list[Any]:
    parts = [items_of(value, "concat") for value in values]
    check_collection(sum(len(part) for part in parts), "concat()")
    out: list[Any] = []
    for part in parts:
        out.extend(part)
    return out


def _join(value: Any, sep: str = "") -> str:
    parts = [need_str(v, "join") for v in items_of(value, "join")]
    separator = need_str(sep, "join")
    check_string(sum(len(part) for part in parts) + len(separator) * max(len(parts) - 1, 0), "join()")
    return separator.join(parts)


def _repeat(value: Any, count: Any) -> str:
    text = need_str(value, "repeat")
    times = to_int(count, "repeat count")
    check_string(len(text) * max(times, 0), "repeat()")
    return text * times


def _replace(value: Any, old: Any, new: Any) -> str:
    text = need_str(value, "replace")
    old_text, new_text = need_str(old, "replace"), need_str(new, "replace")
    check_string(len(text) + text.count(old_text) * (len(new_text) - len(old_text)), "replace()")
    return text.replace(old_text, new_text)


def _split(value: Any, sep: Any) -> list[str]:
    text = need_str(value, "split")
    separator = need_str(sep, "split")
    if separator:
        check_collection(text.count(separator) + 1, "split()")
    return text.split(separator)


def _from_json(value: Any) -> Any:
    try:
        return json.loads(need_str(value, "fromJSON"))
    except json.JSONDecodeError as err:
        raise ExprError(f"fromJSON(): {err}") from err


SEQUENCE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": _len,
    # strings
    "trim": lambda s, cut=None: need_str(s, "trim").strip(cut),
    "trimPrefix": lambda s, p: need_str(s, "trimPrefix").removeprefix(p),
    "trimSuffix": lambda s, p: need_str(s, "trimSuffix").removesuffix(p),
    "upper": lambda s: need_str(s, "upper").upper(),
    "lower": lambda s: need_str(s, "lower").lower(),
    "split": _split,
    "replace": _replace,
    "repeat": _repeat,
    "indexOf": lambda s, sub: need_str(s, "indexOf").find(sub),
    "lastIndexOf": lambda s, sub: need_str(s, "lastIndexOf").rfind(sub),
    "hasPrefix": lambda s, p: need_str(s, "hasPrefix").startswith(p),
    "hasSuffix": lambda s, p: need_str(s, "hasSuffix").endswith(p),
    "join": _join,
    "toJSON": lambda v: json.dumps(v, indent=2),
    "fromJSON": _from_json,
    # collections
    "first": _first,
    "last": _last,
    "get": _get,
    "keys": _keys,
    "values": _values,
    "sort": _sort,
    "reverse": lambda v: list(reversed(items_of(v, "reverse"))),
    "flatten": _flatten,
    "uniq": _uniq,
    "concat": _concat,
}
