"""Builtins over single values: numbers, rounding, conversions, and Argo's additions.

expr-lang's abs/ceil/floor/round/min/max/mean/median/int/float/string/type,
plus the functions Argo registers for conditions (utils/evaluate/evaluate.go):
isNaN, isInf, isNil, asInt, asFloat, default. Rounding is Go's (half away
from zero) and parsing follows strconv, so results match Argo's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from rollouts.analysis.expr.errors import ExprError
from rollouts.analysis.expr.values import is_number, type_name

__all__ = ["SCALAR_FUNCTIONS"]


def _abs(value: Any) -> Any:
    if not is_number(value):
        raise ExprError(f"invalid argument for abs (type {type_name(value)})")
    return abs(value)


def _rounding(fn: Callable[[float], float], name: str) -> Callable[[Any], float]:
    def apply(value: Any) -> float:
        if not is_number(value):
            raise ExprError(f"invalid argument for {name} (type {type_name(value)})")
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return number
        return float(fn(number))

    return apply


def _go_round(value: float) -> float:
    # Go's math.Round: half away from zero (Python's round() is half to even).
    return math.copysign(math.floor(abs(value) + 0.5), value)


def _flatten_numbers(args: tuple[Any, ...], name: str) -> list[Any]:
    values: list[Any] = []
    for arg in args:
        if isinstance(arg, list | tuple):
            values.extend(_flatten_numbers(tuple(arg), name))
        elif is_number(arg):
            values.append(arg)
        else:
            raise ExprError(f"invalid argument for {name} (type {type_name(arg)})")
    return values


def _min(*args: Any) -> Any:
    values = _flatten_numbers(args, "min")
    if not values:
        return None
    best = values[0]
    for value in values[1:]:
        best = min(best, value)
    return best


def _max(*args: Any) -> Any:
    values = _flatten_numbers(args, "max")
    if not values:
        return None
    best = values[0]
    for value in values[1:]:
        best = max(best, value)
    return best


def _mean(*args: Any) -> float:
    values = _flatten_numbers(args, "mean")
    return float(sum(values)) / len(values) if values else 0.0


def _median(*args: Any) -> float:
    values = sorted(float(v) for v in _flatten_numbers(args, "median"))
    n = len(values)
    if n == 0:
        return 0.0
    if n % 2 == 1:
        return values[n // 2]
    return (values[n // 2 - 1] + values[n // 2]) / 2


def _as_int(value: Any) -> int:
    """Argo's asInt: numbers truncate toward zero, strings must be base-10 integers."""
    if is_number(value):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise ExprError(f"asInt() not supported on {value}")
        return int(value)
    if isinstance(value, str):
        text = value.strip() if value.strip() == value else value
        if re.fullmatch(r"[+-]?[0-9]+", text):
            return int(text)
        raise ExprError(f'asInt(): strconv.ParseInt: parsing "{value}": invalid syntax')
    raise ExprError(f"asInt() not supported on {type_name(value)} {value!r}")


_GO_FLOAT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)", re.I)


def _as_float(value: Any) -> float:
    """Argo's asFloat: numbers as floats, strings parsed like strconv.ParseFloat."""
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        if _GO_FLOAT.fullmatch(value):
            return float(value)
        raise ExprError(f'asFloat(): strconv.ParseFloat: parsing "{value}": invalid syntax')
    raise ExprError(f"asFloat() not supported on {type_name(value)} {value!r}")


def _is_nan(value: Any) -> bool:
    if not is_number(value):
        raise ExprError(f"isNaN() needs a number, got {type_name(value)}")
    return math.isnan(value)


def _is_inf(value: Any) -> bool:
    if not is_number(value):
        raise ExprError(f"isInf() needs a number, got {type_name(value)}")
    return math.isinf(value)


def _is_nil(value: Any) -> bool:
    return value is None


def _default(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value


def _int(value: Any) -> int:
    if is_number(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError as err:
            raise ExprError(f"int(): cannot parse {value!r}") from err
    raise ExprError(f"invalid argument for int (type {type_name(value)})")


def _float(value: Any) -> float:
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        return _as_float(value)
    raise ExprError(f"invalid argument for float (type {type_name(value)})")


def _string(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _type(value: Any) -> str:
    return type_name(value)


SCALAR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": _abs,
    "ceil": _rounding(math.ceil, "ceil"),
    "floor": _rounding(math.floor, "floor"),
    "round": _rounding(_go_round, "round"),
    "min": _min,
    "max": _max,
    "mean": _mean,
    "median": _median,
    "int": _int,
    "float": _float,
    "string": _string,
    "type": _type,
    # Argo's additions (utils/evaluate/evaluate.go)
    "isNaN": _is_nan,
    "isInf": _is_inf,
    "isNil": _is_nil,
    "asInt": _as_int,
    "asFloat": _as_float,
    "default": _default,
}
