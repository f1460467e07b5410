"""The builtin function table of the condition language: names, implementations, arities.

The compiler checks calls against it (unknown function, wrong number of
arguments) and the evaluator calls through it. Each family of builtins lives
in its own module (predicates, scalars, sequences, dates) and exports its part
of the table; this module joins them, so adding a function means one entry in
one family plus its arity here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rollouts.analysis.expr.dates import DATE_FUNCTIONS
from rollouts.analysis.expr.predicates import PREDICATE_FUNCTIONS
from rollouts.analysis.expr.scalars import SCALAR_FUNCTIONS
from rollouts.analysis.expr.sequences import SEQUENCE_FUNCTIONS

__all__ = ["ARITY", "BUILTINS", "PREDICATE_BUILTINS"]

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
