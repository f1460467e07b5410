"""Builtins over strings, arrays and maps: len, trim/split/join..., first/last/get, sort, uniq, JSON.

expr-lang's string and collection functions, with its nil-for-missing
reading (`first([])` and `get(m, "absent")` are nil, not errors).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rollouts.analysis.expr.errors import ExprError
from rollouts.analysis.expr.values import equal, fetch, items_of, need_str, to_int, type_name

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


def _uniq(value: Any) -> list[Any]:
    out: list[Any] = []
    for item in items_of(value, "uniq"):
        if not any(equal(item, seen) for seen in out):
            out.append(item)
    return out


def _concat(*values: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        out.extend(items_of(value, "concat"))
    return out


def _join(value: Any, sep: str = "") -> str:
    return need_str(sep, "join").join(need_str(v, "join") for v in items_of(value, "join"))


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
    "split": lambda s, sep: need_str(s, "split").split(sep),
    "replace": lambda s, old, new: need_str(s, "replace").replace(old, new),
    "repeat": lambda s, n: need_str(s, "repeat") * to_int(n, "repeat count"),
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
