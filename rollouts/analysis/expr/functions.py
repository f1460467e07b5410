"""The builtin function table of the condition language: names, implementations, arities.

The compiler checks calls against it (unknown function, wrong number of
arguments) and the evaluator calls through it. Each family of builtins lives
in its own module (predicates, scalars, sequences, dates) and exports its part
of the table; this module joins them, so adding a function means one entry in
one family plus its arity here.

It also says what each builtin costs, for the evaluation budget
(`budget.py`): most read their arguments' top level once (charged per
element), a few walk them whole (charged per nested element), a few only
look at them (free); those that return new arrays or strings are building
builtins, whose results must fit the size budgets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rollouts.analysis.expr.dates import DATE_FUNCTIONS
from rollouts.analysis.expr.predicates import PREDICATE_FUNCTIONS
from rollouts.analysis.expr.scalars import SCALAR_FUNCTIONS
from rollouts.analysis.expr.sequences import SEQUENCE_FUNCTIONS

__all__ = [
    "ARITY",
    "BUILDING_BUILTINS",
    "BUILTINS",
    "CONSTANT_COST_BUILTINS",
    "DEEP_COST_BUILTINS",
    "PREDICATE_BUILTINS",
]

BUILTINS: dict[str, Callable[..., Any]] = {
    **PREDICATE_FUNCTIONS,
    **SCALAR_FUNCTIONS,
    **SEQUENCE_FUNCTIONS,
    **DATE_FUNCTIONS,
}

# Builtins whose second argument is a `{ ... }` predicate, passed unevaluated.
PREDICATE_BUILTINS = frozenset(PREDICATE_FUNCTIONS)

ARITY: dict[str, tuple[int, int]] = {
    **{name: (2, 2) for name in PREDICATE_BUILTINS},
    "count": (1, 2),
    "sum": (1, 2),
    "reduce": (2, 3),
    "min": (1, 99),
    "max": (1, 99),
    "mean": (1, 99),
    "median": (1, 99),
    "concat": (1, 99),
    "trim": (1, 2),
    "join": (1, 2),
    "sort": (1, 2),
    "default": (2, 2),
    "get": (2, 2),
    "split": (2, 2),
    "trimPrefix": (2, 2),
    "trimSuffix": (2, 2),
    "repeat": (2, 2),
    "indexOf": (2, 2),
    "lastIndexOf": (2, 2),
    "hasPrefix": (2, 2),
    "hasSuffix": (2, 2),
    "replace": (3, 3),
    "now": (0, 0),
    "date": (1, 3),
}

# Builtins that take constant time whatever the size of their arguments.
CONSTANT_COST_BUILTINS = frozenset({"len", "first", "last", "get", "default", "isNil", "type"})

# Builtins that walk their arguments whole (nested arrays and maps included).
DEEP_COST_BUILTINS = frozenset({"toJSON", "string", "flatten", "uniq", "sort", "min", "max", "mean", "median"})

# Builtins that return a new array or string, held to the collection and string budgets.
BUILDING_BUILTINS = frozenset(
    {
        "map",
        "filter",
        "sort",
        "reverse",
        "keys",
        "values",
        "uniq",
        "concat",
        "flatten",
        "split",
        "repeat",
        "join",
        "replace",
        "toJSON",
        "fromJSON",
        "string",
        "upper",
        "lower",
        "trim",
        "trimPrefix",
        "trimSuffix",
    }
)
