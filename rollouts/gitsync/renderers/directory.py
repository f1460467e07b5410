"""Plain directories: *.yaml / *.yml / *.json manifests and *.jsonnet programs.

Like Argo CD's directory source: files directly in the path (or below it with
`recurse`), filtered by `include` / `exclude` globs matched against the path
relative to the app directory (`*` crosses `/`, `{a,b}` alternatives as in
Argo CD). Jsonnet files are evaluated in a killable child process
(jsonnet_worker) with ext vars, TLAs (plain or code) and library paths inside
the repository.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sys
from pathlib import Path
from typing import Any

from rollouts.gitsync.procs import ToolError, base_env, run_tool
from rollouts.gitsync.renderers.base import (
    OFF_LOOP_BYTES,
    RenderError,
    RenderRequest,
    flatten,
    off_loop,
    parse_manifests,
)
from rollouts.gitsync.renderers.jsonnet_worker import condense
from rollouts.gitsync.safety import UnsafePathError, relative_name, resolve_inside

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
JSONNET_SUFFIX = ".jsonnet"
WORKER = Path(__file__).resolve().parent / "jsonnet_worker.py"


def expand_braces(pattern: str) -> list[str]:
    """`{a,b}*.yaml` -> [`a*.yaml`, `b*.yaml`] (one level of alternatives, as Argo CD documents)."""
    start = pattern.find("{")
    end = pattern.find("}", start)
    if start < 0 or end < 0:
        return [pattern]
    head, body, tail = pattern[:start], pattern[start + 1 : end], pattern[end + 1 :]
    return [expanded for option in body.split(",") for expanded in expand_braces(head + option + tail)]


def _matches(pattern: str | None, relative: str) -> bool:
    if not pattern:
        return False
    return any(fnmatch.fnmatchcase(relative, p) for p in expand_braces(pattern))


def list_files(request: RenderRequest) -> list[Path]:
    directory = request.source.directory
    recurse = bool(directory and directory.recurse)
    include = directory.include if directory else None
    exclude = directory.exclude if directory else None
    found: list[Path] = []
    for current, dirnames, filenames in os.walk(request.app_dir, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != ".git") if recurse else []
        for name in sorted(filenames):
            path = Path(current) / name
            if not name.endswith((*MANIFEST_SUFFIXES, JSONNET_SUFFIX)):
                continue
            relative = str(path.relative_to(request.app_dir))
            if include and not _matches(include, relative):
                continue
            if _matches(exclude, relative):
                continue
            found.append(path)
    return found


async def evaluate_jsonnet(request: RenderRequest, path: Path) -> bytes:
    """The JSON text a Jsonnet program evaluates to."""
    jsonnet = request.source.directory.jsonnet if request.source.directory else None
    ext_vars: dict[str, str] = {}
    ext_codes: dict[str, str] = {}
    tla_vars: dict[str, str] = {}
    tla_codes: dict[str, str] = {}
    libs: list[str] = []
    if jsonnet is not None:
        for var in jsonnet.ext_vars or []:
            (ext_codes if var.code else ext_vars)[var.name] = var.value
        for var in jsonnet.tlas or []:
            (tla_codes if var.code else tla_vars)[var.name] = var.value
        for lib in jsonnet.libs or []:
            try:
                libs.append(str(resolve_inside(request.root, request.root, lib, what="jsonnet lib")))
            except UnsafePathError as error:
                raise RenderError(str(error)) from None
    payload = {
        "root": str(request.root),
        "file": str(path),
        "libs": libs,
        "ext_vars": ext_vars,
        "ext_codes": ext_codes,
        "tla_vars": tla_vars,
        "tla_codes": tla_codes,
    }
    shown = relative_name(request.root, path)
    try:
        result = await run_tool(
            # Run as a plain script: it imports nothing of ours, so start-up stays fast.
            [sys.executable, str(WORKER)],
            cwd=path.parent,
            env=base_env(),
            stdin=json.dumps(payload).encode(),
            timeout=request.limits.timeout,
            output_limit=request.limits.output_bytes,
        )
    except ToolError as error:
        message = condense(str(error).removeprefix(Path(sys.executable).name + ": "))
        raise RenderError(f"jsonnet {shown}: {request.scrub(message)}") from None
    return result.stdout


async def _load_json(text: str | bytes, shown: str) -> Any:
    try:
        return json.loads(text) if len(text) < OFF_LOOP_BYTES else await off_loop(json.loads, text)
    except ValueError as error:
        raise RenderError(f"{shown}: invalid JSON: {error}") from None


async def render_directory(request: RenderRequest) -> list[dict[str, Any]]:
    """Every manifest file and Jsonnet program; their total size is bounded by the output limit."""
    objects: list[dict[str, Any]] = []
    total = 0
    for path in list_files(request):
        shown = relative_name(request.root, path)
        if path.name.endswith(JSONNET_SUFFIX):
            result = await evaluate_jsonnet(request, path)
            objects.extend(flatten(await _load_json(result, shown), shown))
            total += len(result)
        else:
            total += path.stat().st_size
        if total > request.limits.output_bytes:
            raise RenderError(f"{shown}: the manifests are larger than {request.limits.output_bytes} bytes in all")
        if path.name.endswith(JSONNET_SUFFIX):
            continue
        text = path.read_text(errors="replace")
        if path.name.endswith(".json"):
            objects.extend(flatten(await _load_json(text, shown), shown))
        else:
            objects.extend(await parse_manifests(text, shown))
    return objects
