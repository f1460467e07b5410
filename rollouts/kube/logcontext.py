"""Structured logs that name the object being reconciled on every line.

Operators grep controller logs by namespace and name, so each record carries
both. Rather than threading them through every call, the work queue's workers
set a context variable to the key they are reconciling (each worker is its
own asyncio task, so the variable is per reconcile), and a logging filter
copies it onto every record. Output is plain text or one JSON object per line.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

RECONCILE_KEY: ContextVar[str | None] = ContextVar("reconcile_key", default=None)
"""The "namespace/name" (or "name") key the current task reconciles, if any."""


def split_key(key: str | None) -> tuple[str, str]:
    """("namespace", "name") of a queue key; empty strings when there is none."""
    if not key:
        return "", ""
    namespace, _, name = key.rpartition("/")
    return namespace, name


class ReconcileKeyFilter(logging.Filter):
    """Adds `namespace` and `name` to every record (from RECONCILE_KEY unless the caller set them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        namespace, name = split_key(RECONCILE_KEY.get())
        if not hasattr(record, "namespace"):
            record.namespace = namespace
        if not hasattr(record, "obj_name"):
            record.obj_name = name
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        namespace, name = getattr(record, "namespace", ""), getattr(record, "obj_name", "")
        if namespace or name:
            line = f"{line} namespace={namespace} name={name}"
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "namespace": getattr(record, "namespace", ""),
            "name": getattr(record, "obj_name", ""),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(fmt: str = "text", level: str = "info") -> None:
    """Route the root logger to stderr as `fmt` ("text" or "json") lines with namespace/name."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be text or json, not {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ReconcileKeyFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
