"""The evaluator of the condition language: a tree of nodes, each evaluating itself against a frame.

The compiler (`compiler.py`) turns the lark parse tree into these nodes once
per source text; evaluating a condition is then a plain tree walk, with
Python's `eval` never involved. A `Frame` carries the variables and, inside a
`{ ... }` predicate, the current element (`#`), its index and the accumulator.
Operator semantics come from `values.py`, function calls go through the
builtin table (`functions.py`).

Every evaluation step passes through `Node.ev` (nodes implement `compute`),
which charges it to the evaluation's `Budget` (`budget.py`) and admits the
results of nodes that build values only within the size budgets; the root
frame is made in `CompiledExpression.evaluate` and predicate frames only by
`Frame.enter_predicate`, so the one budget on the frame reaches every step.
Nodes whose work grows with their operands (`in`, `==` on arrays, builtins
reading whole arrays) charge that work too, before doing it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from rollouts.analysis.expr.budget import Budget, check_collection, check_int
from rollouts.analysis.expr.errors import ExprError
from rollouts.analysis.expr.functions import (
    BUILDING_BUILTINS,
    BUILTINS,
    CONSTANT_COST_BUILTINS,
    DEEP_COST_BUILTINS,
    PREDICATE_BUILTINS,
)
from rollouts.analysis.expr.values import (
    Predicate,
    arith,
    equal,
    fetch,
    is_in,
    is_number,
    less,
    match_cost,
    string_op,
    to_int,
    truth,
    type_name,
)

__all__ = [
    "NOW_VARIABLE",
    "ArrayLiteral",
    "Binary",
    "Call",
    "Closure",
    "ClosureLiteral",
    "Coalesce",
    "Const",
    "Frame",
    "MapLiteral",
    "Member",
    "Node",
    "Now",
    "Pointer",
    "Slice",
    "Ternary",
    "Unary",
    "Var",
]


@dataclass(slots=True)
class Frame:
    """Variables, the evaluation's budget, and the element (#), index and accumulator of the innermost predicate."""

    variables: dict[str, Any]
    pointer: Any = None
    index: int = 0
    acc: Any = None
    in_predicate: bool = False
    budget: Budget = field(default_factory=Budget)

    def enter_predicate(self, *, element: Any, index: int, acc: Any) -> Frame:
        """A predicate body's frame for one element: same variables and budget, new `#`, `#index`, `#acc`.

        Making the frame and calling the body is charged as one step.
        """
        self.budget.charge(1)
        return Frame(self.variables, element, index, acc, in_predicate=True, budget=self.budget)


class Node:
    """One node of a compiled expression: its source position, its children, how it computes its value."""

    line: int = 0
    column: int = 0
    children: ClassVar[tuple[str, ...]] = ()
    # Whether this node makes new values (operators, literals, building builtins)
    # rather than handing back ones that exist (variables, members, `#`).
    builds: bool = False

    def ev(self, frame: Frame) -> Any:
        """The value of this node in `frame`.

        Every evaluation step goes through here, whoever asks (a parent node, a
        predicate body called by a builtin, the compiled expression's root), so
        the budget is enforced in this one method: each step is charged, and a
        value this node built is admitted only within the size budgets (its
        size charged too). Subclasses implement `compute`, never `ev`.
        """
        frame.budget.charge(1)
        value = self.compute(frame)
        if self.builds:
            return frame.budget.admit(value)
        return value

    def compute(self, frame: Frame) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def walk(self) -> Iterator[Node]:
        yield self
        for name in self.children:
            child = getattr(self, name)
            if isinstance(child, Node):
                yield from child.walk()
            elif isinstance(child, list):
                for item in child:
                    if isinstance(item, Node):
                        yield from item.walk()
                    elif isinstance(item, tuple):
                        for sub in item:
                            if isinstance(sub, Node):
                                yield from sub.walk()


class Const(Node):
    def __init__(self, value: Any) -> None:
        self.value = value

    def compute(self, frame: Frame) -> Any:
        return self.value


class Var(Node):
    def __init__(self, name: str) -> None:
        self.name = name

    def compute(self, frame: Frame) -> Any:
        return frame.variables[self.name]


class Pointer(Node):
    def __init__(self, name: str | None) -> None:
        self.name = name

    def compute(self, frame: Frame) -> Any:
        if not frame.in_predicate:
            raise ExprError("# used outside of a predicate")
        if self.name is None:
            return frame.pointer
        if self.name == "index":
            return frame.index
        if self.name == "acc":
            return frame.acc
        return fetch(frame.pointer, self.name, optional=False)


class Member(Node):
    children = ("target", "key")

    def __init__(self, target: Node, key: Node, *, optional: bool) -> None:
        self.target = target
        self.key = key
        self.optional = optional

    def compute(self, frame: Frame) -> Any:
        container = self.target.ev(frame)
        if container is None and self.optional:
            return None
        return fetch(container, self.key.ev(frame), optional=self.optional)


class Slice(Node):
    children = ("target", "low", "high")

    def __init__(self, target: Node, low: Node | None, high: Node | None) -> None:
        self.target = target
        self.low = low
        self.high = high

    def compute(self, frame: Frame) -> Any:
        container = self.target.ev(frame)
        if not isinstance(container, list | tuple | str):
            raise ExprError(f"cannot slice {type_name(container)}")
        low = 0 if self.low is None else to_int(self.low.ev(frame), "slice index")
        high = len(container) if self.high is None else to_int(self.high.ev(frame), "slice index")
        result = container[low:high]
        frame.budget.charge_size(result)
        return result


