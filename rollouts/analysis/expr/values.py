"""Values of the condition language: Go / expr-lang semantics of the operators on Python values.

Conditions are written for Argo, which evaluates them with expr-lang, so the
operators must behave as in Go where users can see the difference: `int + int`
stays an int, `/` always gives a float, `%` needs ints and truncates toward
zero, `**` gives a float, division by zero gives ±Inf/NaN, `1 == 1.0` is true,
`true == 1` is false, NaN compares false, a missing map key reads as nil.
Both the evaluator (`nodes.py`) and the builtins use these rules, so they live
here, below both.

`matches` uses RE2 (google-re2), Go's regexp syntax with linear-time
matching, as Argo does; a pattern RE2 rejects (a backreference, a
lookaround) is an `ExprError`. RE2 is linear in the text but also in the
size of the compiled pattern once its DFA gives up (`x{1,1000}x{1,1000}z`
over a 1 MiB string took 38 s), so `match_cost` tells the evaluator what a
match may cost before it runs. Joining two strings or arrays with `+` checks
the size budgets (`budget.py`) before building the result.
"""

from __future__ import annotations

import abc
import functools
import math
from datetime import datetime, timedelta
from typing import Any

import re2  # type: ignore[import-untyped]

from rollouts.analysis.expr.budget import check_collection, check_string
from rollouts.analysis.expr.errors import ExprError

__all__ = [
    "Predicate",
    "arith",
    "equal",
    "fetch",
    "is_in",
    "is_int",
    "is_number",
    "items_of",
    "less",
    "match_cost",
    "need_str",
    "string_op",
    "to_int",
    "truth",
    "type_name",
]


class Predicate(abc.ABC):
    """A `{ ... }` argument of all/any/filter/...: called with each element, its index and an accumulator."""

    __slots__ = ()

    @abc.abstractmethod
    def __call__(self, element: Any, index: int, acc: Any = None) -> Any:
        """The predicate's body evaluated with `#` = element, `#index` = index, `#acc` = acc."""


def type_name(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, Predicate):
        return "predicate"
    if isinstance(value, datetime):
        return "time"
    if isinstance(value, timedelta):
        return "duration"
    return type(value).__name__


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def equal(left: Any, right: Any) -> bool:
    """expr's runtime.Equal: numbers by value across int/float, bools never equal numbers."""
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(equal(left[k], right[k]) for k in left)
    if type(left) is not type(right):
        return False
    return bool(left == right)


def less(left: Any, right: Any, *, op: str) -> bool:
    comparable = (
        (is_number(left) and is_number(right))
        or (isinstance(left, str) and isinstance(right, str))
        or (isinstance(left, datetime) and isinstance(right, datetime))
        or (isinstance(left, timedelta) and isinstance(right, timedelta))
    )
    if comparable:
        if op == "<":
            return bool(left < right)
        if op == ">":
            return bool(left > right)
        if op == "<=":
            return bool(left <= right)
        return bool(left >= right)
    raise ExprError(f"invalid operation: {type_name(left)} {op} {type_name(right)} (mismatched types)")


