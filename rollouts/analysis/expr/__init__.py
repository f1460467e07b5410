"""The condition language of AnalysisTemplates: expr-lang syntax, our own evaluator.

Argo evaluates `successCondition` / `failureCondition` with expr-lang
(github.com/expr-lang/expr). Templates written for Argo must mean the same
here, so this module reimplements the part of that language conditions use:
literals, `result` and its fields and indexes, arithmetic, comparisons,
boolean operators (symbolic and worded), `in`, ternary, `??`, pipes
(`result | filter(# > 1) | len()`), string operators, and the builtins (`len`, `all(result, {# > 0.9})`, `min`, ...)
plus the ones Argo adds (`isNaN`, `isInf`, `isNil`, `asInt`, `asFloat`,
`default`).

It is shaped as: a lark LALR grammar (fast, and parse errors carry a line and
column) -> a small tree of nodes, each with an `ev()` method -> a tree-walking
evaluation. Python's `eval` is never involved. Semantics follow Go / expr where
users can see the difference: `int + int` stays an int, `/` always gives a
float, `%` needs ints and truncates toward zero, `**` gives a float, division
by zero gives ±Inf/NaN, `1 == 1.0` is true, `true == 1` is false, NaN compares
false, a missing map key reads as nil.

Every problem is an `ExprError` (or its subclass `ExprSyntaxError` for source
that does not parse), so callers catch one type. Compiled expressions are
cached on their source text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from lark import Token, Transformer, v_args

from rollouts.analysis.expr.errors import ExprError, ExprSyntaxError
from rollouts.analysis.expr.functions import ARITY, BUILTINS, PREDICATE_BUILTINS
from rollouts.analysis.expr.grammar import parse
from rollouts.analysis.expr.values import (
    Predicate,
    arith,
    equal,
    fetch,
    is_in,
    is_number,
    less,
    string_op,
    to_int,
    truth,
    type_name,
)

__all__ = [
    "CompiledExpression",
    "ExprError",
    "ExprSyntaxError",
    "compile_expression",
    "evaluate",
    "evaluate_condition",
    "evaluate_time",
]


# --------------------------------------------------------------------------- nodes


@dataclass(slots=True)
class _Frame:
    """Variables, plus the element (#), index and accumulator of the innermost predicate."""

    variables: dict[str, Any]
    pointer: Any = None
    index: int = 0
    acc: Any = None
    in_predicate: bool = False


class _Node:
    line: int = 0
    column: int = 0
    children: ClassVar[tuple[str, ...]] = ()

    def ev(self, frame: _Frame) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def walk(self) -> Iterator[_Node]:
        yield self
        for name in self.children:
            child = getattr(self, name)
            if isinstance(child, _Node):
                yield from child.walk()
            elif isinstance(child, list):
                for item in child:
                    if isinstance(item, _Node):
                        yield from item.walk()
                    elif isinstance(item, tuple):
                        for sub in item:
                            if isinstance(sub, _Node):
                                yield from sub.walk()


class _Const(_Node):
    def __init__(self, value: Any) -> None:
        self.value = value

    def ev(self, frame: _Frame) -> Any:
        return self.value


class _Var(_Node):
    def __init__(self, name: str) -> None:
        self.name = name

    def ev(self, frame: _Frame) -> Any:
        return frame.variables[self.name]


class _Pointer(_Node):
    def __init__(self, name: str | None) -> None:
        self.name = name

    def ev(self, frame: _Frame) -> Any:
        if not frame.in_predicate:
            raise ExprError("# used outside of a predicate")
        if self.name is None:
            return frame.pointer
        if self.name == "index":
            return frame.index
        if self.name == "acc":
            return frame.acc
        return fetch(frame.pointer, self.name, optional=False)


class _Member(_Node):
    children = ("target", "key")

    def __init__(self, target: _Node, key: _Node, *, optional: bool) -> None:
        self.target = target
        self.key = key
        self.optional = optional

    def ev(self, frame: _Frame) -> Any:
        container = self.target.ev(frame)
        if container is None and self.optional:
            return None
        return fetch(container, self.key.ev(frame), optional=self.optional)


class _Slice(_Node):
    children = ("target", "low", "high")

    def __init__(self, target: _Node, low: _Node | None, high: _Node | None) -> None:
        self.target = target
        self.low = low
        self.high = high

    def ev(self, frame: _Frame) -> Any:
        container = self.target.ev(frame)
        if not isinstance(container, list | tuple | str):
            raise ExprError(f"cannot slice {type_name(container)}")
        low = 0 if self.low is None else to_int(self.low.ev(frame), "slice index")
        high = len(container) if self.high is None else to_int(self.high.ev(frame), "slice index")
        return container[low:high]


class _Unary(_Node):
    children = ("operand",)

    def __init__(self, op: str, operand: _Node) -> None:
        self.op = op
        self.operand = operand

    def ev(self, frame: _Frame) -> Any:
        value = self.operand.ev(frame)
        if self.op in ("!", "not"):
            return not truth(value, self.op)
        if not is_number(value):
            raise ExprError(f"invalid operation: {self.op}{type_name(value)}")
        return -value if self.op == "-" else value


class _Binary(_Node):
    children = ("left", "right")

    def __init__(self, op: str, left: _Node, right: _Node, *, negate: bool = False) -> None:
        self.op = op
        self.left = left
        self.right = right
        self.negate = negate

    def ev(self, frame: _Frame) -> Any:
        op = self.op
        left = self.left.ev(frame)
        if op in ("||", "or"):
            return truth(left, op) or truth(self.right.ev(frame), op)
        if op in ("&&", "and"):
            return truth(left, op) and truth(self.right.ev(frame), op)
        right = self.right.ev(frame)
        result: Any
        if op == "==":
            result = equal(left, right)
        elif op == "!=":
            result = not equal(left, right)
        elif op in ("<", ">", "<=", ">="):
            result = less(left, right, op)
        elif op == "in":
            result = is_in(left, right)
        elif op in ("contains", "startsWith", "endsWith", "matches"):
            result = string_op(op, left, right)
        elif op == "..":
            result = list(range(to_int(left, ".."), to_int(right, "..") + 1))
        else:
            result = arith(op, left, right)
        return (not result) if self.negate else result


class _Ternary(_Node):
    children = ("cond", "then", "otherwise")

    def __init__(self, cond: _Node, then: _Node, otherwise: _Node) -> None:
        self.cond = cond
        self.then = then
        self.otherwise = otherwise

    def ev(self, frame: _Frame) -> Any:
        if truth(self.cond.ev(frame), "?:"):
            return self.then.ev(frame)
        return self.otherwise.ev(frame)


class _Coalesce(_Node):
    children = ("left", "right")

    def __init__(self, left: _Node, right: _Node) -> None:
        self.left = left
        self.right = right

    def ev(self, frame: _Frame) -> Any:
        try:
            value = self.left.ev(frame)
        except ExprError:
            # `result.a.b ?? 0`: a missing link in the chain reads as nil, like expr.
            value = None
        return self.right.ev(frame) if value is None else value


class _Array(_Node):
    children = ("items",)

    def __init__(self, items: list[_Node]) -> None:
        self.items = items

    def ev(self, frame: _Frame) -> Any:
        return [item.ev(frame) for item in self.items]


class _Map(_Node):
    children = ("pairs",)

    def __init__(self, pairs: list[tuple[_Node, _Node]]) -> None:
        self.pairs = pairs

    def ev(self, frame: _Frame) -> Any:
        return {key.ev(frame): value.ev(frame) for key, value in self.pairs}


class _ClosureLiteral(_Node):
    """`{ ... }` in argument position: the predicate of all/any/filter/...."""

    children = ("body",)

    def __init__(self, body: _Node) -> None:
        self.body = body

    def ev(self, frame: _Frame) -> Any:
        raise ExprError("a predicate { ... } can only be an argument of a builtin such as all()")


@dataclass(slots=True)
class _Closure(Predicate):
    body: _Node
    frame: _Frame

    def __call__(self, element: Any, index: int, acc: Any = None) -> Any:
        inner = _Frame(self.frame.variables, element, index, acc, in_predicate=True)
        return self.body.ev(inner)


NOW_VARIABLE = "$now"


class _Now(_Node):
    """now(): the instant the caller passes as the `$now` variable, else the wall clock."""

    def ev(self, frame: _Frame) -> Any:
        now = frame.variables.get(NOW_VARIABLE)
        return now if isinstance(now, datetime) else datetime.now(UTC)


class _Call(_Node):
    children = ("args",)

    def __init__(self, name: str, args: list[_Node]) -> None:
        self.name = name
        self.args = args
        self.impl = BUILTINS[name]

    def ev(self, frame: _Frame) -> Any:
        if self.name in PREDICATE_BUILTINS:
            values: list[Any] = [self.args[0].ev(frame)]
            for arg in self.args[1:2]:
                body = arg.body if isinstance(arg, _ClosureLiteral) else arg
                values.append(_Closure(body, frame))
            values.extend(arg.ev(frame) for arg in self.args[2:])
        else:
            values = [arg.ev(frame) for arg in self.args]
        try:
            return self.impl(*values)
        except ExprError:
            raise
        except (TypeError, ValueError, OverflowError, ZeroDivisionError, KeyError) as err:
            raise ExprError(f"{self.name}(): {err}") from err


# --------------------------------------------------------------------------- parse tree -> nodes


_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|.)")