class Unary(Node):
    children = ("operand",)
    builds = True

    def __init__(self, op: str, operand: Node) -> None:
        self.op = op
        self.operand = operand

    def compute(self, frame: Frame) -> Any:
        value = self.operand.ev(frame)
        if self.op in ("!", "not"):
            return not truth(value, self.op)
        if not is_number(value):
            raise ExprError(f"invalid operation: {self.op}{type_name(value)}")
        return -value if self.op == "-" else value


class Binary(Node):
    children = ("left", "right")
    builds = True

    def __init__(self, op: str, left: Node, right: Node, *, negate: bool = False) -> None:
        self.op = op
        self.left = left
        self.right = right
        self.negate = negate

    def compute(self, frame: Frame) -> Any:
        op = self.op
        left = self.left.ev(frame)
        if op in ("||", "or"):
            return truth(left, op) or truth(self.right.ev(frame), op)
        if op in ("&&", "and"):
            return truth(left, op) and truth(self.right.ev(frame), op)
        right = self.right.ev(frame)
        self._charge_operands(frame.budget, left, right)
        result: Any
        if op == "==":
            result = equal(left, right)
        elif op == "!=":
            result = not equal(left, right)
        elif op in ("<", ">", "<=", ">="):
            result = less(left, right, op=op)
        elif op == "in":
            result = is_in(left, right)
        elif op in ("contains", "startsWith", "endsWith", "matches"):
            result = string_op(left, right, op=op)
        elif op == "..":
            low, high = to_int(left, ".."), to_int(right, "..")
            check_collection(high - low + 1, "range")
            result = list(range(low, high + 1))
        else:
            result = arith(left, right, op=op)
        return (not result) if self.negate else result

    def _charge_operands(self, budget: Budget, left: Any, right: Any) -> None:
        """Charge what the operator reads: all of both sides when comparing arrays or maps, else their top level."""
        if self.op in ("==", "!=", "in") and (
            isinstance(left, list | tuple | dict) or isinstance(right, list | tuple | dict)
        ):
            budget.charge_deep(left)
            budget.charge_deep(right)
        else:
            budget.charge_size(left)
            budget.charge_size(right)
            if self.op == "matches" and isinstance(left, str) and isinstance(right, str):
                budget.charge(match_cost(left, right))


class Ternary(Node):
    children = ("cond", "then", "otherwise")

    def __init__(self, cond: Node, then: Node, otherwise: Node) -> None:
        self.cond = cond
        self.then = then
        self.otherwise = otherwise

    def compute(self, frame: Frame) -> Any:
        if truth(self.cond.ev(frame), "?:"):
            return self.then.ev(frame)
        return self.otherwise.ev(frame)


class Coalesce(Node):
    children = ("left", "right")

    def __init__(self, left: Node, right: Node) -> None:
        self.left = left
        self.right = right

    def compute(self, frame: Frame) -> Any:
        try:
            value = self.left.ev(frame)
        except ExprError:
            # `result.a.b ?? 0`: a missing link in the chain reads as nil, like expr.
            value = None
        return self.right.ev(frame) if value is None else value


class ArrayLiteral(Node):
    children = ("items",)
    builds = True

    def __init__(self, items: list[Node]) -> None:
        self.items = items

    def compute(self, frame: Frame) -> Any:
        return [item.ev(frame) for item in self.items]


class MapLiteral(Node):
    children = ("pairs",)
    builds = True

    def __init__(self, pairs: list[tuple[Node, Node]]) -> None:
        self.pairs = pairs

    def compute(self, frame: Frame) -> Any:
        return {key.ev(frame): value.ev(frame) for key, value in self.pairs}


class ClosureLiteral(Node):
    """`{ ... }` in argument position: the predicate of all/any/filter/...."""

    children = ("body",)

    def __init__(self, body: Node) -> None:
        self.body = body

    def compute(self, frame: Frame) -> Any:
        raise ExprError("a predicate { ... } can only be an argument of a builtin such as all()")


@dataclass(slots=True)
class Closure(Predicate):
    body: Node
    frame: Frame

    def __call__(self, element: Any, index: int, acc: Any = None) -> Any:
        return self.body.ev(self.frame.enter_predicate(element=element, index=index, acc=acc))


NOW_VARIABLE = "$now"


class Now(Node):
    """now(): the instant the caller passes as the `$now` variable, else the wall clock."""

    def compute(self, frame: Frame) -> Any:
        now = frame.variables.get(NOW_VARIABLE)
        return now if isinstance(now, datetime) else datetime.now(UTC)


class Call(Node):
    children = ("args",)

    def __init__(self, name: str, args: list[Node]) -> None:
        self.name = name
        self.args = args
        self.impl = BUILTINS[name]
        self.builds = name in BUILDING_BUILTINS

    def compute(self, frame: Frame) -> Any:
        if self.name in PREDICATE_BUILTINS:
            values: list[Any] = [self.args[0].ev(frame)]
            for arg in self.args[1:2]:
                body = arg.body if isinstance(arg, ClosureLiteral) else arg
                values.append(Closure(body, frame))
            values.extend(arg.ev(frame) for arg in self.args[2:])
        else:
            values = [arg.ev(frame) for arg in self.args]
        self._charge_arguments(frame.budget, values)
        try:
            result = self.impl(*values)
        except ExprError:
            raise
        except (TypeError, ValueError, OverflowError, ZeroDivisionError, KeyError) as err:
            raise ExprError(f"{self.name}(): {err}") from err
        if isinstance(result, int) and not isinstance(result, bool):
            check_int(result)
        return result

    def _charge_arguments(self, budget: Budget, values: list[Any]) -> None:
        """Charge, before the call, what the builtin will read of its arguments (see `functions.py`)."""
        if self.name in CONSTANT_COST_BUILTINS:
            return
        deep = self.name in DEEP_COST_BUILTINS
        for value in values:
            if deep:
                budget.charge_deep(value)
            else:
                budget.charge_size(value)
