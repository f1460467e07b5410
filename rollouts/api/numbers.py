"""Integers as Kubernetes and Argo bound them: int32/int64 fields, Go's ParseInt, counts read from other objects.

Python integers have no size, so a value the API server stores (it checks the
JSON type, not always the range) can be 10**30, and a string of five thousand
digits cannot even be turned into an int (Python refuses above 4300 digits).
Go reads the same objects into int32/int64 and refuses what does not fit. Every
integer that comes from a user's object goes through one of the helpers here,
so that an out-of-range value is either refused with a message that names the
field (the models: `Int32`, `Int64`) or read as absent (annotations and
status written by others: `parse_int64`, `count`), never an exception in the
middle of a reconcile.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX, json_schema_extra={"format": "int32"})]
"""A field Argo declares int32 (replicas, setWeight, ...): out of range is a validation error naming it."""
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX, json_schema_extra={"format": "int64"})]
"""A field Argo declares int64."""

_GO_INT = re.compile(r"[+-]?[0-9]{1,19}")


def parse_int64(text: Any) -> int | None:
    """Go's strconv.ParseInt(text, 10, 64): ASCII digits with an optional sign, in int64 range; else None.

    Python's int() also takes spaces, underscores and other scripts' digits, and
    raises on very long strings; annotations are read with this instead.
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if INT64_MIN <= text <= INT64_MAX else None
    if not isinstance(text, str) or not _GO_INT.fullmatch(text):
        return None
    value = int(text)
    return value if INT64_MIN <= value <= INT64_MAX else None


def count(value: Any, *, default: int = 0) -> int:
    """A replica count read from an object another controller writes (ReplicaSet spec/status).

    The API server keeps these int32 and non-negative; anything else (a foreign
    writer, a hand edit) reads as `default` rather than stopping the reconcile.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value if 0 <= value <= INT32_MAX else default


def clamp(value: int, low: int, high: int) -> int:
    """`value` within [low, high]."""
    return max(low, min(high, value))
