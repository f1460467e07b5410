"""Renderers turning a repository path into manifests: YAML, Jsonnet, Helm, Kustomize, plugins.

`render()` is the one entry point: it checks the checkout for symlinks leaving
it, resolves the app path inside the repository, detects the tool (plugin when
`source.plugin` is set; Chart.yaml -> Helm; a kustomization -> Kustomize;
otherwise a directory of YAML/JSON/Jsonnet files) and runs it.
`RenderCache` keeps results by (repository, commit, path, render parameters),
so an unchanged commit is never rendered twice.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from typing import Any

import orjson

from rollouts.gitsync.arguments import UnsafeArgumentError, check_source
from rollouts.gitsync.renderers.base import RenderError, RenderLimits, RenderRequest
from rollouts.gitsync.renderers.directory import render_directory
from rollouts.gitsync.renderers.helm import render_helm
from rollouts.gitsync.renderers.kustomize import kustomization_file, render_kustomize
from rollouts.gitsync.renderers.plugin import render_plugin
from rollouts.gitsync.safety import UnsafePathError, check_symlinks, resolve_inside

__all__ = ["RenderCache", "RenderError", "RenderLimits", "RenderRequest", "detect_tool", "render"]


def detect_tool(request: RenderRequest) -> str:
    if request.source.plugin is not None:
        return "plugin"
    if (request.app_dir / "Chart.yaml").is_file():
        return "helm"
    if kustomization_file(request.app_dir) is not None:
        return "kustomize"
    return "directory"


async def render(request: RenderRequest) -> list[dict[str, Any]]:
    """The manifests of request.app_dir; RenderError with a safe message on any failure."""
    try:
        check_source(request.source)
    except UnsafeArgumentError as error:
        raise RenderError(str(error)) from None
    try:
        # A walk of the whole checkout: in a worker thread, so a huge repository never stalls the loop.
        await asyncio.to_thread(check_symlinks, request.root)
        path = request.source.path or "."
        app_dir = resolve_inside(request.root, request.root, path, what="path")
    except UnsafePathError as error:
        raise RenderError(str(error)) from None
    if not app_dir.is_dir():
        raise RenderError(f"path {request.source.path!r} is not a directory of the repository")
    request = RenderRequest(
        root=request.root,
        app_dir=app_dir,
        source=request.source,
        namespace=request.namespace,
        app_name=request.app_name,
        revision=request.revision,
        limits=request.limits,
        plugins=request.plugins,
    )
    tool = detect_tool(request)
    if tool == "plugin":
        return await render_plugin(request)
    if tool == "helm":
        return await render_helm(request)
    if tool == "kustomize":
        return await render_kustomize(request)
    return await render_directory(request)


def cache_key(*, repo_url: str, commit: str, request: RenderRequest, identity: str = "") -> str:
    """Everything a render depends on, including who fetched the commit (a credentials digest)."""
    params = request.source.to_dict()
    params.pop("targetRevision", None)
    material = orjson.dumps(
        [repo_url, identity, commit, params, request.namespace, request.app_name, request.plugins],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


class RenderCache:
    """An LRU of render results bounded by entries and bytes; callers get copies they may mutate.

    Entries are kept as JSON bytes (their size is what the byte bound counts,
    and a copy is one orjson.loads). `owner` records which GitSync used an
    entry, so `forget(owner)` drops what only a deleted GitSync used.
    """

    def __init__(self, size: int = 64, *, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._owners: dict[str, set[str]] = {}
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, *, owner: str = "") -> list[dict[str, Any]] | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        if owner:
            self._owners.setdefault(key, set()).add(owner)
        result: list[dict[str, Any]] = orjson.loads(entry)
        return result

    def put(self, key: str, objects: list[dict[str, Any]], *, owner: str = "") -> None:
        self._drop(key)
        try:
            encoded = orjson.dumps(objects, option=orjson.OPT_NON_STR_KEYS)
        except orjson.JSONEncodeError:
            return  # a value JSON cannot hold (a YAML !!set, !!binary): render again next time
        if len(encoded) > self.max_bytes:
            return  # bigger than the whole cache: not kept
        self._entries[key] = encoded
        self.bytes += len(encoded)
        if owner:
            self._owners.setdefault(key, set()).add(owner)
        while len(self._entries) > self.size or self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= len(entry)
        self._owners.pop(key, None)

    def forget(self, owner: str) -> None:
        """Drop the entries no GitSync but `owner` used."""
        for key, owners in list(self._owners.items()):
            owners.discard(owner)
            if not owners:
                self._drop(key)
