"""Where the control-plane binaries come from.

The directories and their order are the shared lookup rule of
`rollouts.binaries` (KUBEBUILDER_ASSETS, ROLLOUTS_BIN_DIR, the
`hack/build-control-plane.sh` cache). The dev cluster adds one rule of its
own: a directory only counts when it holds every binary asked for, so a
partial envtest install (etcd + apiserver only) falls through to our cache
rather than failing half-way through start-up.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rollouts.binaries import BinaryNotFoundError, candidate_dirs

CONTROL_PLANE_BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
)

__all__ = ["CONTROL_PLANE_BINARIES", "BinaryNotFoundError", "find_bin_dir"]


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
