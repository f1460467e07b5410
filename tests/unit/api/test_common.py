"""IntOrString and duration helpers behave as Argo's Go code does."""

from __future__ import annotations

import pytest

from rollouts.api.common import InvalidValueError, format_duration, is_percent, parse_duration, scaled_value


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [
        (3, 10, True, 3),
        (0, 10, False, 0),
        ("25%", 10, True, 3),
        ("25%", 10, False, 2),
        ("25%", 4, True, 1),
        ("25%", 4, False, 1),
        ("1%", 1, True, 1),
        ("1%", 1, False, 0),
        ("100%", 7, False, 7),
        ("0%", 7, True, 0),
        # Argo resolves with GetValueFromIntOrPercent: a string is always a percentage.
        ("25", 10, True, 3),
        ("50", 3, False, 1),
        (None, 10, True, 0),
    ],
)
def test_scaled_value(value: int | str | None, total: int, round_up: bool, expected: int) -> None:
    assert scaled_value(value, total, round_up=round_up) == expected


def test_scaled_value_default_is_used_for_none() -> None:
    assert scaled_value(None, 8, round_up=True, default="25%") == 2


@pytest.mark.parametrize("bad", ["", "abc", "2.5%", "x%", " 5%", True])
def test_scaled_value_rejects_garbage(bad: object) -> None:
    with pytest.raises(InvalidValueError, match="invalid int or percentage"):
        scaled_value(bad, 10, round_up=True)  # type: ignore[arg-type]


def test_is_percent() -> None:
    assert is_percent("25%")
    assert not is_percent("25")
    assert not is_percent(25)
    assert not is_percent(None)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        ("30", 30.0),
        ("30s", 30.0),
        ("1m30s", 90.0),
        ("1h", 3600.0),
        ("1h2m3s", 3723.0),
        ("500ms", 0.5),
        ("1.5h", 5400.0),
        ("0", 0.0),
        ("-5s", -5.0),
        ("2us", 2e-6),
        (None, None),
    ],
)
def test_parse_duration(value: int | str | None, seconds: float | None) -> None:
    result = parse_duration(value)
    assert result == pytest.approx(seconds) if seconds is not None else result is None


@pytest.mark.parametrize("bad", ["", "ten", "5x", "1m 30s", "s", "1.2.3s", "m5"])
def test_parse_duration_rejects_garbage(bad: str) -> None:
    with pytest.raises(InvalidValueError, match="invalid duration"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (45, "45s"), (90, "1m30s"), (3600, "1h0m0s"), (3723, "1h2m3s")]
)
def test_format_duration_matches_go(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text
