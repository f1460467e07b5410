"""Config management plugins: a named command configured on the controller, never in the repo.

The controller maps plugin names to argv (a flag or a ConfigMap). The command
runs in the app directory of the private checkout with Argo CD's environment
(ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE, ARGOCD_APP_REVISION,
ARGOCD_APP_SOURCE_PATH, and each `source.plugin.env` entry as ARGOCD_ENV_<name>),
and must print a YAML or JSON stream of manifests on stdout.
"""

from __future__ import annotations

import re
from typing import Any

from rollouts.gitsync.procs import ToolError, base_env, run_tool
from rollouts.gitsync.renderers.base import RenderError, RenderRequest, parse_manifests
from rollouts.gitsync.safety import relative_name

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


async def render_plugin(request: RenderRequest) -> list[dict[str, Any]]:
    plugin = request.source.plugin
    assert plugin is not None
    argv = request.plugins.get(plugin.name)
    if not argv:
        known = ", ".join(sorted(request.plugins)) or "none"
        raise RenderError(f"plugin {plugin.name!r} is not configured on the controller (configured: {known})")
    env = base_env(
        {
            "ARGOCD_APP_NAME": request.app_name,
            "ARGOCD_APP_NAMESPACE": request.namespace,
            "ARGOCD_APP_REVISION": request.revision,
            "ARGOCD_APP_SOURCE_PATH": relative_name(request.root, request.app_dir),
        }
    )
    for entry in plugin.env or []:
        if not _ENV_NAME.match(entry.name):
            raise RenderError(f"plugin env name {entry.name!r} is not a valid variable name")
        env[f"ARGOCD_ENV_{entry.name}"] = entry.value
    try:
        result = await run_tool(
            argv, cwd=request.app_dir, env=env, timeout=request.limits.timeout, output_limit=request.limits.output_bytes
        )
    except ToolError as error:
        raise RenderError(f"plugin {plugin.name}: {request.scrub(str(error))}") from None
    return await parse_manifests(result.stdout, f"plugin {plugin.name}")
