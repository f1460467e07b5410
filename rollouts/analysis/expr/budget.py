"""How much one condition may cost: the limits of the condition language and the per-evaluation budget.

The controller evaluates every tenant's analysis conditions on the one asyncio
loop that also renews the leader Lease, so a single condition must never stall
it: not with a long loop (`reduce` over a big range), not with memory
(`0..10**7`, `repeat`), not with huge integers (repeated squaring), not with
deep source (hundreds of nested parentheses). Every such case becomes an
`ExprError` naming the budget it exceeded, which the analysis turns into a
measurement Error like any other bad condition.

The numbers are here, once, with why they are what they are:

- `MAX_STEPS` (100,000): one step is one node evaluated, plus one per element
  (or per `STRING_CHARS_PER_STEP` characters) an operation reads or builds. A
  step costs about a microsecond, so a condition stops within roughly 0.1 s.
  Argo's documented conditions take tens of steps; `all(result, {# < 1})` over
  10,000 samples takes about 40,000.
- `MAX_COLLECTION` (10,000 elements): arrays and maps an expression builds
  (ranges, literals, map/filter/concat/split results). Conditions look at a
  metric's few values, not at tens of thousands of them.
- `MAX_STRING` (1 MiB): strings an expression builds (`+`, repeat, join,
  replace, toJSON). Metric results are read as they are; only new strings count.
- `MAX_INT_BITS` (4,096): expr-lang's integers are Go's 64-bit ints, so no Go
  result needs more; Python's unbounded ints past this size only come from
  runaway arithmetic such as repeated squaring. In-range results are unchanged.
- `MAX_SOURCE_CHARS` (2 KiB): real conditions are a line or two (Argo's
  documented ones are under 100 characters); parsing costs up to about 40
  microseconds of CPU per token, so 2 KiB of source compiles (once, then
  cached) within about 75 ms even when every character is a token.
- `MAX_TIME_TEXT_CHARS` (256): `duration("5m")` and `date(text, layout)`
  take Go durations, timestamps and layouts, a few dozen characters at most;
  the shared duration parser is quadratic in its input and strptime builds a
  regular expression from the layout, so longer text is refused unread.
- `MAX_DEPTH` (100 levels of the syntax tree; each call, array or map adds
  two): compiling and evaluating recurse once per level, so this keeps both
  far from Python's recursion limit, and deep source is a syntax error with a
  position instead of a RecursionError.
"""

from __future__ import annotations

from typing import Any

from rollouts.analysis.expr.errors import ExprError

__all__ = [
    "MAX_COLLECTION",
    "MAX_DEPTH",
    "MAX_INT_BITS",
    "MAX_SOURCE_CHARS",
    "MAX_STEPS",
    "MAX_STRING",
    "MAX_TIME_TEXT_CHARS",
    "STRING_CHARS_PER_STEP",
    "Budget",
    "check_collection",
    "check_int",
    "check_string",
]

MAX_STEPS = 100_000
MAX_COLLECTION = 10_000
MAX_STRING = 1 << 20
MAX_INT_BITS = 4096
MAX_SOURCE_CHARS = 2048
MAX_DEPTH = 100
MAX_TIME_TEXT_CHARS = 256
STRING_CHARS_PER_STEP = 1024


def check_collection(length: int, what: str) -> None:
    """Refuse, before it is built, an array or map of `length` elements past `MAX_COLLECTION`."""
    if length > MAX_COLLECTION:
        raise ExprError(f"{what} would have {length} elements, over the collection budget of {MAX_COLLECTION}")


def check_string(length: int, what: str) -> None:
    """Refuse, before it is built, a string of `length` characters past `MAX_STRING`."""
    if length > MAX_STRING:
        raise ExprError(f"{what} would be {length} characters long, over the string budget of {MAX_STRING}")


def check_int(value: int) -> int:
    """`value`, unless it needs more than `MAX_INT_BITS` bits (no Go int64 result does)."""
    if value.bit_length() > MAX_INT_BITS:
        raise ExprError(f"integer result exceeds the integer budget of {MAX_INT_BITS} bits")
    return value


class Budget:
    """The steps one evaluation has left; shared by its root frame and every predicate frame."""

    __slots__ = ("steps",)

    def __init__(self, steps: int = MAX_STEPS) -> None:
        self.steps = steps

    def charge(self, steps: int) -> None:
        """Spend `steps`; past the budget the evaluation stops with an `ExprError`."""
        self.steps -= steps
        if self.steps < 0:
            raise ExprError(f"expression exceeded its evaluation budget of {MAX_STEPS} steps")

    def charge_size(self, value: Any) -> None:
        """Spend what reading or building `value`'s top level costs: its elements, or its characters."""
        kind = type(value)
        if kind is list or kind is dict or kind is tuple:
            self.charge(len(value))
        elif kind is str:
            self.charge(len(value) // STRING_CHARS_PER_STEP)

    def charge_deep(self, value: Any) -> None:
        """Spend what walking all of `value` costs (comparison, JSON, flatten), stopping once over budget.

        The walk is iterative and charges as it goes, so a value that shares one
        big array many times over costs its walk only up to the budget.
        """
        pending = [value]
        while pending:
            item = pending.pop()
            if isinstance(item, list | tuple):
                self.charge(len(item) + 1)
                pending.extend(item)
            elif isinstance(item, dict):
                self.charge(len(item) + 1)
                pending.extend(item.values())
            elif isinstance(item, str):
                self.charge(len(item) // STRING_CHARS_PER_STEP)

    def admit(self, value: Any) -> Any:
        """`value`, a result the expression built, within the size budgets; its size is charged."""
        kind = type(value)
        if kind is bool or kind is float or value is None:
            return value
        if kind is int:
            return check_int(value)
        if kind is str:
            check_string(len(value), "string result")
        elif kind is list or kind is dict or kind is tuple:
            check_collection(len(value), "result")
        self.charge_size(value)
        return value
