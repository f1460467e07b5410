"""The evaluation budget: adversarial conditions stop with an ExprError naming the budget they exceeded.

These never assert on elapsed time: each input would run for seconds, take
gigabytes or crash with a RecursionError without the budget, so reaching the
ExprError at all is the proof the work was bounded.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.analysis.expr import ExprError, ExprSyntaxError, compile_expression, evaluate, evaluate_condition
from rollouts.analysis.expr.budget import (
    MAX_COLLECTION,
    MAX_DEPTH,
    MAX_INT_BITS,
    MAX_SOURCE_CHARS,
    MAX_STEPS,
    MAX_STRING,
    MAX_TIME_TEXT_CHARS,
)

STEPS = f"evaluation budget of {MAX_STEPS} steps"
COLLECTION = f"collection budget of {MAX_COLLECTION}"
STRING = f"string budget of {MAX_STRING}"
INTEGER = f"integer budget of {MAX_INT_BITS} bits"
NESTING = f"nesting budget of {MAX_DEPTH} levels"
TIME_TEXT = f"time text budget of {MAX_TIME_TEXT_CHARS}"


@pytest.mark.parametrize(
    ("source", "variables", "budget"),
    [
        # Repeated squaring: 3 ** (2 ** 64) as an exact integer.
        ("reduce(1..64, #acc * #acc, 3)", {}, INTEGER),
        ("reduce(2..64, #acc * #acc)", {}, INTEGER),
        ("x * x * x", {"x": 2**2000}, INTEGER),
        # Ranges and builders refused before they allocate.
        ("len(0..10**7)", {}, COLLECTION),
        ("len(0..10000000)", {}, COLLECTION),
        ("len(-5000000..5000000)", {}, COLLECTION),
        ("len(repeat('ab', 10000000))", {}, STRING),
        ("len(reduce(1..40, #acc + #acc, 'ab'))", {}, STRING),
        ("len(reduce(1..40, #acc + #acc, [1]))", {}, COLLECTION),
        ("len(join(0..9999 | map('x'), repeat('y', 1000)))", {}, STRING),
        ("len(replace(repeat('a', 10000), 'a', repeat('b', 1000)))", {}, STRING),
        ("len(split(repeat(',', 20000), ','))", {}, COLLECTION),
        ("len(concat(x, x, x))", {"x": list(range(5000))}, COLLECTION),
        ("len(map(x, #))", {"x": list(range(MAX_COLLECTION + 1))}, COLLECTION),
        ("len(filter(x, true))", {"x": list(range(MAX_COLLECTION + 1))}, COLLECTION),
        # Loops: the step budget covers predicate bodies, however nested.
        ("all(0..9999, {all(0..9999, {# >= 0})})", {}, STEPS),
        ("reduce(0..9999, reduce(0..9999, #acc + #, 0), 0)", {}, STEPS),
        ("all(0..9999, {# in x})", {"x": list(range(10000))}, STEPS),
        ("all(0..9999, {x == x})", {"x": list(range(10000))}, STEPS),
        # A value sharing one big array many times over is walked only up to the budget.
        ("len(toJSON(map(0..9999, {x})))", {"x": list(range(10000))}, STEPS),
        ("len(string(map(0..9999, {x})))", {"x": list(range(10000))}, STEPS),
        ("len(flatten(map(0..9999, {x})))", {"x": list(range(10000))}, STEPS),
        # RE2's cost grows with text x pattern size once its DFA gives up: charged before matching.
        ("x matches 'x{1,1000}x{1,1000}z'", {"x": "x" * (1 << 20)}, STEPS),
        ("x matches x", {"x": "x" * 100_000}, STEPS),
        # The shared duration parser is quadratic: long text is refused unread.
        ("duration(x) > duration('1s')", {"x": "1" * 30000 + "x"}, TIME_TEXT),
        # strptime builds a regular expression from the layout.
        ("date('2024', repeat('2006', 25000)) != nil", {}, TIME_TEXT),
        ("date(repeat('2', 100000), '2006') != nil", {}, TIME_TEXT),
    ],
)
def test_adversarial_conditions_exceed_a_named_budget(source: str, variables: dict[str, Any], budget: str) -> None:
    with pytest.raises(ExprError, match=budget):
        evaluate(source, variables)


@pytest.mark.parametrize(
    "source",
    [
        "(1+" * 490 + "1" + ")" * 490,
        "[" * 246 + "1" + "]" * 246,
        "+".join(["1"] * 900),
        "-" * 900 + "1",
        "!" * 900 + "true",
        "len(" * 300 + "result" + ")" * 300,
        "result" + ".a" * 900,
        "result" + "[0]" * 600,
        "1 ?? " * 300 + "1",
    ],
)
def test_deep_source_is_a_syntax_error_naming_the_nesting_budget(source: str) -> None:
    with pytest.raises(ExprSyntaxError, match=NESTING) as caught:
        compile_expression(source)
    assert caught.value.line >= 1 and caught.value.column >= 1


def test_brackets_are_counted_before_parsing_and_strings_are_skipped() -> None:
    assert evaluate("(" * 100 + "1" + ")" * 100, {}) == 1
    with pytest.raises(ExprSyntaxError, match=NESTING) as caught:
        compile_expression("(" * 490 + "1" + ")" * 490)
    assert (caught.value.line, caught.value.column) == (1, 101)
    with pytest.raises(ExprSyntaxError, match=NESTING) as caught:
        compile_expression("1 +\n" + "(" * 101 + "1" + ")" * 101)
    assert (caught.value.line, caught.value.column) == (2, 101)
    # Brackets inside string literals are text, not nesting.
    assert evaluate("len('" + "(" * 500 + '\') + len("[\\"' + "[" * 500 + '")', {}) == 1002


def test_long_source_is_a_syntax_error_naming_the_source_budget() -> None:
    with pytest.raises(ExprSyntaxError, match=f"source budget of {MAX_SOURCE_CHARS}"):
        compile_expression("result == 1 || " * 1000 + "true")


def test_nesting_within_the_budget_compiles_and_evaluates() -> None:
    assert evaluate("(1+" * 45 + "1" + ")" * 45, {}) == 46
    nested: Any = 1
    for _ in range(45):
        nested = [nested]
    assert evaluate("[" * 45 + "1" + "]" * 45, {}) == nested


def test_deeply_nested_values_built_at_runtime_are_expr_errors() -> None:
    nested = "reduce(1..5000, [#acc], 0)"
    for source in (f"toJSON({nested})", f"string({nested})", f"{nested} == {nested}", f"flatten({nested})"):
        with pytest.raises(ExprError):
            evaluate(source, {})


def test_uniq_is_linear_and_keeps_equal_semantics() -> None:
    assert evaluate("len(uniq(map(0..4999, {[# % 10]})))", {}) == 10
    assert evaluate("uniq([1, 1.0, true, 1, 'a', 'a', [1], [1.0], {'a': 1}, {'a': 1}])", {}) == [
        1,
        True,
        "a",
        [1],
        {"a": 1},
    ]
    # NaN equals nothing, so each NaN stays.
    assert len(evaluate("uniq([x, x, 1])", {"x": float("nan")})) == 3


def test_realistic_conditions_fit_the_budget() -> None:
    samples = [0.5] * MAX_COLLECTION
    assert evaluate_condition("all(result, {# < 1})", samples) is True
    assert evaluate_condition("len(result) == 0 || mean(result) < 0.9", samples) is True
    assert evaluate_condition("count(result, {# > 0.4}) == len(result)", samples) is True
    assert evaluate_condition("len(filter(result, # > 0.4)) > 0", samples) is True
    # Inputs longer than the collection budget can still be read, just not copied.
    big = list(range(3 * MAX_COLLECTION))
    assert evaluate_condition("len(result) > 0 && result[-1] > 0 && any(result, {# == 5})", big) is True
    # In-range integers keep expr-lang's results.
    assert evaluate("9223372036854775807 - 1", {}) == 9223372036854775806
    assert evaluate("reduce(1..20, #acc * #)", {}) == 2432902008176640000


def test_the_budget_is_per_evaluation() -> None:
    compiled = compile_expression("reduce(0..9999, #acc + #, 0) > 0")
    for _ in range(5):
        assert compiled.evaluate({"result": None}) is True


# Random expressions built from pieces that are costly when combined: each either
# evaluates or stops with an ExprError, never another exception.
_LEAVES = st.sampled_from(["1", "2", "9999", "10**7", "'ab'", "[1, 2]", "result", "#", "#acc", "true", "nil"])


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda p: f"({p[0]} * {p[1]})"),
        pair.map(lambda p: f"({p[0]} + {p[1]})"),
        pair.map(lambda p: f"({p[0]}..{p[1]})"),
        pair.map(lambda p: f"repeat({p[0]}, {p[1]})"),
        pair.map(lambda p: f"reduce({p[0]}, {p[1]}, 1)"),
        pair.map(lambda p: f"map({p[0]}, {{{p[1]}}})"),
        pair.map(lambda p: f"all({p[0]}, {{{p[1]}}})"),
        pair.map(lambda p: f"({p[0]} in {p[1]})"),
        pair.map(lambda p: f"({p[0]} matches {p[1]})"),
        pair.map(lambda p: f"join({p[0]}, {p[1]})"),
        children.map(lambda c: f"[{c}, {c}]"),
        children.map(lambda c: f"toJSON({c})"),
        children.map(lambda c: f"uniq({c})"),
        children.map(lambda c: f"flatten({c})"),
        children.map(lambda c: f"len({c})"),
        children.map(lambda c: f"-({c})"),
    )


_EXPRESSIONS = st.recursive(_LEAVES, _combine, max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(_EXPRESSIONS, st.sampled_from([None, 7, [1, 2, 3], list(range(MAX_COLLECTION)), "x" * 1000]))
def test_random_costly_expressions_evaluate_or_raise_expr_error(source: str, result: Any) -> None:
    try:
        compiled = compile_expression(source)
    except ExprSyntaxError:
        return
    with contextlib.suppress(ExprError):
        compiled.evaluate({"result": result})


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 600), st.sampled_from(["(1+", "[", "len(", "-", "!", "f(", "{", "(", "x ?? "]))
def test_random_deep_source_compiles_or_is_a_syntax_error(depth: int, opener: str) -> None:
    closer = {"(1+": ")", "[": "]", "len(": ")", "f(": ")", "{": "}", "(": ")"}.get(opener, "")
    source = opener * depth + "1" + closer * depth
    try:
        compiled = compile_expression(source)
    except ExprSyntaxError as err:
        assert err.line >= 1 and err.column >= 1
        return
    with contextlib.suppress(ExprError):
        compiled.evaluate({"result": None})
