"""`matches` is Go's regexp: RE2 syntax, unanchored search, linear time, RE2-only patterns."""

from __future__ import annotations

import pytest

from rollouts.analysis.expr import ExprError, evaluate


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Unanchored, like regexp.MatchString.
        ("'canary-7' matches 'ry-[0-9]'", True),
        ("'hello' matches '^h.*o$'", True),
        ("'hello' matches '^ello'", False),
        # Flags in RE2 / Go syntax.
        ("'HeLLo' matches '(?i)^hello$'", True),
        ("'HeLLo' matches '^hello$'", False),
        ("'a\\nb' matches '(?s)a.b'", True),
        ("'a\\nb' matches 'a.b'", False),
        ("'x\\nabc' matches '(?m)^abc$'", True),
        ("'x\\nabc' matches '^abc$'", False),
        # Go's $ matches only at the very end (Python's re also before a final newline).
        ("'abc\\n' matches 'abc$'", False),
        ("'abc' matches 'abc\\\\z'", True),
        # Perl and POSIX classes, Unicode classes, repetition counts.
        ("'v1.30.2' matches '^v\\\\d+\\\\.\\\\d+\\\\.\\\\d+$'", True),
        ("'tab\\there' matches '[[:space:]]'", True),
        ("'élan' matches '^\\\\pL+$'", True),
        ("'aaa' matches '^a{2,3}$'", True),
        ("'aaaa' matches '^a{2,3}$'", False),
        ("'foo' matches '^(?P<name>f)oo$'", True),
        ("'foobar' not matches 'baz'", True),
    ],
)
def test_matches_follows_go_regexp(source: str, expected: bool) -> None:
    assert evaluate(source, {}) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "(a)\\\\1",  # backreference: not RE2
        "a(?=b)",  # lookahead: not RE2
        "(?<!a)b",  # lookbehind: not RE2
        "(",
    ],
)
def test_patterns_outside_re2_are_expr_errors(pattern: str) -> None:
    with pytest.raises(ExprError, match="invalid regular expression"):
        evaluate(f"'ab' matches '{pattern}'", {})


def test_catastrophic_backtracking_pattern_is_linear() -> None:
    # (a+)+$ against a's and a final '!' takes exponential time in a backtracking engine.
    assert evaluate("x matches '(a+)+$'", {"x": "a" * 5000 + "!"}) is False
    assert evaluate("x matches '(a|aa)*c'", {"x": "a" * 5000}) is False
