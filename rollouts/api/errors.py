"""One line naming the field for a pydantic ValidationError of a user's object.

pydantic's error locations carry the tags of union members
(`spec.strategy.canary.maxSurge.constrained-int`) and its input echo can be a
five-thousand-character value; an InvalidSpec condition (or an AnalysisRun's
Error message) wants the field as the user wrote it and a short reason. The
tags are recognised by walking the object along the location: a segment that
is not a key (or index) of the object at that point is a tag, not a field.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


def _looks_like_field(part: str) -> bool:
    return part not in ("str", "int", "float", "bool", "list", "dict") and not any(c in part for c in "-[,")


def _field_path(location: tuple[int | str, ...], data: Any) -> str:
    text = ""
    node: Any = data
    for part in location:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
            text += f".{part}" if text else part
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            text += f"[{part}]"
        elif isinstance(node, dict) and isinstance(part, str) and _looks_like_field(part):
            text += f".{part}" if text else part  # a required field that is missing
            node = None
        # else: a union member's tag ("constrained-int", "str", "function-after[...]"), not a field.
    return text


def validation_message(error: ValidationError, data: Any) -> str:
    """`field.path: reason` for the first error of `error`, raised validating `data`."""
    errors = error.errors(include_url=False, include_input=False)
    if not errors:
        return "invalid value"
    first = errors[0]
    path = _field_path(tuple(first.get("loc", ())), data)
    message = str(first.get("msg", "invalid value"))
    return f"{path}: {message}" if path else message
