"""Decoding API answers so that one object nobody can parse never blocks its kind, and big ones never block the loop.

The API server accepts objects that orjson refuses: a free-form field (a
Rollout's traffic-router plugin config, a web metric's jsonBody) may nest up to
the server's own limit of 10000 levels, while orjson stops at 1024. Were a list
page or watch event decoded as one document, such an object would fail the
whole list of its kind (so the informer never syncs) or the same watch event
again and again. Here a list page that fails is decoded item by item, and an
undecodable item or watch event becomes a `Skipped` record that names the
object (namespace, name, resourceVersion, uid) when its bytes let us find them,
so the informer moves past it, reports it, and treats the object as absent.
The fallback walks the raw bytes with a tokenising regular expression, never
recursion, so depth cannot crash it.

Answers bigger than `OFF_LOOP_BYTES` are decoded in a thread (so are all
fallbacks): the event loop keeps renewing the leader Lease meanwhile
(DESIGN.md §4, §6).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

OFF_LOOP_BYTES = 256 * 1024
"""Documents larger than this are decoded in a worker thread."""

UNDECODABLE = "UNDECODABLE"
"""The type of a watch event whose object could not be decoded (never sent by a server)."""

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\],]')
_IDENTITY = ("namespace", "name", "resourceVersion", "uid")


@dataclass(frozen=True)
class Skipped:
    """An object that could not be decoded; fields are empty when the bytes did not reveal them."""

    namespace: str
    name: str
    resource_version: str
    uid: str
    error: str

    @property
    def key(self) -> str:
        """The informer key (namespace/name), or "" when the name is unknown."""
        if not self.name:
            return ""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def describe(self) -> str:
        return self.key or "an object of unknown name"


SkipHandler = Callable[[Skipped], None]


def _string(token: bytes) -> str:
    try:
        value = orjson.loads(token)
    except orjson.JSONDecodeError:
        return ""
    return value if isinstance(value, str) else ""


def _scan(
    data: bytes, *, strings: set[tuple[Any, ...]], spans_of: tuple[Any, ...] | None = None
) -> tuple[dict[tuple[Any, ...], str], list[tuple[int, int]], tuple[int, int] | None]:
    """Walk a JSON document's tokens without recursion.

    Returns the string values found at the paths in `strings`, the byte spans
    of the elements of the array at path `spans_of`, and that array's own span.
    """
    found: dict[tuple[Any, ...], str] = {}
    elements: list[tuple[int, int]] = []
    array_span: tuple[int, int] | None = None
    frames: list[list[Any]] = []  # [opening byte, current key or index, start offset]
    expect_key = False
    for match in _TOKEN.finditer(data):
        token = match.group()
        first = token[:1]
        if first == b'"':
            if frames and frames[-1][0] == b"{" and expect_key:
                frames[-1][1] = _string(token)
                expect_key = False
            elif strings:
                path = tuple(frame[1] for frame in frames)
                if path in strings:
                    found[path] = _string(token)
        elif first in (b"{", b"["):
            frames.append([first, None if first == b"{" else 0, match.start()])
            expect_key = first == b"{"
        elif first in (b"}", b"]"):
            if not frames:
                break  # not JSON we can walk
            _, _, start = frames.pop()
            expect_key = False
            if spans_of is not None:
                path = tuple(frame[1] for frame in frames)
                if path == spans_of:
                    array_span = (start, match.end())
                elif path[:-1] == spans_of and frames[-1][0] == b"[":
                    elements.append((start, match.end()))
        elif frames:  # a comma
            if frames[-1][0] == b"[":
                frames[-1][1] += 1
            else:
                expect_key = True
    return found, elements, array_span


def identify(data: bytes, error: str, *, prefix: tuple[str, ...] = ()) -> Skipped:
    """Who an undecodable object is, read from its bytes (`prefix`: where the object sits, e.g. ("object",))."""
    paths = {(*prefix, "metadata", field): field for field in _IDENTITY}
    found, _, _ = _scan(data, strings=set(paths))
    values = {field: found.get(path, "") for path, field in paths.items()}
    return Skipped(
        namespace=values["namespace"],
        name=values["name"],
        resource_version=values["resourceVersion"],
        uid=values["uid"],
        error=error,
    )


def decode_list(data: bytes) -> tuple[dict[str, Any], list[Skipped]]:
    """A list page; items that cannot be decoded are left out and returned as `Skipped`."""
    try:
        page: dict[str, Any] = orjson.loads(data)
        return page, []
    except orjson.JSONDecodeError as error:
        whole_error = str(error)
    _, elements, array_span = _scan(data, strings=set(), spans_of=("items",))
    if array_span is None:
        raise orjson.JSONDecodeError(whole_error, data.decode(errors="replace"), 0)
    page = orjson.loads(data[: array_span[0]] + b"[]" + data[array_span[1] :])
    skipped: list[Skipped] = []
    for start, end in elements:
        item = data[start:end]
        try:
            page["items"].append(orjson.loads(item))
        except orjson.JSONDecodeError as error:
            skipped.append(identify(item, str(error)))
    return page, skipped


def decode_event(line: bytes) -> dict[str, Any]:
    """One watch event; an undecodable one becomes {"type": UNDECODABLE, "skipped": Skipped}."""
    try:
        event: dict[str, Any] = orjson.loads(line)
        return event
    except orjson.JSONDecodeError as error:
        return {"type": UNDECODABLE, "skipped": identify(line, str(error), prefix=("object",))}


async def decode_list_async(data: bytes) -> tuple[dict[str, Any], list[Skipped]]:
    if len(data) <= OFF_LOOP_BYTES:
        try:
            page: dict[str, Any] = orjson.loads(data)
            return page, []
        except orjson.JSONDecodeError:
            pass  # item by item, in a thread
    return await asyncio.to_thread(decode_list, data)


async def decode_event_async(line: bytes) -> dict[str, Any]:
    if len(line) <= OFF_LOOP_BYTES:
        try:
            event: dict[str, Any] = orjson.loads(line)
            return event
        except orjson.JSONDecodeError:
            pass  # identified in a thread
    return await asyncio.to_thread(decode_event, line)


async def decode_async(data: bytes) -> Any:
    """One JSON document (a get, create, patch ... answer), in a thread when large."""
    if len(data) <= OFF_LOOP_BYTES:
        return orjson.loads(data)
    return await asyncio.to_thread(orjson.loads, data)
