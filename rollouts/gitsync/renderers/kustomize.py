"""Kustomize: `kustomize build` with Argo CD's source.kustomize options, confined to the repo.

kustomize's own `--load-restrictor LoadRestrictionsRootOnly` keeps *files*
under each kustomization root, but still lets a base *directory* live anywhere
and fetches remote bases. So before running it we walk the kustomization graph
ourselves: every local reference (resources, bases, components, patches,
generator files, ...) must resolve inside the repository, and anything that is
not a local file or directory (a remote base, a URL) is refused. Helm
inflation and exec plugins stay disabled (kustomize's defaults).

Options (images, namePrefix, nameSuffix, commonLabels, commonAnnotations,
namespace) are applied through a generated overlay kustomization whose only
resource is the app directory; it lives next to the checkout in the render's
private work directory (kustomize needs a relative path), so the checkout
itself is never modified.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from rollouts.api.gitsync import ApplicationSourceKustomize
from rollouts.gitsync.procs import ToolError, base_env, run_tool
from rollouts.gitsync.renderers.base import RenderError, RenderRequest, load_yaml, parse_manifests
from rollouts.gitsync.renderers.tools import tool_path
from rollouts.gitsync.safety import UnsafePathError, is_url, relative_name, resolve_inside

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_KUSTOMIZATION_BYTES = 1024 * 1024


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


def _references(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, path) for every local-path reference a kustomization may hold."""
    for key in ("resources", "bases", "components", "crds", "patchesStrategicMerge", "configurations"):
        for entry in doc.get(key) or []:
            if isinstance(entry, str) and "\n" not in entry:
                yield key, entry
    for key in ("transformers", "generators", "validators"):
        for entry in doc.get(key) or []:
            if isinstance(entry, str) and "\n" not in entry:
                yield key, entry
    for key in ("patches", "patchesJson6902", "replacements"):
        for entry in doc.get(key) or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                yield key, entry["path"]
    for key in ("configMapGenerator", "secretGenerator"):
        for generator in doc.get(key) or []:
            if not isinstance(generator, dict):
                continue
            for entry in generator.get("files") or []:
                if isinstance(entry, str):
                    yield f"{key}.files", entry.split("=", 1)[-1]
            for entry in [*(generator.get("envs") or []), generator.get("env")]:
                if isinstance(entry, str):
                    yield f"{key}.envs", entry
    openapi = doc.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield "openapi", openapi["path"]
    if doc.get("helmCharts") or doc.get("helmChartInflationGenerator"):
        yield "helmCharts", "helm chart inflation is not allowed"


def check_kustomization(root: Path, directory: Path, seen: set[Path] | None = None) -> None:
    """Walk the kustomization graph from `directory`; raise UnsafePathError on any escape."""
    seen = seen if seen is not None else set()
    real = directory.resolve()
    if real in seen:
        return
    seen.add(real)
    file = kustomization_file(directory)
    if file is None:
        return
    shown = relative_name(root, file)
    if file.stat().st_size > MAX_KUSTOMIZATION_BYTES:
        raise RenderError(f"{shown}: larger than {MAX_KUSTOMIZATION_BYTES} bytes")
    doc = load_yaml(file.read_text(errors="replace"), shown) or {}
    if not isinstance(doc, dict):
        raise RenderError(f"{shown}: not a kustomization")
    for key, reference in _references(doc):
        if key == "helmCharts":
            raise UnsafePathError(f"{shown}: {reference}")
        what = f"kustomize {key} entry"
        if is_url(reference) or "?ref=" in reference:
            raise UnsafePathError(f"{shown}: {what} {reference!r}: remote bases are not allowed")
        target = resolve_inside(root, directory, reference, what=f"{shown}: {what}")
        if target.is_dir():
            check_kustomization(root, target, seen)
        elif not target.exists():
            raise UnsafePathError(
                f"{shown}: {what} {reference!r} is not a file or directory of the repository "
                "(remote bases are not allowed)"
            )


def _split_image(reference: str) -> tuple[str, str, str]:
    reference, _, digest = reference.partition("@")
    if ":" in reference.rsplit("/", 1)[-1]:
        base, tag = reference.rsplit(":", 1)
        return base, tag, digest
    return reference, "", digest


def image_entry(spec: str) -> dict[str, str]:
    """Argo CD's image override `[oldName=]newName[:tag][@digest]` as a kustomize images entry."""
    old, separator, new = spec.partition("=")
    old_name, _, _ = _split_image(old)
    new_name, tag, digest = _split_image(new if separator else old)
    entry = {"name": old_name}
    if new_name != old_name:
        entry["newName"] = new_name
    if tag:
        entry["newTag"] = tag
    if digest:
        entry["digest"] = digest
    return entry


def overlay(options: ApplicationSourceKustomize, app_dir: Path) -> dict[str, Any] | None:
    body: dict[str, Any] = {}
    if options.name_prefix:
        body["namePrefix"] = options.name_prefix
    if options.name_suffix:
        body["nameSuffix"] = options.name_suffix
    if options.common_labels:
        body["commonLabels"] = dict(options.common_labels)
    if options.common_annotations:
        body["commonAnnotations"] = dict(options.common_annotations)
    if options.namespace:
        body["namespace"] = options.namespace
    images = [image_entry(spec) for spec in options.images or []]
    if images:
        body["images"] = images
    if not body:
        return None
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [str(app_dir)],
        **body,
    }


async def render_kustomize(request: RenderRequest) -> list[dict[str, Any]]:
    try:
        check_kustomization(request.root, request.app_dir)
    except UnsafePathError as error:
        raise RenderError(str(error)) from None
    scratch = Path(tempfile.mkdtemp(prefix="rollouts-kustomize-"))
    try:
        target = request.app_dir
        extra = overlay(request.source.kustomize, request.app_dir) if request.source.kustomize else None
        if extra is not None:
            # kustomize refuses absolute roots, so the overlay sits next to the checkout,
            # inside the render's private work directory, and points at it relatively.
            target = Path(tempfile.mkdtemp(prefix="overlay-", dir=request.root.parent))
            extra["resources"] = ["../" + request.app_dir.relative_to(request.root.parent).as_posix()]
            (target / "kustomization.yaml").write_text(yaml.safe_dump(extra))
        # Options as `--flag=value` words and the directory after `--`: nothing here can become a flag.
        argv = [str(tool_path("kustomize")), "build", "--load-restrictor=LoadRestrictionsRootOnly", "--", str(target)]
        env = base_env({"HOME": str(scratch), "XDG_CONFIG_HOME": str(scratch / "config")})
        try:
            result = await run_tool(
                argv, cwd=scratch, env=env, timeout=request.limits.timeout, output_limit=request.limits.output_bytes
            )
        except ToolError as error:
            raise RenderError(request.scrub(str(error).replace(str(scratch), "<overlay>"))) from None
        return await parse_manifests(result.stdout, "kustomize build")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