def to_int(value: Any, what: str) -> int:
    if is_int(value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ExprError(f"{what} must be an integer, got {type_name(value)}")


def _go_float_div(left: float, right: float) -> float:
    if right == 0:
        if left == 0 or math.isnan(left):
            return math.nan
        return math.copysign(math.inf, left) * math.copysign(1.0, right)
    return left / right


def _time_arith(left: Any, right: Any, *, op: str) -> Any:
    """Go's time.Time / time.Duration arithmetic as expr exposes it."""
    if op == "+" and isinstance(left, datetime) and isinstance(right, timedelta):
        return left + right
    if op == "+" and isinstance(left, timedelta) and isinstance(right, datetime):
        return right + left
    if op == "-" and isinstance(left, datetime) and isinstance(right, timedelta | datetime):
        return left - right
    if op in ("+", "-") and isinstance(left, timedelta) and isinstance(right, timedelta):
        return left + right if op == "+" else left - right
    if op == "*" and isinstance(left, timedelta) and is_number(right):
        return left * right
    if op == "*" and is_number(left) and isinstance(right, timedelta):
        return right * left
    raise ExprError(f"invalid operation: {type_name(left)} {op} {type_name(right)} (mismatched types)")


def arith(left: Any, right: Any, *, op: str) -> Any:
    if op == "+":
        if isinstance(left, str) and isinstance(right, str):
            check_string(len(left) + len(right), "string +")
            return left + right
        if isinstance(left, list) and isinstance(right, list):
            check_collection(len(left) + len(right), "array +")
            return left + right
    if isinstance(left, datetime | timedelta) or isinstance(right, datetime | timedelta):
        return _time_arith(left, right, op=op)
    if not (is_number(left) and is_number(right)):
        raise ExprError(f"invalid operation: {type_name(left)} {op} {type_name(right)} (mismatched types)")
    both_int = is_int(left) and is_int(right)
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return _go_float_div(float(left), float(right))
    if op == "%":
        if not both_int:
            raise ExprError(f"invalid operation: {type_name(left)} % {type_name(right)}")
        if right == 0:
            raise ExprError("integer divide by zero")
        # Go's remainder truncates toward zero (sign of the dividend), unlike Python's.
        remainder = abs(left) % abs(right)
        return -remainder if left < 0 else remainder
    # ** and ^: Go's math.Pow, always a float, Inf/NaN instead of exceptions.
    try:
        return math.pow(float(left), float(right))
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the error is ours to report, not RE2's to print on stderr
    options.never_capture = True  # `matches` only asks whether there is a match
    return options


_RE2_OPTIONS = _re2_options()


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> Any:
    """`pattern` compiled by RE2 (Go's regexp syntax, linear-time matching), cached for the 256 most recent."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as err:
        reason = err.args[0].decode(errors="replace") if err.args and isinstance(err.args[0], bytes) else str(err)
        raise ExprError(f"invalid regular expression {pattern!r}: {reason}") from err


# Worst case measured for RE2's NFA fallback: about 10 ns per (text byte x pattern instruction);
# a budget step stands for about a microsecond.
_MATCH_UNITS_PER_STEP = 64


def match_cost(text: str, pattern: str) -> int:
    """Budget steps `text matches pattern` may take at worst: text bytes times the pattern's program size."""
    size = len(text) if text.isascii() else 4 * len(text)
    return size * int(_regex(pattern).programsize) // _MATCH_UNITS_PER_STEP


def string_op(left: Any, right: Any, *, op: str) -> bool:
    if not (isinstance(left, str) and isinstance(right, str)):
        raise ExprError(f"invalid operation: {type_name(left)} {op} {type_name(right)} (needs strings)")
    if op == "contains":
        return right in left
    if op == "startsWith":
        return left.startswith(right)
    if op == "endsWith":
        return left.endswith(right)
    return _regex(right).search(left) is not None


def is_in(needle: Any, haystack: Any) -> bool:
    if isinstance(haystack, list | tuple):
        return any(equal(needle, item) for item in haystack)
    if isinstance(haystack, dict):
        try:
            return needle in haystack
        except TypeError:
            return False
    if haystack is None:
        return False
    raise ExprError(f"operator in not defined on {type_name(haystack)}")


def fetch(container: Any, key: Any, *, optional: bool) -> Any:
    """expr's runtime.Fetch: index arrays and strings (negative from the end), read map keys."""
    if container is None:
        if optional:
            return None
        raise ExprError(f"cannot fetch {key!r} from nil")
    if isinstance(container, dict):
        try:
            return container.get(key)
        except TypeError as err:
            raise ExprError(f"cannot use {type_name(key)} as a map key") from err
    if isinstance(container, list | tuple | str):
        if isinstance(key, str):
            raise ExprError(f"cannot fetch {key!r} from {type_name(container)}")
        index = to_int(key, "index")
        length = len(container)
        if index < 0:
            index += length
        if index < 0 or index >= length:
            raise ExprError(f"index out of range: {index} (array length is {length})")
        return container[index]
    raise ExprError(f"cannot fetch {key!r} from {type_name(container)}")


def truth(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ExprError(f"{what} needs a bool, got {type_name(value)}")


def items_of(value: Any, name: str) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, dict):
        return list(value.values())
    raise ExprError(f"{name}() needs an array, got {type_name(value)}")


def need_str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ExprError(f"{name}() needs a string, got {type_name(value)}")
    return value
