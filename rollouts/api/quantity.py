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
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))((?:[eE][+-]?[0-9]+)|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


class QuantityError(ValueError):
    pass


MAX_QUANTITY_LENGTH = 64
"""Longer than any quantity a person writes ("1.5Gi", "250m", "12e6"); the patterns below are
matched only on strings this short, so a long one cannot make them backtrack for seconds."""
MAX_EXPONENT = 64
"""|exponent| of an "e" suffix we compute with: exact arithmetic on 10**1e9 would never finish."""


def _check_size(text: str) -> None:
    if len(text) > MAX_QUANTITY_LENGTH:
        raise QuantityError(f"quantity longer than {MAX_QUANTITY_LENGTH} characters: {text[:MAX_QUANTITY_LENGTH]!r}...")


def parse_quantity(text: str) -> tuple[Fraction, str]:
    """(exact value, format) where format is BinarySI, DecimalSI or DecimalExponent."""
    _check_size(text)
    match = _QUANTITY.match(text.strip())
    if not match:
        raise QuantityError(f"quantities must match the regular expression: {text!r}")
    number, suffix = match.groups()
    value = Fraction(number)
    if suffix in _BINARY:
        return value * (1024 ** _BINARY[suffix]), "BinarySI"
    if suffix and suffix[0] in "eE":
        exponent = int(suffix[1:])
        if abs(exponent) > MAX_EXPONENT:
            raise QuantityError(f"quantity exponent out of range: {text[:MAX_QUANTITY_LENGTH]!r}")
        return value * Fraction(10) ** exponent, "DecimalExponent"
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
    """The canonical spelling of a quantity ("0.5" -> "500m", "1024Mi" -> "1Gi")."""
    value, fmt = parse_quantity(text)
    return _canonical(value, fmt)


def _canonical(value: Fraction, fmt: str) -> str:
    """apimachinery's CanonicalizeBytes for an exact value in a given format."""
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
    # DecimalSI has suffixes from n to E. Beyond E Go's suffix lookup fails and
    # CanonicalizeBytes ignores the failure: "3000E" is written as "3". Lossy,
    # but it is what Argo hashes.
    return f"{mantissa}{_DECIMAL_SUFFIX.get(exponent, '')}"


_MAX_INT64 = (1 << 63) - 1
_GO_QUANTITY = re.compile(r"^([+-]?)0*([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*(?:[+-]?[0-9]+)?)$")
_MAX_INT64_FACTORS = 18


def _interpret(suffix: str) -> tuple[int, int, str] | None:
    """apimachinery's suffixer.interpret: (base, exponent, format) or None."""
    if suffix in _DECIMAL:
        return 10, _DECIMAL[suffix], "DecimalSI"
    if suffix in _BINARY:
        return 2, 10 * _BINARY[suffix], "BinarySI"
    if len(suffix) > 1 and suffix[0] in "eE":
        try:
            exponent = int(suffix[1:])
        except ValueError:
            return None
        return (10, exponent, "DecimalExponent") if abs(exponent) <= MAX_EXPONENT else None
    return None


def go_quantity_string(text: str) -> str:
    """What Go's json.Marshal writes for a Quantity unmarshalled from `text`.

    Usually the canonical form, but apimachinery's ParseQuantity keeps the
    original string when it is already "canonical enough" (small integers,
    values like "1.5e3" or "5." whose digits fit the fast path), and Marshal then
    writes that string back unchanged. Binary quantities above 2^63-1 are capped.
    """
    _check_size(text)
    text = text.strip()
    if text == "0":
        return "0"
    match = _GO_QUANTITY.match(text)
    if not text or not match:
        raise QuantityError(f"quantities must match the regular expression: {text!r}")
    sign, num, denom, suffix = match.group(1), match.group(2) or "0", match.group(3) or "", match.group(4)
    interpreted = _interpret(suffix)
    if interpreted is None:
        raise QuantityError(f"unable to parse quantity's suffix: {text!r}")
    base, exponent, fmt = interpreted
    scale, mantissa, precision = 0, 1, 0
    if fmt in ("DecimalExponent", "DecimalSI"):
        scale = exponent
        precision = _MAX_INT64_FACTORS - (len(num) + len(denom))
    elif exponent >= 0 and not denom:
        mantissa = 1 << exponent
        precision = 15 - len(num) - int(exponent * 3 / 10) - 1
    else:
        precision = -1
    if precision >= 0:
        scale -= len(denom)
        if scale >= -9:
            shifted = num + denom
            value = int(shifted)
            if value > _MAX_INT64:
                raise QuantityError(f"quantity out of range: {text!r}")
            result = value * mantissa
            if result <= _MAX_INT64:
                if fmt == "BinarySI":
                    if exponent % 10 == 0 and value & 0x07 != 0:
                        return text
                elif scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0":
                    return text
    amount = Fraction(num + ("." + denom if denom else "")) * Fraction(base) ** exponent
    if sign == "-":
        amount = -amount
    if fmt == "BinarySI" and abs(amount) > _MAX_INT64:
        amount = Fraction(_MAX_INT64 if amount > 0 else -_MAX_INT64)
    return _canonical(amount, fmt)
