"""Renderers turning a repository path into manifests: YAML, Jsonnet, Helm, Kustomize, plugins.

`render()` is the one entry point: it checks the checkout for symlinks leaving
it, resolves the app path inside the repository, detects the tool (plugin when
`source.plugin` is set; Chart.yaml -> Helm; a kustomization -> Kustomize;
otherwise a directory of YAML/JSON/Jsonnet files) and runs it.
`RenderCache` keeps results by (repository, commit, path, render parameters),
so an unchanged commit is never rendered twice.
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from typing import Any

import orjson

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
        check_symlinks(request.root)
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


def cache_key(*, repo_url: str, commit: str, request: RenderRequest) -> str:
    params = request.source.to_dict()
    params.pop("targetRevision", None)
    material = orjson.dumps(
        [repo_url, commit, params, request.namespace, request.app_name, request.plugins],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


class RenderCache:
    """A small LRU of render results; callers get deep copies so they may mutate them."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> list[dict[str, Any]] | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return copy.deepcopy(entry)

    def put(self, key: str, objects: list[dict[str, Any]]) -> None:
        self._entries[key] = copy.deepcopy(objects)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
