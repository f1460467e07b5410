"""Where the control-plane binaries come from.

Order of lookup, first match wins (envtest convention first):
1. `KUBEBUILDER_ASSETS` - a directory holding etcd, kube-apiserver, ...;
2. `ROLLOUTS_BIN_DIR` - the same, our own name for it;
3. the cache that `hack/build-control-plane.sh` fills:
   `~/.cache/rollouts/bin/k8s-<version>/` (or under `ROLLOUTS_BIN_CACHE`).
A directory only counts when it holds every binary asked for, so a partial
envtest install (etcd + apiserver only) falls through to our cache rather than
failing half-way through start-up.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

KUBERNETES_VERSION = "v1.35.4"

CONTROL_PLANE_BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
)
RENDER_BINARIES = ("helm", "kustomize")


class BinaryNotFoundError(RuntimeError):
    """No directory holds the binaries we need; the message says how to build them."""


def cache_dir() -> Path:
    root = os.environ.get("ROLLOUTS_BIN_CACHE")
    if root:
        return Path(root) / f"k8s-{KUBERNETES_VERSION}"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "rollouts" / "bin" / f"k8s-{KUBERNETES_VERSION}"


def candidate_dirs() -> list[Path]:
    dirs = [Path(os.environ[name]) for name in ("KUBEBUILDER_ASSETS", "ROLLOUTS_BIN_DIR") if os.environ.get(name)]
    dirs.append(cache_dir())
    return dirs


def _holds(directory: Path, names: Iterable[str]) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in names)


def find_bin_dir(names: Iterable[str] = CONTROL_PLANE_BINARIES) -> Path:
    wanted = tuple(names)
    for directory in candidate_dirs():
        if _holds(directory, wanted):
            return directory
    searched = ", ".join(str(d) for d in candidate_dirs())
    raise BinaryNotFoundError(
        f"control-plane binaries {', '.join(wanted)} not found (looked in {searched}); "
        "build them once with `hack/build-control-plane.sh` (needs Go) or set KUBEBUILDER_ASSETS"
    )


def find_binary(name: str) -> Path:
    """One binary (e.g. helm): the directories above, then PATH."""
    for directory in candidate_dirs():
        if os.access(directory / name, os.X_OK):
            return directory / name
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and os.access(Path(entry) / name, os.X_OK):
            return Path(entry) / name
    raise BinaryNotFoundError(
        f"{name} not found in {', '.join(str(d) for d in candidate_dirs())} or PATH; "
        f"build it with `hack/build-control-plane.sh {name}`"
    )
