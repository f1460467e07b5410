"""Builtins that take a predicate: all, any, none, one, filter, map, count, sum, find..., reduce.

Their second argument is a `{ ... }` closure (a `Predicate`) called once per
element; a predicate that must decide must give a bool, as in expr-lang.
map and filter refuse, before building anything, an input longer than the
collection budget (`budget.py`), since their result can be that long.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rollouts.analysis.expr.budget import check_collection
from rollouts.analysis.expr.errors import ExprError
from rollouts.analysis.expr.values import Predicate, arith, items_of, truth, type_name

__all__ = ["PREDICATE_FUNCTIONS"]


def _pred(fn: Predicate, element: Any, index: int, name: str) -> bool:
    value = fn(element, index)
    if not isinstance(value, bool):
        raise ExprError(f"predicate of {name}() must return a bool, got {type_name(value)}")
    return value


def _all(seq: Any, fn: Predicate) -> bool:
    return all(_pred(fn, e, i, "all") for i, e in enumerate(items_of(seq, "all")))


def _any(seq: Any, fn: Predicate) -> bool:
    return any(_pred(fn, e, i, "any") for i, e in enumerate(items_of(seq, "any")))


def _none(seq: Any, fn: Predicate) -> bool:
    return not any(_pred(fn, e, i, "none") for i, e in enumerate(items_of(seq, "none")))


def _one(seq: Any, fn: Predicate) -> bool:
    return sum(1 for i, e in enumerate(items_of(seq, "one")) if _pred(fn, e, i, "one")) == 1


def _filter(seq: Any, fn: Predicate) -> list[Any]:
    items = items_of(seq, "filter")
    check_collection(len(items), "filter()")
    return [e for i, e in enumerate(items) if _pred(fn, e, i, "filter")]


def _map(seq: Any, fn: Predicate) -> list[Any]:
    items = items_of(seq, "map")
    check_collection(len(items), "map()")
    return [fn(e, i) for i, e in enumerate(items)]


def _count(seq: Any, fn: Predicate | None = None) -> int:
    items = items_of(seq, "count")
    if fn is None:
        return sum(1 for e in items if truth(e, "count"))
    return sum(1 for i, e in enumerate(items) if _pred(fn, e, i, "count"))


def _sum(seq: Any, fn: Predicate | None = None) -> Any:
    items = items_of(seq, "sum")
    if fn is not None:
        items = [fn(e, i) for i, e in enumerate(items)]
    total: Any = 0
    for item in items:
        total = arith(total, item, op="+")
    return total


def _find(seq: Any, fn: Predicate) -> Any:
    for i, e in enumerate(items_of(seq, "find")):
        if _pred(fn, e, i, "find"):
            return e
    return None


def _find_index(seq: Any, fn: Predicate) -> int:
    for i, e in enumerate(items_of(seq, "findIndex")):
        if _pred(fn, e, i, "findIndex"):
            return i
    return -1


def _find_last(seq: Any, fn: Predicate) -> Any:
    items = items_of(seq, "findLast")
    for i in range(len(items) - 1, -1, -1):
        if _pred(fn, items[i], i, "findLast"):
            return items[i]
    return None


def _find_last_index(seq: Any, fn: Predicate) -> int:
    items = items_of(seq, "findLastIndex")
    for i in range(len(items) - 1, -1, -1):
        if _pred(fn, items[i], i, "findLastIndex"):
            return i
    return -1


def _reduce(seq: Any, fn: Predicate, *initial: Any) -> Any:
    items = items_of(seq, "reduce")
    if initial:
        acc, start = initial[0], 0
    elif items:
        acc, start = items[0], 1
    else:
        raise ExprError("reduce() of an empty array with no initial value")
    for i in range(start, len(items)):
        acc = fn(items[i], i, acc)
    return acc


PREDICATE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "all": _all,
    "any": _any,
    "none": _none,
    "one": _one,
    "filter": _filter,
    "map": _map,
    "count": _count,
    "sum": _sum,
    "find": _find,
    "findIndex": _find_index,
    "findLast": _find_last,
    "findLastIndex": _find_last_index,
    "reduce": _reduce,
}
