"""Confine rendering to the repository checkout.

A repository is untrusted input. Before any tool runs, the whole checkout is
scanned for symlinks leaving it (Argo CD does the same since CVE-2022-24348 /
CVE-2022-31036 / CVE-2022-24731: a symlinked values file, YAML manifest or
chart file pointing at /etc or another checkout). Paths named in the spec or
in files of the repo (valueFiles, Jsonnet imports and libs, kustomize
resources) are resolved with `resolve_inside`, which follows in-repo symlinks
(users link values files to each other) and refuses anything that ends up
outside, absolute paths and URLs. Messages name the offending path and never
quote the content of the file it points to.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^git@|^git::")


class UnsafePathError(Exception):
    """A path would leave the repository, or points to a remote location."""


def is_url(value: str) -> bool:
    return bool(_URL.match(value.strip()))


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve_inside(root: Path, base: Path, relative: str, *, what: str) -> Path:
    """`relative` (from directory `base`) resolved through symlinks; must stay under `root`.

    `what` names the kind of reference in the error ("helm valueFile", "jsonnet import").
    """
    real_root = root.resolve()
    if is_url(relative):
        raise UnsafePathError(f"{what} {relative!r}: remote locations are not allowed")
    if os.path.isabs(relative):
        raise UnsafePathError(f"{what} {relative!r}: absolute paths are not allowed")
    candidate = (base / relative).resolve()
    if not _inside(candidate, real_root):
        raise UnsafePathError(f"{what} {relative!r} resolves outside the repository")
    return candidate


def relative_name(root: Path, path: Path) -> str:
    """A path as shown to users: relative to the checkout, never the random temp dir."""
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return path.name


def check_symlinks(root: Path) -> None:
    """Raise on the first symlink under `root` whose target lies outside it (or loops)."""
    real_root = root.resolve()
    for directory, dirnames, filenames in os.walk(root):
        if ".git" in dirnames:
            dirnames.remove(".git")
        for name in [*dirnames, *filenames]:
            path = Path(directory) / name
            if not path.is_symlink():
                continue
            shown = relative_name(root, path)
            try:
                target = path.resolve(strict=False)
            except (OSError, RuntimeError):
                raise UnsafePathError(f"symlink {shown} cannot be resolved (loop?)") from None
            if not _inside(target, real_root):
                raise UnsafePathError(f"symlink {shown} points outside the repository")
