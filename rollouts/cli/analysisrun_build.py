"""Pure parts of `create analysisrun`: parsing `-a name=value` and building the run from templates.

Argo's plugin turns an AnalysisTemplate (or, with --global, a
ClusterAnalysisTemplate) into an AnalysisRun with the caller's arguments. The
merging rules (metrics concatenated, args merged and all required) are the
controllers' own, in rollouts.api.runs, so a run created here is the run a
Rollout would create from the same template. Kept free of I/O so it is unit
tested without a cluster; the command fetches the templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from rollouts.api.analysis import AnalysisTemplate, Argument
from rollouts.api.analysisref import AnalysisTemplateRef
from rollouts.api.common import ObjectMeta
from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.runs import TemplateError, collect_templates, new_run_from_templates
from rollouts.cli.main import CommandError

TemplateKey = tuple[bool, str]
"""(cluster scoped, name) of a template."""


def parse_arg_flags(flags: Sequence[str]) -> list[Argument]:
    """`-a NAME=VALUE` flags as run arguments (the value may contain '=')."""
    out: list[Argument] = []
    for flag in flags:
        name, sep, value = flag.partition("=")
        if not sep or not name:
            raise CommandError(f"invalid argument {flag!r}: arguments must be in the form NAME=VALUE")
        out.append(Argument(name=name, value=value))
    return out


def template_model(raw: Mapping[str, Any], *, cluster_scope: bool) -> AnalysisTemplate:
    kind = "ClusterAnalysisTemplate" if cluster_scope else "AnalysisTemplate"
    try:
        return AnalysisTemplate.from_dict(dict(raw))
    except ValidationError as error:
        name = (raw.get("metadata") or {}).get("name", "")
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CommandError(f'{kind} "{name}" is invalid: {where}: {first["msg"]}') from None


def nested_refs(raw: Mapping[str, Any]) -> list[TemplateKey]:
    """The templates a template includes through `spec.templates`."""
    refs = (raw.get("spec") or {}).get("templates") or []
    return [(bool(r.get("clusterScope")), str(r.get("templateName", ""))) for r in refs if isinstance(r, dict)]


def run_name(template_name: str, *, name: str | None, generate_name: str | None) -> tuple[str | None, str | None]:
    """(name, generateName) of the run: --name, else --generate-name, else "<template>-"."""
    if name:
        return name, None
    prefix = generate_name or f"{template_name}-"
    if prefix == "-":
        raise CommandError("name is invalid")
    return None, prefix


def build_analysis_run(
    root: TemplateKey,
    templates: Mapping[TemplateKey, Mapping[str, Any]],
    *,
    args: list[Argument],
    namespace: str,
    name: str | None = None,
    generate_name: str | None = None,
    instance_id: str | None = None,
) -> dict[str, Any]:
    """The AnalysisRun (as the API takes it) from the root template and those it includes.

    `templates` holds every template reachable from `root` (fetched by the caller).
    """
    models = {key: template_model(raw, cluster_scope=key[0]) for key, raw in templates.items()}

    def lookup(ref: AnalysisTemplateRef) -> AnalysisTemplate | None:
        return models.get((bool(ref.cluster_scope), ref.template_name))

    run_meta_name, run_generate_name = run_name(root[1], name=name, generate_name=generate_name)
    labels = {INSTANCE_ID_LABEL: instance_id} if instance_id else None
    try:
        namespaced, cluster = collect_templates(
            [AnalysisTemplateRef(template_name=root[1], cluster_scope=root[0] or None)], lookup
        )
        run = new_run_from_templates(
            namespaced,
            cluster,
            args=args,
            metadata=ObjectMeta(
                name=run_meta_name, generate_name=run_generate_name, namespace=namespace, labels=labels
            ),
        )
    except TemplateError as error:
        raise CommandError(str(error)) from None
    return run.to_dict()
