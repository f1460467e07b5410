"""What every renderer shares: the request, the error type, limits, and manifest parsing.

Renderers turn a directory of a private checkout into a list of Kubernetes
objects (plain dicts). They never see the repository URL or credentials, run
every tool with a time limit and an output size limit, and raise RenderError
with a message safe to put in status (paths relative to the repository).

YAML from a repository is parsed by `BoundedLoader`: PyYAML's safe loader
(the C one when available) with a budget on alias expansion. An alias bomb
(`a: &a [x, x]`, `b: &b [*a, *a]`, ... ten levels deep) is a few hundred
bytes that parse into a shared structure of a few nodes and expand into
gigabytes once serialised for apply. go-yaml (which kubectl and Argo CD use)
refuses "excessive aliasing" by a ratio of expanded to parsed nodes; we do
the same before constructing anything: a document's aliases may add at most
as many nodes as it has of its own (and always at least ALIAS_EXTRA_FLOOR),
and a recursive alias is refused. We keep PyYAML rather than moving to
ruamel.yaml: the budget is one method on the loader, and the fast C parser
stays. Big inputs are parsed off the event loop (`parse_manifests`), a few at
a time, so one tenant's large render never stalls the controller's loop.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from rollouts.api.gitsync import ApplicationSource

DEFAULT_TIMEOUT_SECONDS = 90.0
DEFAULT_OUTPUT_LIMIT = 32 * 1024 * 1024
# Aliases may add at most max(this, the document's own node count) nodes.
ALIAS_EXTRA_FLOOR = 10_000
# Inputs at least this big are parsed in a worker thread, PARSE_THREADS at a time per event loop.
OFF_LOOP_BYTES = 256 * 1024
PARSE_THREADS = 2


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


class AliasBudgetError(yaml.YAMLError):
    """A document whose aliases expand beyond the budget, or refer to themselves."""


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_alias_budget(root: Node) -> None:
    """Raise AliasBudgetError when expanding the aliases of `root` would exceed the budget."""
    distinct: set[int] = set()
    expanded: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in _children(node))
            continue
        if key in expanded:
            continue
        if key in on_path:
            raise AliasBudgetError("recursive alias: a node refers to itself")
        distinct.add(key)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in expanded)
    extra = expanded[id(root)] - len(distinct)
    if extra > max(ALIAS_EXTRA_FLOOR, len(distinct)):
        raise AliasBudgetError(
            f"aliases expand the document by {extra} nodes, more than it has of its own ({len(distinct)}); "
            "refusing (YAML alias bomb?)"
        )


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BoundedLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """The safe loader with an alias expansion budget checked before construction."""

    def construct_document(self, node: Node) -> Any:
        check_alias_budget(node)
        return super().construct_document(node)


def load_yaml(text: str | bytes, source: str) -> Any:
    """One YAML document through BoundedLoader; RenderError naming `source` when invalid."""
    try:
        return yaml.load(text, Loader=BoundedLoader)
    except yaml.YAMLError as error:
        raise RenderError(f"{source}: invalid YAML: {error}") from None


def parse_yaml_stream(text: str | bytes, source: str) -> list[dict[str, Any]]:
    try:
        documents = list(yaml.load_all(text, Loader=BoundedLoader))
    except yaml.YAMLError as error:
        raise RenderError(f"{source}: invalid YAML: {error}") from None
    return [obj for document in documents for obj in flatten(document, source)]


_parse_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


async def off_loop(function: Any, *args: Any) -> Any:
    """function(*args) in a worker thread, at most PARSE_THREADS at a time on this event loop."""
    loop = asyncio.get_running_loop()
    slots = _parse_slots.setdefault(loop, asyncio.Semaphore(PARSE_THREADS))
    async with slots:
        return await asyncio.to_thread(function, *args)


async def parse_manifests(text: str | bytes, source: str) -> list[dict[str, Any]]:
    """parse_yaml_stream, in a worker thread when the input is big."""
    if len(text) < OFF_LOOP_BYTES:
        return parse_yaml_stream(text, source)
    result: list[dict[str, Any]] = await off_loop(parse_yaml_stream, text, source)
    return result
