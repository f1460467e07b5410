"""The condition language of AnalysisTemplates: expr-lang syntax, our own evaluator.

Argo evaluates `successCondition` / `failureCondition` with expr-lang
(github.com/expr-lang/expr). Templates written for Argo must mean the same
here, so this module reimplements the part of that language conditions use:
literals, `result` and its fields and indexes, arithmetic, comparisons,
boolean operators (symbolic and worded), `in`, ternary, `??`, pipes
(`result | filter(# > 1) | len()`), string operators, and the builtins (`len`,
`all(result, {# > 0.9})`, `min`, ...) plus the ones Argo adds (`isNaN`, `isInf`, `isNil`, `asInt`, `asFloat`,
`default`).

It is shaped as: a lark LALR grammar (`grammar.py`: fast, and parse errors
carry a line and column) -> a compiler (`compiler.py`) that checks names and
arities and builds a small tree of nodes -> a tree-walking evaluation
(`nodes.py`), with operator semantics in `values.py` and the builtin table in
`functions.py` (families: `predicates`, `scalars`, `sequences`, `dates`).
Python's `eval` is never involved. Semantics follow Go / expr where users can
see the difference (see `values.py`).

This module is the public entry: the names analysis code imports.

Every problem is an `ExprError` (or its subclass `ExprSyntaxError` for source
that does not parse), so callers catch one type. Compiled expressions are
cached on their source text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rollouts.analysis.expr.compiler import CompiledExpression, compile_expression
from rollouts.analysis.expr.errors import ExprError, ExprSyntaxError
from rollouts.analysis.expr.nodes import NOW_VARIABLE
from rollouts.analysis.expr.values import type_name

__all__ = [
    "CompiledExpression",
    "ExprError",
    "ExprSyntaxError",
    "compile_expression",
    "evaluate",
    "evaluate_condition",
    "evaluate_time",
]


def evaluate(source: str, variables: dict[str, Any]) -> Any:
    """Compile (cached) and evaluate `source` with the given variables."""
    return compile_expression(source, frozenset(variables)).evaluate(variables)


def evaluate_condition(source: str, result: Any) -> bool:
    """Argo's EvalCondition: the expression over `result` must give a bool."""
    value = compile_expression(source).evaluate({"result": result})
    if not isinstance(value, bool):
        raise ExprError(f"expected bool, but got {type_name(value)}")
    return value


def evaluate_time(source: str, *, now: datetime) -> datetime:
    """Argo's EvalTime (rangeQuery start/end): `now() - duration("5m")` must give a time."""
    value = compile_expression(source, frozenset()).evaluate({NOW_VARIABLE: now})
    if not isinstance(value, datetime):
        raise ExprError(f"expected time, but got {type_name(value)}")
    return value
