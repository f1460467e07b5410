"""Reading the objects of a manifest file for `create -f`: YAML (one or more documents) or JSON.

Pure: no cluster. A file that cannot be read or parsed, or a document that is
not an object with apiVersion, kind and a name, is a one-line CommandError
naming the file, so nothing is created from a half-understood file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from rollouts.cli.main import CommandError


def parse_documents(text: str, *, source: str) -> list[dict[str, Any]]:
    """The objects in `text`; empty documents are skipped and `kind: List` is expanded."""
    try:
        documents = list(yaml.safe_load_all(text))  # JSON is YAML
    except yaml.YAMLError as error:
        raise CommandError(f"{source}: not valid YAML or JSON: {str(error).splitlines()[0]}") from None
    objects: list[dict[str, Any]] = []
    for document in documents:
        if document is None:
            continue
        if isinstance(document, dict) and document.get("kind") == "List" and isinstance(document.get("items"), list):
            objects.extend(document["items"])
        else:
            objects.append(document)
    for index, obj in enumerate(objects):
        where = f"{source}: object {index + 1}"
        if not isinstance(obj, dict):
            raise CommandError(f"{where}: not an object")
        if not obj.get("apiVersion") or not obj.get("kind"):
            raise CommandError(f"{where}: apiVersion and kind are required")
        meta = obj.get("metadata")
        if not isinstance(meta, dict) or not (meta.get("name") or meta.get("generateName")):
            raise CommandError(f"{where} ({obj['kind']}): metadata.name is required")
    if not objects:
        raise CommandError(f"{source}: no objects in the file")
    return objects


def read_objects(path: str) -> list[dict[str, Any]]:
    if path == "-":
        return parse_documents(sys.stdin.read(), source="<stdin>")
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}") from None
    return parse_documents(text, source=path)
