"""RFC 3339 timestamps as the Kubernetes API writes and reads them (metav1.Time).

One place for the rule, because the rollout core, the analysis controller and
the CLI all read timestamps that any writer of an object can set: a malformed
value must read as "absent" everywhere, never raise in one place and not in
another.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""Bounds that leave room for any Go duration (about 292 years) either way."""
_LONGEST = 64
"""Longer than any RFC 3339 timestamp."""


def format_time(moment: datetime) -> str:
    """metav1.Time as the API server writes it: RFC 3339, whole seconds, UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (fractions and offsets allowed); None when absent or malformed.

    A timestamp without an offset is taken as UTC, as Go's time.Parse does for "Z" layouts.
    """
    if not isinstance(value, str) or not value or len(value) > _LONGEST:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    # Python's datetime ends at year 9999: a time near either end plus or minus a
    # duration would overflow. No clock here shows such a time; it reads as absent.
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        return None
    return parsed if _EARLIEST <= parsed <= _LATEST else None
