"""Generate the CRD YAML in crds/ (and the chart's copy) from the pydantic models.

Never edit crds/ by hand: run `.venv/bin/python hack/gen_crds.py`. A unit test
regenerates in memory and fails when the files are out of date.

Schemas are structural (every node typed) and derived from the models'
JSON schema: Int32/Int64 fields keep Argo's `format: int32`/`int64`,
IntOrString becomes x-kubernetes-int-or-string, plain dicts
(pod templates, provider blocks) keep unknown fields, and every object keeps
unknown fields too, so a manifest written for a newer Argo Rollouts is stored
whole rather than pruned.
"""

from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from rollouts.api.analysis import AnalysisRunSpec, AnalysisRunStatus, AnalysisTemplateSpec
from rollouts.api.constants import GROUP, VERSION
from rollouts.api.experiment import ExperimentSpec, ExperimentStatus
from rollouts.api.gitsync import (
    GITSYNC_GROUP,
    GITSYNC_KIND,
    GITSYNC_PLURAL,
    GITSYNC_VERSION,
    GitSyncSpec,
    GitSyncStatus,
)
from rollouts.api.rollout import RolloutSpec, RolloutStatus

REPO = Path(__file__).resolve().parent.parent
OUTPUT_DIRS = (REPO / "crds", REPO / "charts" / "rollouts" / "files" / "crds")
AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


@dataclass
class CrdSpec:
    kind: str
    plural: str
    short_names: list[str]
    spec_model: type[BaseModel]
    status_model: type[BaseModel] | None
    scope: str = "Namespaced"
    group: str = GROUP
    version: str = VERSION
    columns: list[dict[str, Any]] = field(default_factory=list)
    scale: bool = False
    # Argo gives only Rollouts a status subresource; its controller writes the
    # status of AnalysisRuns and Experiments with plain patches of the object,
    # so CRDs installed by Argo and ours must agree on this.
    status_subresource: bool = False
    categories: list[str] = field(default_factory=lambda: ["argoproj"])


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _resolve(defs[name], defs)
        return {k: _resolve(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, defs) for v in node]
    return node


def _structural(node: dict[str, Any]) -> dict[str, Any]:
    """Pydantic JSON schema node -> Kubernetes structural OpenAPI v3 node."""
    variants = node.get("anyOf")
    if variants is not None:
        non_null = [v for v in variants if v.get("type") != "null"]
        types = {v.get("type") for v in non_null}
        if types == {"integer", "string"}:
            return {"x-kubernetes-int-or-string": True}
        if len(non_null) == 1:
            return _structural(non_null[0])
        return {"x-kubernetes-preserve-unknown-fields": True}
    if "enum" in node or "const" in node:
        values = node.get("enum") or [node["const"]]
        return {"type": node.get("type", "string"), "enum": values}
    kind = node.get("type")
    if kind == "object":
        properties = node.get("properties")
        extra = node.get("additionalProperties")
        if properties:
            result: dict[str, Any] = {
                "type": "object",
                "properties": {name: _structural(sub) for name, sub in properties.items()},
                "x-kubernetes-preserve-unknown-fields": True,
            }
            if node.get("required"):
                result["required"] = sorted(node["required"])
            return result
        if isinstance(extra, dict) and extra.get("type") in ("string", "integer", "boolean"):
            return {"type": "object", "additionalProperties": {"type": extra["type"]}}
        if isinstance(extra, dict) and extra:
            return {"type": "object", "additionalProperties": _structural(extra)}
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    if kind == "array":
        return {"type": "array", "items": _structural(node.get("items", {}))}
    if kind == "integer" and node.get("format") in ("int32", "int64"):
        # Argo's int32/int64 fields (rollouts/api/numbers.py); the bounds stay in the models,
        # which refuse an out-of-range value with a message naming the field, as Argo's CRDs
        # carry no minimum/maximum either.
        return {"type": kind, "format": node["format"]}
    if kind in ("string", "integer", "boolean", "number"):
        return {"type": kind}
    return {"x-kubernetes-preserve-unknown-fields": True}


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="serialization")
    resolved = _resolve({k: v for k, v in raw.items() if k != "$defs"}, raw.get("$defs", {}))
    return _structural(resolved)


