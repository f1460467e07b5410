"""Reading raw API objects and showing their ages, for the views of `get`, `list` and `status`.

The CLI views work on plain dicts as the API returns them, so a field that is
missing or of the wrong type must never raise: these accessors return an empty
dict or a default instead. Shared by every view module (rollout summary,
ReplicaSet/pod tree, analysis runs, list rows), hence public and in one place.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rollouts.api.constants import REVISION_ANNOTATION
from rollouts.api.timestamps import parse_time

Obj = dict[str, Any]


def metadata(obj: Obj) -> Obj:
    """The object's metadata, or {}."""
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def dict_at(obj: Obj, *keys: str) -> Obj:
    """The dict at obj[k1][k2]..., or {} when any step is missing or not a dict."""
    current: Any = obj
    for key in keys:
        current = current.get(key) if isinstance(current, dict) else None
    return current if isinstance(current, dict) else {}


def int_of(value: Any, default: int = 0) -> int:
    """value as an int (numbers and numeric strings), else default; booleans are not numbers."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def owner_in(obj: Obj, uids: set[str]) -> str | None:
    """The UID of the first owner reference of obj whose UID is in uids."""
    for ref in metadata(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("uid") in uids:
            return str(ref["uid"])
    return None


def revision_of(obj: Obj) -> int:
    """The rollout revision annotation of a ReplicaSet or AnalysisRun (0 when absent)."""
    return int_of((metadata(obj).get("annotations") or {}).get(REVISION_ANNOTATION), 0)


def human_duration(seconds: float) -> str:
    """Kubernetes' HumanDuration (the AGE column of kubectl)."""
    total = int(seconds)
    if total < -1:
        return "<invalid>"
    if total < 0:
        return "0s"
    if total < 120:
        return f"{total}s"
    minutes = total // 60
    if minutes < 10:
        rest = total % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = total // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def age(obj_meta: Obj, now: datetime) -> str:
    created = parse_time(obj_meta.get("creationTimestamp"))
    return human_duration((now - created).total_seconds()) if created else ""


def utc_now() -> datetime:
    return datetime.now(UTC)
