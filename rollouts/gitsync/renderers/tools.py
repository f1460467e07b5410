"""Where helm and kustomize come from: one lookup for the whole Git sync code.

`ROLLOUTS_BIN_DIR` / `KUBEBUILDER_ASSETS` first, then the cache that
`hack/build-control-plane.sh` fills, then PATH (the controller image installs
both on PATH) — the same order as the control-plane binaries.
"""

from __future__ import annotations

from pathlib import Path

from rollouts.devcluster.binaries import BinaryNotFoundError, find_binary
from rollouts.gitsync.renderers.base import RenderError


def tool_path(name: str) -> Path:
    try:
        return find_binary(name)
    except BinaryNotFoundError as error:
        raise RenderError(str(error)) from None
