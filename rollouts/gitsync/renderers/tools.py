"""Where helm and kustomize come from: one lookup for the whole Git sync code.

The lookup rule itself (KUBEBUILDER_ASSETS, ROLLOUTS_BIN_DIR, the cache that
`hack/build-control-plane.sh` fills, then PATH, where the controller image
installs both) is `rollouts.binaries`, shared with the dev cluster; here a
missing tool becomes a RenderError, which the GitSync reports in its status.
"""

from __future__ import annotations

from pathlib import Path

from rollouts.binaries import BinaryNotFoundError, find_binary
from rollouts.gitsync.renderers.base import RenderError


def tool_path(name: str) -> Path:
    try:
        return find_binary(name)
    except BinaryNotFoundError as error:
        raise RenderError(str(error)) from None