# ---------------------------------------------------------------- API-server defaults
# Argo's CRDs carry the defaults of the core/v1 types inside pod templates (the
# +default markers of k8s.io/api), so the API server stores e.g. ports[].protocol
# "TCP" even when the manifest leaves it out. The pod-template hash is computed
# from the stored template, so ours must default the same fields to hash alike.


def _obj(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "x-kubernetes-preserve-unknown-fields": True}


def _array_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


_EMPTY_NAME = {"name": {"type": "string", "default": ""}}
_GRPC_PROBE = _obj({"grpc": _obj({"service": {"type": "string", "default": ""}})})
_CONTAINER = _obj(
    {
        "ports": _array_of(_obj({"protocol": {"type": "string", "default": "TCP"}})),
        "env": _array_of(
            _obj(
                {
                    "valueFrom": _obj(
                        {
                            "configMapKeyRef": _obj(dict(_EMPTY_NAME)),
                            "secretKeyRef": _obj(dict(_EMPTY_NAME)),
                            "fileKeyRef": _obj({"optional": {"type": "boolean", "default": False}}),
                        }
                    )
                }
            )
        ),
        "envFrom": _array_of(_obj({"configMapRef": _obj(dict(_EMPTY_NAME)), "secretRef": _obj(dict(_EMPTY_NAME))})),
        "livenessProbe": _GRPC_PROBE,
        "readinessProbe": _GRPC_PROBE,
        "startupProbe": _GRPC_PROBE,
    }
)
POD_TEMPLATE_DEFAULTS = _obj(
    {
        "spec": _obj(
            {
                "containers": _array_of(_CONTAINER),
                "initContainers": _array_of(_CONTAINER),
                "ephemeralContainers": _array_of(_CONTAINER),
                "imagePullSecrets": _array_of(_obj(dict(_EMPTY_NAME))),
            }
        )
    }
)
DATADOG_DEFAULTS = _obj(
    {
        "apiVersion": {"type": "string", "default": "v1"},
        "interval": {"type": "string", "default": "5m"},
        "requestTimeout": {"type": "string", "default": "10s"},
    }
)


def _at(schema: dict[str, Any], *path: str) -> dict[str, Any]:
    node = schema
    for key in path:
        node = node["items"] if key == "[]" else node["properties"][key]
    return node


def add_argo_defaults(kind: str, spec_schema: dict[str, Any]) -> None:
    """Put Argo's API-server defaults into the spec schema of `kind` (in place)."""
    if kind == "Rollout":
        spec_schema["properties"]["template"] = copy.deepcopy(POD_TEMPLATE_DEFAULTS)
    elif kind == "Experiment":
        _at(spec_schema, "templates", "[]")["properties"]["template"] = copy.deepcopy(POD_TEMPLATE_DEFAULTS)
    elif kind in ("AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"):
        provider = _at(spec_schema, "metrics", "[]", "provider")["properties"]
        provider["job"]["properties"]["spec"] = _obj({"template": copy.deepcopy(POD_TEMPLATE_DEFAULTS)})
        provider["datadog"] = copy.deepcopy(DATADOG_DEFAULTS)


def crd(spec: CrdSpec) -> dict[str, Any]:
    spec_schema = schema_of(spec.spec_model)
    add_argo_defaults(spec.kind, spec_schema)
    properties: dict[str, Any] = {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": spec_schema,
    }
    required = ["spec"]
    if spec.status_model is not None:
        properties["status"] = schema_of(spec.status_model)
    version: dict[str, Any] = {
        "name": spec.version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": properties, "required": required}},
    }
    if spec.columns:
        version["additionalPrinterColumns"] = spec.columns
    subresources: dict[str, Any] = {}
    if spec.status_subresource:
        subresources["status"] = {}
    if spec.scale:
        subresources["scale"] = {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.HPAReplicas",
            "labelSelectorPath": ".status.selector",
        }
    version["subresources"] = subresources
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{spec.plural}.{spec.group}"},
        "spec": {
            "group": spec.group,
            "names": {
                "kind": spec.kind,
                "listKind": f"{spec.kind}List",
                "plural": spec.plural,
                "singular": spec.kind.lower(),
                "shortNames": spec.short_names,
                "categories": spec.categories,
            },
            "scope": spec.scope,
            "versions": [version],
        },
    }