def _unescape(token: Token) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "uUx" and len(code) > 1:
            return chr(int(code[1:], 16))
        if code in _ESCAPES:
            return _ESCAPES[code]
        raise ExprSyntaxError(f"invalid escape sequence \\{code}", line=token.line or 0, column=token.column or 0)

    return _ESCAPE_RE.sub(replace, str(token)[1:-1])


def _number(text: str) -> int | float:
    clean = text.replace("_", "")
    lowered = clean.lower()
    if lowered.startswith(("0x", "0o", "0b")):
        return int(clean, 0)
    if any(ch in lowered for ch in ".e"):
        return float(clean)
    return int(clean)


def _at(node: _Node, meta: Any) -> _Node:
    node.line = getattr(meta, "line", 0)
    node.column = getattr(meta, "column", 0)
    return node


@v_args(meta=True)
class _Build(Transformer[Token, _Node]):
    def __init__(self, variables: frozenset[str]) -> None:
        super().__init__()
        self.variables = variables

    def number(self, meta: Any, children: list[Token]) -> _Node:
        return _at(_Const(_number(str(children[0]))), meta)

    def string(self, meta: Any, children: list[Token]) -> _Node:
        return _at(_Const(_unescape(children[0])), meta)

    def rawstring(self, meta: Any, children: list[Token]) -> _Node:
        return _at(_Const(str(children[0])[1:-1]), meta)

    def true(self, meta: Any, children: list[Token]) -> _Node:
        return _at(_Const(True), meta)

    def false(self, meta: Any, children: list[Token]) -> _Node:
        return _at(_Const(False), meta)

    def nil(self, meta: Any, children: list[Token]) -> _Node:
        return _at(_Const(None), meta)

    def key_name(self, meta: Any, children: list[Token]) -> _Node:
        return _at(_Const(str(children[0])), meta)

    def var(self, meta: Any, children: list[Token]) -> _Node:
        name = str(children[0])
        if name not in self.variables:
            raise ExprSyntaxError(f"unknown name {name}", line=meta.line, column=meta.column)
        return _at(_Var(name), meta)

    def call(self, meta: Any, children: list[Any]) -> _Node:
        name = str(children[0])
        args: list[_Node] = children[1] or []
        if name not in BUILTINS:
            raise ExprSyntaxError(f"unknown func {name}", line=meta.line, column=meta.column)
        low, high = ARITY.get(name, (1, 1))
        if not low <= len(args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            raise ExprSyntaxError(
                f"invalid number of arguments for {name} (expected {expected}, got {len(args)})",
                line=meta.line,
                column=meta.column,
            )
        if name == "now":
            return _at(_Now(), meta)
        return _at(_Call(name, args), meta)

    def pipe(self, meta: Any, children: list[Any]) -> _Node:
        # `a | f(b)` is `f(a, b)`.
        return self.call(meta, [children[1], [children[0], *(children[2] or [])]])

    def expr_list(self, meta: Any, children: list[Any]) -> list[_Node]:
        return [child for child in children if child is not None]

    def pointer(self, meta: Any, children: list[Token]) -> _Node:
        return _at(_Pointer(None), meta)

    def pointer_var(self, meta: Any, children: list[Token]) -> _Node:
        return _at(_Pointer(str(children[1])), meta)

    def pointer_member(self, meta: Any, children: list[Token]) -> _Node:
        return _at(_Pointer(str(children[0])), meta)

    def member(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Member(children[0], _Const(str(children[1])), optional=False), meta)

    def opt_member(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Member(children[0], _Const(str(children[1])), optional=True), meta)

    def index(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Member(children[0], children[1], optional=False), meta)

    def opt_index(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Member(children[0], children[1], optional=True), meta)

    def slice(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Slice(children[0], children[1], children[2]), meta)

    def array(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Array(children[0] or []), meta)

    def pair(self, meta: Any, children: list[Any]) -> tuple[_Node, _Node]:
        return (children[0], children[1])

    def map(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Map([c for c in children if c is not None]), meta)

    def closure(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_ClosureLiteral(children[0]), meta)

    def ternary(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Ternary(children[0], children[1], children[2]), meta)

    def coalesce(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Coalesce(children[0], children[1]), meta)

    def binop(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Binary(str(children[1]), children[0], children[2]), meta)

    def or_(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Binary("||", children[0], children[1]), meta)

    def and_(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Binary("&&", children[0], children[1]), meta)

    def range_(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Binary("..", children[0], children[1]), meta)

    def negatable(self, meta: Any, children: list[Token]) -> str:
        return str(children[0])

    def cmp_op(self, meta: Any, children: list[Any]) -> tuple[str, bool]:
        return (str(children[0]), False)

    def negated_op(self, meta: Any, children: list[Any]) -> tuple[str, bool]:
        return (str(children[0]), True)

    def compare(self, meta: Any, children: list[Any]) -> _Node:
        op, negate = children[1]
        return _at(_Binary(op, children[0], children[2], negate=negate), meta)

    def not_(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Unary("!", children[0]), meta)

    def unary(self, meta: Any, children: list[Any]) -> _Node:
        return _at(_Unary(str(children[0]), children[1]), meta)


def _check_closures(root: _Node) -> None:
    """A `{...}` predicate is only legal as the second argument of a predicate builtin."""
    allowed: set[int] = set()
    for node in root.walk():
        if isinstance(node, _Call) and node.name in PREDICATE_BUILTINS and len(node.args) > 1:
            allowed.add(id(node.args[1]))
    for node in root.walk():
        if isinstance(node, _ClosureLiteral) and id(node) not in allowed:
            raise ExprSyntaxError(
                "a predicate { ... } is only allowed as an argument of all/any/filter/map/...",
                line=node.line,
                column=node.column,
            )


class CompiledExpression:
    """A parsed expression, evaluated against variables (`result` for conditions)."""

    def __init__(self, source: str, root: _Node) -> None:
        self.source = source
        self._root = root

    def evaluate(self, variables: dict[str, Any]) -> Any:
        try:
            return self._root.ev(_Frame(variables))
        except ExprError:
            raise
        except KeyError as err:
            raise ExprError(f"unknown name {err.args[0]}") from err
        except RecursionError as err:
            raise ExprError("expression nested too deeply") from err


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str, variables: frozenset[str] = frozenset({"result"})) -> CompiledExpression:
    """Parse `source` once (cached on the text); names outside `variables` are errors."""
    tree = parse(source)
    try:
        root = _Build(variables).transform(tree)
    except Exception as err:
        inner = getattr(err, "orig_exc", err)
        if isinstance(inner, ExprError):
            raise inner from None
        raise
    if not isinstance(root, _Node):
        raise ExprSyntaxError("not an expression", line=1, column=1)
    _check_closures(root)
    return CompiledExpression(source, root)


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
