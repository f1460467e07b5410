"""What every renderer shares: the request, the error type, limits, and manifest parsing.

Renderers turn a directory of a private checkout into a list of Kubernetes
objects (plain dicts). They never see the repository URL or credentials, run
every tool with a time limit and an output size limit, and raise RenderError
with a message safe to put in status (paths relative to the repository).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rollouts.api.gitsync import ApplicationSource

DEFAULT_TIMEOUT_SECONDS = 90.0
DEFAULT_OUTPUT_LIMIT = 32 * 1024 * 1024


class RenderError(Exception):
    """Rendering failed; the message names the tool and the repository-relative path."""


@dataclass(frozen=True)
class RenderLimits:
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    output_bytes: int = DEFAULT_OUTPUT_LIMIT


@dataclass(frozen=True)
class RenderRequest:
    """One render: checkout root, app directory inside it, the source's options."""

    root: Path
    app_dir: Path
    source: ApplicationSource
    namespace: str = ""
    app_name: str = ""
    revision: str = ""
    limits: RenderLimits = field(default_factory=RenderLimits)
    # Plugin name -> argv, from the controller's configuration (never from the repository).
    plugins: dict[str, list[str]] = field(default_factory=dict)

    def scrub(self, text: str) -> str:
        """Tool output with the private checkout's absolute path made repository-relative."""
        for path in {str(self.root), str(self.root.resolve())}:
            text = text.replace(path + "/", "").replace(path, ".")
        return text


def flatten(value: Any, source: str) -> list[dict[str, Any]]:
    """Objects from a decoded document: an object, a List kind, an array, or an object of objects."""
    if value is None:
        return []
    if isinstance(value, list):
        return [obj for item in value for obj in flatten(item, source)]
    if not isinstance(value, dict):
        raise RenderError(f"{source}: expected a Kubernetes object, got {type(value).__name__}")
    if "kind" in value or "apiVersion" in value:
        if str(value.get("kind", "")).endswith("List") and isinstance(value.get("items"), list):
            return flatten(value["items"], source)
        return [check_object(value, source)]
    # An object of objects (a map of manifests, common in Jsonnet).
    return [obj for key in value for obj in flatten(value[key], source)]


def check_object(obj: dict[str, Any], source: str) -> dict[str, Any]:
    if not obj.get("apiVersion") or not obj.get("kind"):
        raise RenderError(f"{source}: object without apiVersion or kind")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        raise RenderError(f"{source}: {obj.get('kind')} without metadata.name")
    return obj


def parse_yaml_stream(text: str | bytes, source: str) -> list[dict[str, Any]]:
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        raise RenderError(f"{source}: invalid YAML: {error}") from None
    return [obj for document in documents for obj in flatten(document, source)]
