"""Where the external binaries we run come from: one lookup rule for the product and the dev tools.

The Git sync renders with helm and kustomize; the dev cluster runs etcd,
kube-apiserver, ... . `hack/build-control-plane.sh` builds all of them into
one cache, and the controller image puts helm and kustomize on PATH, so both
look in the same places, in this order, first match wins (envtest convention
first):
1. `KUBEBUILDER_ASSETS` - a directory holding the binaries;
2. `ROLLOUTS_BIN_DIR` - the same, our own name for it;
3. the cache that `hack/build-control-plane.sh` fills:
   `~/.cache/rollouts/bin/k8s-<version>/` (or under `ROLLOUTS_BIN_CACHE`);
4. for a single binary, PATH.
This module sits outside both `gitsync` and `devcluster` so the product's
renderers never depend on the dev-cluster tooling; the dev cluster's own rule
(one directory must hold the whole control plane) lives in
`rollouts.devcluster.binaries`, on top of these directories.
"""

from __future__ import annotations

import os
from pathlib import Path

# The Kubernetes release hack/build-control-plane.sh builds (its K8S_VERSION); it names the cache directory.
KUBERNETES_VERSION = "v1.35.4"


class BinaryNotFoundError(RuntimeError):
    """No directory holds the binaries we need; the message says how to build them."""


def cache_dir() -> Path:
    root = os.environ.get("ROLLOUTS_BIN_CACHE")
    if root:
        return Path(root) / f"k8s-{KUBERNETES_VERSION}"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "rollouts" / "bin" / f"k8s-{KUBERNETES_VERSION}"


def candidate_dirs() -> list[Path]:
    """The directories to look in, in order (PATH not included)."""
    dirs = [Path(os.environ[name]) for name in ("KUBEBUILDER_ASSETS", "ROLLOUTS_BIN_DIR") if os.environ.get(name)]
    dirs.append(cache_dir())
    return dirs


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
