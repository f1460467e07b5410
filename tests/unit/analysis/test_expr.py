"""The condition language: Argo's documented conditions, expr-lang semantics, errors with positions."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.analysis.expr import (
    ExprError,
    ExprSyntaxError,
    compile_expression,
    evaluate,
    evaluate_condition,
    evaluate_time,
)

NAN = math.nan
INF = math.inf

# (condition, result, expected) — conditions as written in Argo's documentation and examples.
ARGO_CONDITIONS: list[tuple[str, Any, bool]] = [
    ("result[0] >= 0.95", [0.97], True),
    ("result[0] >= 0.95", [0.9], False),
    ("result[0] >= 0.90", [0.9], True),
    ("result[0] >= 0.99", [0.991], True),
    ("result[0] <= 0.01", [0.02], False),
    ("result[0] <= 0.95", [0.5], True),
    ("result[0] < 0.50", [0.49], True),
    ("result[0] >= 10", [10.0], True),
    ("result >= 0.95", 0.96, True),
    ("result <= 0.01", 0.01, True),
    ("result < 0.95", 0.95, False),
    ("len(result) == 0 || result[0] < 0.05", [], True),
    ("len(result) == 0 || result[0] < 0.05", [0.2], False),
    ("len(result) == 0 || result[0] >= 0.95", [0.99], True),
    ("len(result) > 0 && result[0] >= 0.95", [], False),
    ("len(result) > 0 && result[0] >= 0.95", [0.96], True),
    ("result.status == 'ok'", {"status": "ok"}, True),
    ("result.status == 'ok'", {"status": "down"}, False),
    ("result.successRate >= 0.95", {"successRate": 0.97}, True),
    ("result.ok && result.successPercent >= 0.90", {"ok": True, "successPercent": 0.91}, True),
    ("result.ok && result.successPercent >= 0.90", {"ok": False, "successPercent": 0.99}, False),
    ("result.major == '1'", {"major": "1", "minor": "30"}, True),
    ("result.Status == 999", {"Status": 999}, True),
    ("result.Status == -1", {"Status": -1.0}, True),
    ("all(result, {# < 1})", [0.1, 0.9], True),
    ("all(result, {# < 1})", [0.1, 1.0], False),
    ("all(result, # < 1000)", [1, 999], True),
    (
        "all(result.service_apdex.values.values, {asFloat(.value) >= 9900})",
        {"service_apdex": {"values": {"values": [{"value": "9950"}, {"value": "9901.5"}]}}},
        True,
    ),
    (
        "len(result[0].Values) >= 5 and all(result[0].Values, {# <= 0.01})",
        [{"Values": [0.0, 0.001, 0.002, 0.01, 0.0]}],
        True,
    ),
    (
        "len(result[0].Values) >= 5 and all(result[0].Values, {# <= 0.01})",
        [{"Values": [0.0, 0.02]}],
        False,
    ),
    ("isNaN(result) || result >= 0.95", NAN, True),
    ("isNaN(result) || result >= 0.95", 0.5, False),
    ("isInf(result)", INF, True),
    ("isInf(result)", -INF, True),
    ("isInf(result)", 1.0, False),
    ("default(result, 0) > 2", None, False),
    ("default(result, 0) > 2", 3.0, True),
    ("default(result, 0) < 0.05", None, True),
    ("default(result, 0) < 10", 12, False),
    ("max(result) < 0.05", [0.01, 0.04], True),
    ("max(result) < 0.05", [0.01, 0.06], False),
    ('result == "I am OK"', "I am OK", True),
    ("result == 'It worked!'", "It worked!", True),
    ("result == 'true'", "true", True),
    ("result == true", True, True),
    ("result == true", "true", False),
    ("asInt(result) == 1", "1", True),
    ("asInt(result) == 1", 1, True),
    ("asInt(result) == 1", 1.123, True),
    ("asFloat(result) == 1.1", "1.1", True),
    ("asFloat(result) >= 1.1", "1.1", True),
    ("asFloat(result) <= 1.1", "1.1", True),
    ("asFloat(result) == 1", 1, True),
    ("2 in result", [1.0, 2.0, 3.0], True),
    ("result > 1", 5.0, True),
    ("isNil(result)", None, True),
    ("isNil(result)", [1], False),
    ("true", None, True),
]


@pytest.mark.parametrize(("condition", "result", "expected"), ARGO_CONDITIONS)
def test_argo_documented_conditions(condition: str, result: Any, expected: bool) -> None:
    assert evaluate_condition(condition, result) is expected


def ev(source: str, result: Any = None) -> Any:
    return evaluate(source, {"result": result})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # literals
        ("1", 1),
        ("1.5", 1.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("1_000", 1000),
        ("0x1F", 31),
        ("'single'", "single"),
        ('"dou\\"ble"', 'dou"ble'),
        ('"tab\\tnew\\n"', "tab\tnew\n"),
        ('"\\u00e9"', "é"),
        ("`raw\\n`", "raw\\n"),
        ("true", True),
        ("nil", None),
        ("[1, 'a', [2]]", [1, "a", [2]]),
        ("{a: 1, 'b c': 2, 3: 4}", {"a": 1, "b c": 2, 3: 4}),
        ("{}", {}),
        ("[]", []),
        # int vs float arithmetic (Go / expr)
        ("1 + 2", 3),
        ("1 + 2.0", 3.0),
        ("7 / 2", 3.5),
        ("6 / 2", 3.0),
        ("7 % 3", 1),
        ("-7 % 3", -1),
        ("7 % -3", 1),
        ("2 ** 10", 1024.0),
        ("2 ^ 3", 8.0),
        ("2 ** 3 ** 2", 512.0),
        ("-2 ** 2", -4.0),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 2 - 3", 5),
        ("1 / 0", INF),
        ("-1 / 0", -INF),
        ("'a' + 'b'", "ab"),
        ("[1] + [2]", [1, 2]),
        # comparisons
        ("1 == 1.0", True),
        ("1 < 1.5", True),
        ("'a' < 'b'", True),
        ("true == 1", False),
        ("nil == nil", True),
        ("[1, 2] == [1.0, 2.0]", True),
        ("{a: 1} == {a: 1}", True),
        ("1 != 2", True),
        # booleans, worded and symbolic
        ("true && false", False),
        ("true and not false", True),
        ("false || true", True),
        ("false or false", False),
        ("!true", False),
        ("not (1 > 2)", True),
        ("!(1 > 2) && 2 > 1", True),
        # membership and strings
        ("1 in [1, 2]", True),
        ("3 not in [1, 2]", True),
        ("'a' in {a: 1}", True),
        ("'hello' contains 'ell'", True),
        ("'hello' not contains 'x'", True),
        ("'hello' startsWith 'he'", True),
        ("'hello' endsWith 'lo'", True),
        ("'hello' matches '^h.*o$'", True),
        ("'hello' not matches '^x'", True),
        # ternary, ??, ranges, slices
        ("1 > 2 ? 'a' : 'b'", "b"),
        ("true ? 1 : false ? 2 : 3", 1),
        ("nil ?? 5", 5),
        ("0 ?? 5", 0),
        ("1..3", [1, 2, 3]),
        ("[1, 2, 3, 4][1:3]", [2, 3]),
        ("[1, 2, 3][:2]", [1, 2]),
        ("[1, 2, 3][1:]", [2, 3]),
        ("[1, 2, 3][-1]", 3),
        ("'abc'[0]", "a"),
        # pipes
        ("[1, 2, 3] | filter(# > 1) | len()", 2),
        ("[1, 2] | map(# * 2) | sum()", 6),
        ("'a,b' | split(',')", ["a", "b"]),
        # builtins
        ("len('abc')", 3),
        ("len({a: 1})", 1),
        ("abs(-2)", 2),
        ("abs(-2.5)", 2.5),
        ("floor(1.7)", 1.0),
        ("ceil(1.2)", 2.0),
        ("round(2.5)", 3.0),
        ("round(-2.5)", -3.0),
        ("min(3, 1, 2)", 1),
        ("max([3, 1], 5)", 5),
        ("mean([1, 2, 3])", 2.0),
        ("median([3, 1, 2, 4])", 2.5),
        ("sum([1, 2, 3])", 6),
        ("sum([1, 2], # * 10)", 30),
        ("count([1, 2, 3], # > 1)", 2),
        ("any([1, 2], # > 1)", True),
        ("none([1, 2], # > 5)", True),
        ("one([1, 2, 3], # > 2)", True),
        ("one([1, 2, 3], # > 1)", False),
        ("filter([1, 2, 3], # % 2 == 1)", [1, 3]),
        ("map([1, 2], {# * 2})", [2, 4]),
        ("map([{v: 1}, {v: 2}], .v)", [1, 2]),
        ("map([1, 2], #index)", [0, 1]),
        ("find([1, 2, 3], # > 1)", 2),
        ("findIndex([1, 2, 3], # > 1)", 1),
        ("findLast([1, 2, 3], # > 1)", 3),
        ("findLastIndex([1, 2, 3], # > 5)", -1),
        ("reduce([1, 2, 3], #acc + #)", 6),
        ("reduce([1, 2, 3], #acc + #, 10)", 16),
        ("all([[1, 2], [3]], {all(#, # > 0)})", True),
        ("int('42') + int(2.9)", 44),
        ("float('1.5')", 1.5),
        ("string(1)", "1"),
        ("upper('a') + lower('B')", "Ab"),
        ("split('a,b', ',')", ["a", "b"]),
        ("trim('  a ')", "a"),
        ("join(['a', 'b'], '-')", "a-b"),
        ("first([1, 2])", 1),
        ("last([1, 2])", 2),
        ("keys({a: 1})", ["a"]),
        ("values({a: 1})", [1]),
        ("get([1], 5)", None),
        ("sort([3, 1, 2])", [1, 2, 3]),
        ("reverse([1, 2])", [2, 1]),
        ("uniq([1, 1, 2])", [1, 2]),
        ("flatten([[1], [2, [3]]])", [1, 2, 3]),
        ("concat([1], [2])", [1, 2]),
        ("fromJSON('{\"a\": 1}').a", 1),
        ("type(1.5)", "float"),
        ("asFloat('1e3')", 1000.0),
        ("isNaN(0)", False),
    ],
)
def test_expression_values(source: str, expected: Any) -> None:
    value = ev(source)
    if isinstance(expected, float) and math.isinf(expected):
        assert value == expected
    else:
        assert value == expected
        assert type(value) is type(expected)


def test_member_access_on_results() -> None:
    result = {"data": {"items": [{"v": 1}, {"v": 2}]}, "name": "x"}
    assert ev("result.data.items[1].v", result) == 2
    assert ev("result['data']['items'][0]['v']", result) == 1
    assert ev("result.missing", result) is None
    assert ev("result?.missing?.deeper", result) is None
    assert ev("result.missing?.deeper", result) is None
    assert ev("result.missing.deeper ?? 'fallback'", result) == "fallback"
    assert ev("result?.name", None) is None
    assert ev("result?.[0]", None) is None


def test_nan_compares_false_like_go() -> None:
    assert ev("result > 0.5", NAN) is False
    assert ev("result < 0.5", NAN) is False
    assert ev("result == result", NAN) is False
    assert ev("result != result", NAN) is True


@pytest.mark.parametrize(
    ("source", "result", "message"),
    [
        ("result[0] >= 0.95", [], "index out of range"),
        ("result[0] >= 0.95", None, "cannot fetch"),
        ("result.field", None, "cannot fetch"),
        ("result > 1", "abc", "mismatched types"),
        ("result + 1", "abc", "mismatched types"),
        ("1.5 % 2", None, "invalid operation"),
        ("1 % 0", None, "divide by zero"),
        ("result && true", 1, "needs a bool"),
        ("!result", 1, "needs a bool"),
        ("result ? 1 : 2", "x", "needs a bool"),
        ("len(result)", 5, "invalid argument for len"),
        ("all(result, # > 1)", 5, "needs an array"),
        ("filter([1], 'x')", None, "must return a bool"),
        ("asInt(result)", "1.1", "invalid syntax"),
        ("asInt(result)", "notint", "invalid syntax"),
        ("asFloat(result)", "NotANum", 'parsing "NotANum": invalid syntax'),
        ("asFloat(result)", [1], "not supported"),
        ("isNaN(result)", "x", "needs a number"),
        ("'a' matches '('", None, "invalid regular expression"),
        ("result in 5", None, "not defined"),
        ("# > 1", None, "outside of a predicate"),
        ("reduce([], #acc)", None, "empty array"),
    ],
)
def test_evaluation_errors_are_expr_errors(source: str, result: Any, message: str) -> None:
    with pytest.raises(ExprError, match=message) as info:
        ev(source, result)
    assert not isinstance(info.value, ExprSyntaxError)


def test_condition_must_be_bool() -> None:
    with pytest.raises(ExprError, match="expected bool, but got int"):
        evaluate_condition("1", True)
    with pytest.raises(ExprError, match="expected bool, but got nil"):
        evaluate_condition("result", None)


@pytest.mark.parametrize(
    ("source", "line", "column", "message"),
    [
        ("result >", 1, 9, "unexpected end of expression"),
        ("result[0", 1, 9, "unexpected end of expression"),
        ("(1 + ", 1, 6, "unexpected end of expression"),
        ("result >= 1 @", 1, 13, "unexpected character '@'"),
        ("result >= = 1", 1, 11, "unexpected character '='"),
        ("result >=\n  (1 +", 2, 7, "unexpected end of expression"),
        ("result ==\n  ]", 2, 3, "unexpected token ']'"),
        ("invalidVariable", 1, 1, "unknown name invalidVariable"),
        ("results[0] >= 90.000000", 1, 1, "unknown name results"),
        ("result > 1 && foo(2)", 1, 15, "unknown func foo"),
        ("len(1, 2)", 1, 1, "invalid number of arguments for len"),
        ("{# > 1}", 1, 1, "predicate"),
        ("'unterminated", 1, 1, "unexpected character"),
        ("   ", 1, 1, "empty expression"),
        ("result.Name() == 'hi'", 1, 12, "unexpected token '\\('"),
    ],
)
def test_malformed_expressions_name_the_position(source: str, line: int, column: int, message: str) -> None:
    with pytest.raises(ExprSyntaxError, match=message) as info:
        compile_expression(source)
    assert (info.value.line, info.value.column) == (line, column)
    assert f"line {line}, column {column}" in str(info.value)


def test_compiled_expressions_are_cached() -> None:
    first = compile_expression("result[0] >= 0.95 && len(result) > 0")
    second = compile_expression("result[0] >= 0.95 && len(result) > 0")
    assert first is second
    # The same compiled expression evaluates many different results.
    assert first.evaluate({"result": [0.99]}) is True
    assert first.evaluate({"result": [0.5]}) is False


def test_other_variables_can_be_declared() -> None:
    assert evaluate("a + b", {"a": 1, "b": 2}) == 3
    with pytest.raises(ExprSyntaxError, match="unknown name result"):
        compile_expression("result > 1", frozenset({"a"}))


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    source = "(" * 400 + "1" + ")" * 400
    try:
        value = ev(source)
    except ExprError:
        return
    assert value == 1


NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_time_expressions_of_range_queries() -> None:
    assert evaluate_time('now() - duration("1h")', now=NOW) == NOW - timedelta(hours=1)
    assert evaluate_time("now()", now=NOW) == NOW
    assert evaluate_time('now() - duration("1m30s") + duration("30s")', now=NOW) == NOW - timedelta(minutes=1)
    expected = datetime(2023, 8, 13, 23, 0, tzinfo=UTC)
    source = 'date("2023-08-14 00:00:00", "2006-01-02 15:04:05", "UTC") - duration("1h")'
    assert evaluate_time(source, now=NOW) == expected
    assert evaluate_time('date("2023-08-14T00:00:00Z")', now=NOW) == datetime(2023, 8, 14, tzinfo=UTC)
    assert evaluate('duration("1m") > duration("30s")', {}) is True
    assert evaluate('now() - date("2026-03-01T11:00:00Z") == duration("1h")', {"$now": NOW}) is True


def test_time_expression_errors() -> None:
    with pytest.raises(ExprError, match="expected time, but got string"):
        evaluate_time("'hello'", now=NOW)
    with pytest.raises(ExprSyntaxError):
        evaluate_time("now() -- ?", now=NOW)
    with pytest.raises(ExprError, match="duration"):
        evaluate_time('now() - duration("soon")', now=NOW)
    with pytest.raises(ExprError, match="mismatched types"):
        evaluate_time("now() + 1", now=NOW)
    with pytest.raises(ExprError, match="cannot parse"):
        evaluate_time('date("yesterday")', now=NOW)
