"""The compiler of the condition language: source text -> lark tree -> evaluable nodes, cached.

It resolves what can be decided before any metric value exists, so that a
template with a typo fails when compiled, with a position: unknown variable
and function names, wrong argument counts, invalid string escapes, and `{ ... }`
predicates outside the builtins that take one. The result is a
`CompiledExpression`, the only thing callers evaluate.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lark import Token, Transformer, Tree, v_args

from rollouts.analysis.expr.budget import MAX_DEPTH, MAX_SOURCE_CHARS, Budget
from rollouts.analysis.expr.errors import ExprError, ExprSyntaxError
from rollouts.analysis.expr.functions import ARITY, BUILTINS, PREDICATE_BUILTINS
from rollouts.analysis.expr.grammar import parse
from rollouts.analysis.expr.nodes import (
    ArrayLiteral,
    Binary,
    Call,
    ClosureLiteral,
    Coalesce,
    Const,
    Frame,
    MapLiteral,
    Member,
    Node,
    Now,
    Pointer,
    Slice,
    Ternary,
    Unary,
    Var,
)

__all__ = ["CompiledExpression", "compile_expression"]


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


def _at(node: Node, meta: Any) -> Node:
    node.line = getattr(meta, "line", 0)
    node.column = getattr(meta, "column", 0)
    return node


@v_args(meta=True)
class _Build(Transformer[Token, Node]):
    """Lark tree -> nodes, bottom up: one method per grammar alias; unknown names and arities fail here."""

    def __init__(self, variables: frozenset[str]) -> None:
        super().__init__()
        self.variables = variables

    def number(self, meta: Any, children: list[Token]) -> Node:
        return _at(Const(_number(str(children[0]))), meta)

    def string(self, meta: Any, children: list[Token]) -> Node:
        return _at(Const(_unescape(children[0])), meta)

    def rawstring(self, meta: Any, children: list[Token]) -> Node:
        return _at(Const(str(children[0])[1:-1]), meta)

    def true(self, meta: Any, children: list[Token]) -> Node:
        return _at(Const(True), meta)

    def false(self, meta: Any, children: list[Token]) -> Node:
        return _at(Const(False), meta)

    def nil(self, meta: Any, children: list[Token]) -> Node:
        return _at(Const(None), meta)

    def key_name(self, meta: Any, children: list[Token]) -> Node:
        return _at(Const(str(children[0])), meta)

    def var(self, meta: Any, children: list[Token]) -> Node:
        name = str(children[0])
        if name not in self.variables:
            raise ExprSyntaxError(f"unknown name {name}", line=meta.line, column=meta.column)
        return _at(Var(name), meta)

    def call(self, meta: Any, children: list[Any]) -> Node:
        name = str(children[0])
        args: list[Node] = children[1] or []
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
            return _at(Now(), meta)
        return _at(Call(name, args), meta)

    def pipe(self, meta: Any, children: list[Any]) -> Node:
        # `a | f(b)` is `f(a, b)`.
        return self.call(meta, [children[1], [children[0], *(children[2] or [])]])

    def expr_list(self, meta: Any, children: list[Any]) -> list[Node]:
        return [child for child in children if child is not None]

    def pointer(self, meta: Any, children: list[Token]) -> Node:
        return _at(Pointer(None), meta)

    def pointer_var(self, meta: Any, children: list[Token]) -> Node:
        return _at(Pointer(str(children[1])), meta)

    def pointer_member(self, meta: Any, children: list[Token]) -> Node:
        return _at(Pointer(str(children[0])), meta)

    def member(self, meta: Any, children: list[Any]) -> Node:
        return _at(Member(children[0], Const(str(children[1])), optional=False), meta)

    def opt_member(self, meta: Any, children: list[Any]) -> Node:
        return _at(Member(children[0], Const(str(children[1])), optional=True), meta)

    def index(self, meta: Any, children: list[Any]) -> Node:
        return _at(Member(children[0], children[1], optional=False), meta)

    def opt_index(self, meta: Any, children: list[Any]) -> Node:
        return _at(Member(children[0], children[1], optional=True), meta)

    def slice(self, meta: Any, children: list[Any]) -> Node:
        return _at(Slice(children[0], children[1], children[2]), meta)

    def array(self, meta: Any, children: list[Any]) -> Node:
        return _at(ArrayLiteral(children[0] or []), meta)

    def pair(self, meta: Any, children: list[Any]) -> tuple[Node, Node]:
        return (children[0], children[1])

    def map(self, meta: Any, children: list[Any]) -> Node:
        return _at(MapLiteral([c for c in children if c is not None]), meta)

    def closure(self, meta: Any, children: list[Any]) -> Node:
        return _at(ClosureLiteral(children[0]), meta)

    def ternary(self, meta: Any, children: list[Any]) -> Node:
        return _at(Ternary(children[0], children[1], children[2]), meta)

    def coalesce(self, meta: Any, children: list[Any]) -> Node:
        return _at(Coalesce(children[0], children[1]), meta)

    def binop(self, meta: Any, children: list[Any]) -> Node:
        return _at(Binary(str(children[1]), children[0], children[2]), meta)

    def or_(self, meta: Any, children: list[Any]) -> Node:
        return _at(Binary("||", children[0], children[1]), meta)

    def and_(self, meta: Any, children: list[Any]) -> Node:
        return _at(Binary("&&", children[0], children[1]), meta)

    def range_(self, meta: Any, children: list[Any]) -> Node:
        return _at(Binary("..", children[0], children[1]), meta)

    def negatable(self, meta: Any, children: list[Token]) -> str:
        return str(children[0])

    def cmp_op(self, meta: Any, children: list[Any]) -> tuple[str, bool]:
        return (str(children[0]), False)

    def negated_op(self, meta: Any, children: list[Any]) -> tuple[str, bool]:
        return (str(children[0]), True)

    def compare(self, meta: Any, children: list[Any]) -> Node:
        op, negate = children[1]
        return _at(Binary(op, children[0], children[2], negate=negate), meta)

    def not_(self, meta: Any, children: list[Any]) -> Node:
        return _at(Unary("!", children[0]), meta)

    def unary(self, meta: Any, children: list[Any]) -> Node:
        return _at(Unary(str(children[0]), children[1]), meta)


def _check_size(source: str) -> None:
    """Refuse source longer than `MAX_SOURCE_CHARS` before parsing it."""
    if len(source) > MAX_SOURCE_CHARS:
        raise ExprSyntaxError(
            f"expression is {len(source)} characters long, over the source budget of {MAX_SOURCE_CHARS}",
            line=1,
            column=MAX_SOURCE_CHARS + 1,
        )


def _check_brackets(source: str) -> None:
    """Refuse brackets nested deeper than `MAX_DEPTH`, before the (slower) parser sees them.

    A scan of the characters, skipping string literals: it turns away the
    cheapest deep inputs (hundreds of `(` or `[`) in a fraction of the parse time.
    """
    depth = 0
    line, column = 1, 0
    quote = ""
    escaped = False
    for char in source:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote != "`":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExprSyntaxError(
                    f"expression nested deeper than the nesting budget of {MAX_DEPTH} levels", line=line, column=column
                )
        elif char in ")]}":
            depth -= 1


def _check_depth(tree: Tree[Token]) -> None:
    """Refuse a syntax tree deeper than `MAX_DEPTH`, walking it without recursion.

    Compiling and evaluating recurse once per level, so this keeps both far
    from Python's recursion limit whatever the caller's stack holds; the error
    points at the first node past the limit.
    """
    pending: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            meta = node.meta
            raise ExprSyntaxError(
                f"expression nested deeper than the nesting budget of {MAX_DEPTH} levels",
                line=max(getattr(meta, "line", 1), 1),
                column=max(getattr(meta, "column", 1), 1),
            )
        pending.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def _check_closures(root: Node) -> None:
    """A `{...}` predicate is only legal as the second argument of a predicate builtin."""
    allowed: set[int] = set()
    for node in root.walk():
        if isinstance(node, Call) and node.name in PREDICATE_BUILTINS and len(node.args) > 1:
            allowed.add(id(node.args[1]))
    for node in root.walk():
        if isinstance(node, ClosureLiteral) and id(node) not in allowed:
            raise ExprSyntaxError(
                "a predicate { ... } is only allowed as an argument of all/any/filter/map/...",
                line=node.line,
                column=node.column,
            )


class CompiledExpression:
    """A parsed expression, evaluated against variables (`result` for conditions)."""

    def __init__(self, source: str, root: Node) -> None:
        self.source = source
        self._root = root

    def evaluate(self, variables: dict[str, Any]) -> Any:
        """The expression's value with `variables`; any failure is an `ExprError`."""
        try:
            return self._root.ev(Frame(variables, budget=Budget()))
        except ExprError:
            raise
        except KeyError as err:
            raise ExprError(f"unknown name {err.args[0]}") from err
        except RecursionError as err:
            raise ExprError("expression nested too deeply") from err


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str, variables: frozenset[str] = frozenset({"result"})) -> CompiledExpression:
    """Parse `source` once (cached on the text); names outside `variables` are errors.

    Source past the size or nesting budget (`budget.py`) is an `ExprSyntaxError`
    too, never a RecursionError from deep in the parser.
    """
    _check_size(source)
    _check_brackets(source)
    try:
        tree = parse(source)
    except RecursionError:
        raise ExprSyntaxError(
            f"expression nested deeper than the nesting budget of {MAX_DEPTH} levels", line=1, column=1
        ) from None
    _check_depth(tree)
    try:
        root = _Build(variables).transform(tree)
    except Exception as err:
        inner = getattr(err, "orig_exc", err)
        if isinstance(inner, ExprError):
            raise inner from None
        if isinstance(inner, RecursionError):
            raise ExprSyntaxError(
                f"expression nested deeper than the nesting budget of {MAX_DEPTH} levels", line=1, column=1
            ) from None
        raise
    if not isinstance(root, Node):
        raise ExprSyntaxError("not an expression", line=1, column=1)
    _check_closures(root)
    return CompiledExpression(source, root)
