"""How deeply a user's object nests, measured without recursion.

The API server accepts JSON nested up to 10000 levels in free-form fields (a
pod template's unknown fields, a plugin's config, the status a foreign writer
left). Python's own recursion (copy.deepcopy, pydantic, json) stops near 1000
frames, so such an object would make every reconcile raise. The reconciles
measure an object with `too_deep()` before anything recursive touches it and
refuse it with a message naming the field, as Argo's controller would refuse
an object it cannot decode.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 100
"""Far deeper than any real manifest (a pod template's affinity is about 12 levels) and far from the recursion limit."""


def too_deep(value: Any, *, limit: int = MAX_DEPTH) -> tuple[str | int, ...] | None:
    """The path to the first dict or list nested more than `limit` levels below `value`; None when none is."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > limit:
            return path
        if isinstance(node, dict):
            stack.extend((child, (*path, str(key))) for key, child in node.items() if isinstance(child, dict | list))
        elif isinstance(node, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(node) if isinstance(child, dict | list))
    return None


def field_path(path: tuple[str | int, ...], *, shown: int = 6) -> str:
    """`spec.template.spec.containers[0]...` for a message: the first `shown` segments of a path."""
    text = ""
    for part in path[:shown]:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text + ("..." if len(path) > shown else "")


def nesting_error(path: tuple[str | int, ...], *, limit: int = MAX_DEPTH) -> str:
    """The message for a value nested too deeply: `field: nested more than N levels deep`."""
    return f"{field_path(path)}: nested more than {limit} levels deep"
