"""Helm charts: `helm template` with Argo CD's source.helm options.

valueFiles are resolved against the app directory and must stay inside the
repository (following in-repo symlinks); remote value URLs are refused (the
class of CVE-2022-24348). `values` / `valuesObject` go to a temp file outside
the checkout (valuesObject wins, as in Argo CD). Helm runs with private
HOME/config/cache/data directories, so neither the controller's Helm plugins
nor its repository credentials are visible to a chart.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from rollouts.gitsync.procs import ToolError, base_env, run_tool
from rollouts.gitsync.renderers.base import RenderError, RenderRequest, parse_yaml_stream
from rollouts.gitsync.renderers.tools import tool_path
from rollouts.gitsync.safety import UnsafePathError, resolve_inside


def helm_args(request: RenderRequest, scratch: Path) -> list[str]:
    helm = request.source.helm
    release = (helm.release_name if helm else None) or request.app_name or "release"
    namespace = (helm.namespace if helm else None) or request.namespace
    args = ["template", release, "."]
    if namespace:
        args += ["--namespace", namespace]
    if helm is None:
        return [*args, "--include-crds"]
    for value_file in helm.value_files or []:
        try:
            path = resolve_inside(request.root, request.app_dir, value_file, what="helm valueFile")
        except UnsafePathError as error:
            raise RenderError(str(error)) from None
        if not path.is_file():
            if helm.ignore_missing_value_files:
                continue
            raise RenderError(f"helm valueFile {value_file!r} not found")
        args += ["--values", str(path)]
    inline: Any = helm.values_object if helm.values_object is not None else None
    if inline is None and helm.values:
        try:
            inline = yaml.safe_load(helm.values)
        except yaml.YAMLError as error:
            raise RenderError(f"helm values: invalid YAML: {error}") from None
    if inline:
        values_file = scratch / "inline-values.yaml"
        values_file.write_text(json.dumps(inline))
        args += ["--values", str(values_file)]
    for parameter in helm.parameters or []:
        flag = "--set-string" if parameter.force_string else "--set"
        args += [flag, f"{parameter.name}={parameter.value}"]
    if not helm.skip_crds:
        args.append("--include-crds")
    return args


async def render_helm(request: RenderRequest) -> list[dict[str, Any]]:
    scratch = Path(tempfile.mkdtemp(prefix="rollouts-helm-"))
    try:
        env = base_env(
            {
                "HOME": str(scratch),
                "HELM_CACHE_HOME": str(scratch / "cache"),
                "HELM_CONFIG_HOME": str(scratch / "config"),
                "HELM_DATA_HOME": str(scratch / "data"),
                "HELM_PLUGINS": str(scratch / "plugins"),
            }
        )
        argv = [str(tool_path("helm")), *helm_args(request, scratch)]
        try:
            result = await run_tool(
                argv,
                cwd=request.app_dir,
                env=env,
                timeout=request.limits.timeout,
                output_limit=request.limits.output_bytes,
            )
        except ToolError as error:
            raise RenderError(request.scrub(str(error).replace(str(scratch), "<values>"))) from None
        return parse_yaml_stream(result.stdout, "helm template")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
