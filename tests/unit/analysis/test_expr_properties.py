"""Property tests: any text compiles or fails with ExprSyntaxError; evaluation fails only with ExprError."""

from __future__ import annotations

import contextlib
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.analysis.expr import ExprError, ExprSyntaxError, compile_expression, evaluate

TOKENS = [
    "result",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    ".",
    "?.",
    "#",
    ",",
    ":",
    "?",
    "??",
    "0",
    "1",
    "2.5",
    "-",
    "+",
    "*",
    "/",
    "%",
    "**",
    "==",
    "!=",
    "<",
    ">=",
    "&&",
    "||",
    "!",
    "not",
    "in",
    "and",
    "or",
    "'a'",
    '"b"',
    "true",
    "nil",
    "len",
    "all",
    "map",
    "filter",
    "min",
    "default",
    "isNaN",
    "asInt",
    "x",
    "..",
    "contains",
    "matches",
    " ",
]

results = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["a", "b", "x"]), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12), results)
def test_token_soup_never_crashes(tokens: list[str], result: Any) -> None:
    source = " ".join(tokens)
    try:
        compiled = compile_expression(source)
    except ExprSyntaxError as err:
        assert err.line >= 1 and err.column >= 1
        return
    with contextlib.suppress(ExprError):
        compiled.evaluate({"result": result})


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_text_compiles_or_is_a_syntax_error(source: str) -> None:
    with contextlib.suppress(ExprSyntaxError):
        compile_expression(source)


@settings(max_examples=300, deadline=None)
@given(st.integers(-(10**9), 10**9), st.integers(-(10**9), 10**9))
def test_integer_arithmetic_matches_go(a: int, b: int) -> None:
    env = {"a": a, "b": b}
    assert evaluate("a + b", env) == a + b
    assert evaluate("a - b", env) == a - b
    assert evaluate("a * b", env) == a * b
    if b != 0:
        # Go truncates the quotient toward zero; the remainder has the dividend's sign.
        quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b > 0) else -1)
        assert evaluate("a % b", env) == a - b * quotient
        assert math.isclose(evaluate("a / b", env), a / b)
    assert evaluate("a < b", env) is (a < b)
    assert evaluate("a == b", env) is (a == b)
