"""Kubernetes resource.Quantity: parse and print in canonical form, as Go does.

The pod-template hash is computed over Go's JSON of the template, where every
quantity is re-printed canonically ("0.5" -> "500m", "1024Mi" -> "1Gi"), so a
hash that matches Argo's needs the same canonicalisation. There is no
maintained Python package for it; this follows apimachinery's quantity.go
(CanonicalizeBytes / AsCanonicalBytes) for the formats users write.
"""

from __future__ import annotations

import re
from fractions import Fraction

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exponent: suffix for suffix, exponent in _DECIMAL.items()}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))((?:[eE][+-]?\d+)|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


class QuantityError(ValueError):
    pass


def parse_quantity(text: str) -> tuple[Fraction, str]:
    """(exact value, format) where format is BinarySI, DecimalSI or DecimalExponent."""
    match = _QUANTITY.match(text.strip())
    if not match:
        raise QuantityError(f"quantities must match the regular expression: {text!r}")
    number, suffix = match.groups()
    value = Fraction(number)
    if suffix in _BINARY:
        return value * (1024 ** _BINARY[suffix]), "BinarySI"
    if suffix and suffix[0] in "eE":
        return value * Fraction(10) ** int(suffix[1:]), "DecimalExponent"
    return value * Fraction(10) ** _DECIMAL[suffix], "DecimalSI"


def _round_up_to_nano(value: Fraction) -> Fraction:
    scaled = value * 10**9
    if scaled.denominator == 1:
        return value
    # Go rounds away from zero when precision below 1n is lost.
    whole = -((-scaled.numerator) // scaled.denominator) if value > 0 else scaled.numerator // scaled.denominator
    return Fraction(whole, 10**9)


def _go_mod(a: int, b: int) -> int:
    """Go's % (sign follows the dividend), which AsCanonicalBytes relies on."""
    return a - b * int(a / b)


def _decimal_mantissa(value: Fraction) -> tuple[int, int]:
    """value == mantissa * 10**exponent, exponent a multiple of 3, as Go prints it."""
    if value == 0:
        return 0, 0
    exponent = 0
    while value.denominator != 1:
        value *= 10
        exponent -= 1
    mantissa = value.numerator
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    remainder = _go_mod(exponent, 3)
    if remainder in (1, -2):
        mantissa *= 10
        exponent -= 1
    elif remainder in (2, -1):
        mantissa *= 100
        exponent -= 2
    return mantissa, exponent


def canonical_quantity(text: str) -> str:
    value, fmt = parse_quantity(text)
    value = _round_up_to_nano(value)
    if fmt == "BinarySI":
        if -1024 < value < 1024 or value.denominator != 1:
            fmt = "DecimalSI"
        else:
            number = value.numerator
            power = 0
            while power < 6 and number != 0 and number % 1024 == 0:
                number //= 1024
                power += 1
            suffix = {0: ""} | {v: k for k, v in _BINARY.items()}
            return f"{number}{suffix[power]}"
    mantissa, exponent = _decimal_mantissa(value)
    if fmt == "DecimalExponent":
        return f"{mantissa}" if exponent == 0 else f"{mantissa}e{exponent}"
    # DecimalSI has suffixes from n to E; beyond that Go falls back to an exponent.
    while exponent > 18:
        mantissa *= 1000
        exponent -= 3
    return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"