def crd_specs() -> list[CrdSpec]:
    specs = [
        CrdSpec(
            kind="Rollout",
            plural="rollouts",
            short_names=["ro"],
            spec_model=RolloutSpec,
            status_model=RolloutStatus,
            scale=True,
            status_subresource=True,
            columns=[
                {
                    "name": "Desired",
                    "type": "integer",
                    "jsonPath": ".spec.replicas",
                    "description": "Number of desired pods",
                },
                {
                    "name": "Current",
                    "type": "integer",
                    "jsonPath": ".status.replicas",
                    "description": "Non-terminated pods",
                },
                {
                    "name": "Up-to-date",
                    "type": "integer",
                    "jsonPath": ".status.updatedReplicas",
                    "description": "Pods with the desired template",
                },
                {
                    "name": "Available",
                    "type": "integer",
                    "jsonPath": ".status.availableReplicas",
                    "description": "Pods available for minReadySeconds",
                },
                AGE,
            ],
        ),
        CrdSpec(
            kind="AnalysisTemplate",
            plural="analysistemplates",
            short_names=["at"],
            spec_model=AnalysisTemplateSpec,
            status_model=None,
            columns=[AGE],
        ),
        CrdSpec(
            kind="ClusterAnalysisTemplate",
            plural="clusteranalysistemplates",
            short_names=["cat"],
            spec_model=AnalysisTemplateSpec,
            status_model=None,
            scope="Cluster",
            columns=[AGE],
        ),
        CrdSpec(
            kind="AnalysisRun",
            plural="analysisruns",
            short_names=["ar"],
            spec_model=AnalysisRunSpec,
            status_model=AnalysisRunStatus,
            columns=[
                {
                    "name": "Status",
                    "type": "string",
                    "jsonPath": ".status.phase",
                    "description": "AnalysisRun status",
                },
                AGE,
            ],
        ),
        CrdSpec(
            kind="Experiment",
            plural="experiments",
            short_names=["exp"],
            spec_model=ExperimentSpec,
            status_model=ExperimentStatus,
            columns=[
                {
                    "name": "Status",
                    "type": "string",
                    "jsonPath": ".status.phase",
                    "description": "Experiment status",
                },
                AGE,
            ],
        ),
        CrdSpec(
            kind=GITSYNC_KIND,
            plural=GITSYNC_PLURAL,
            short_names=["gs"],
            spec_model=GitSyncSpec,
            status_model=GitSyncStatus,
            group=GITSYNC_GROUP,
            version=GITSYNC_VERSION,
            status_subresource=True,
            categories=["rollouts"],
            columns=[
                {
                    "name": "Sync Status",
                    "type": "string",
                    "jsonPath": ".status.sync.status",
                    "description": "Synced, OutOfSync or Unknown",
                },
                {
                    "name": "Health Status",
                    "type": "string",
                    "jsonPath": ".status.health.status",
                    "description": "Health of the applied resources",
                },
                {
                    "name": "Revision",
                    "type": "string",
                    "jsonPath": ".status.sync.revision",
                    "description": "Commit last synced",
                    "priority": 10,
                },
                AGE,
            ],
        ),
    ]
    return specs


class _PlainDumper(yaml.SafeDumper):
    """Writes shared sub-schemas out in full: no YAML anchors in a CRD."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_all() -> dict[str, str]:
    """File name -> YAML text for every CRD."""
    files = {}
    for spec in crd_specs():
        document = crd(spec)
        text = "# Generated by hack/gen_crds.py from rollouts/api; do not edit.\n"
        text += yaml.dump(document, Dumper=_PlainDumper, sort_keys=False, width=120)
        files[f"{spec.plural}.{spec.group}.yaml"] = text
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are out of date")
    args = parser.parse_args()
    files = render_all()
    stale = []
    for directory in OUTPUT_DIRS:
        for name, text in files.items():
            path = directory / name
            if not path.exists() or path.read_text() != text:
                stale.append(path)
                if not args.check:
                    directory.mkdir(parents=True, exist_ok=True)
                    path.write_text(text)
        for existing in directory.glob("*.yaml"):
            if existing.name not in files:
                stale.append(existing)
                if not args.check:
                    existing.unlink()
    if args.check and stale:
        print("out of date: " + ", ".join(str(p.relative_to(REPO)) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
