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
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rollouts.gitsync.arguments import UnsafeArgumentError, check_argument
from rollouts.gitsync.procs import ToolError, base_env, run_tool
from rollouts.gitsync.renderers.base import RenderError, RenderRequest, load_yaml, parse_manifests
from rollouts.gitsync.renderers.tools import tool_path
from rollouts.gitsync.safety import UnsafePathError, resolve_inside

# Helm's own rule for release names (pkg/chartutil ValidateReleaseName), and a DNS-1123 label.
_RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _checked(value: str, pattern: re.Pattern[str], *, what: str, limit: int) -> str:
    try:
        check_argument(value, what=what)
    except UnsafeArgumentError as error:
        raise RenderError(str(error)) from None
    if len(value) > limit or not pattern.match(value):
        raise RenderError(f"{what} {value!r} is not a valid name (lower-case letters, digits, '-', at most {limit})")
    return value


def helm_args(request: RenderRequest, scratch: Path) -> list[str]:
    """`helm template` arguments: every option as one `--flag=value` word, positionals after `--`."""
    helm = request.source.helm
    release = (helm.release_name if helm else None) or request.app_name or "release"
    release = _checked(release, _RELEASE_NAME, what="helm.releaseName", limit=53)
    namespace = (helm.namespace if helm else None) or request.namespace
    args = ["template"]
    if namespace:
        args.append("--namespace=" + _checked(namespace, _NAMESPACE, what="helm.namespace", limit=63))
    positionals = ["--", release, "."]
    if helm is None:
        return [*args, "--include-crds", *positionals]
    for value_file in helm.value_files or []:
        try:
            check_argument(value_file, what="helm valueFile")
            path = resolve_inside(request.root, request.app_dir, value_file, what="helm valueFile")
        except (UnsafePathError, UnsafeArgumentError) as error:
            raise RenderError(str(error)) from None
        if not path.is_file():
            if helm.ignore_missing_value_files:
                continue
            raise RenderError(f"helm valueFile {value_file!r} not found")
        args.append(f"--values={path}")
    inline: Any = helm.values_object if helm.values_object is not None else None
    if inline is None and helm.values:
        inline = load_yaml(helm.values, "helm values")
    if inline:
        values_file = scratch / "inline-values.yaml"
        values_file.write_text(json.dumps(inline))
        args.append(f"--values={values_file}")
    for parameter in helm.parameters or []:
        try:
            check_argument(parameter.name, what="helm parameter name")
        except UnsafeArgumentError as error:
            raise RenderError(str(error)) from None
        flag = "--set-string" if parameter.force_string else "--set"
        # One argv word: the value can never be taken for a flag of its own.
        args.append(f"{flag}={parameter.name}={parameter.value}")
    if not helm.skip_crds:
        args.append("--include-crds")
    return [*args, *positionals]


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
        return await parse_manifests(result.stdout, "helm template")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
