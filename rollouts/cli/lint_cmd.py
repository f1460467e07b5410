"""`lint -f FILE`: check manifests offline, with the line and field of each problem.

Three layers, each what the controller would do with the object: the YAML
itself, the pydantic models (types, and fields the API does not have: Argo's
lint rejects unknown fields too), then the controller's spec validation
(rollouts.api.validation). Every problem is printed as `FILE:LINE: field:
message`, the line found by walking the parsed YAML nodes along the field
path. Valid Rollouts then get lint_warnings.py's warnings (`FILE:LINE:
warning: field: message`): what `rollouts plan` would show going wrong. Exit 0
when every object is valid (warnings or not), 1 when any problem was found, and
2 when the file cannot be read or parsed.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from rollouts.api import AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate, Rollout
from rollouts.api.common import K8sModel
from rollouts.api.rollout import RolloutTrafficRouting
from rollouts.api.validation import rollout_errors
from rollouts.cli.lint_warnings import file_templates, rollout_warnings

_MODELS: dict[str, type[K8sModel]] = {
    "Rollout": Rollout,
    "AnalysisTemplate": AnalysisTemplate,
    "ClusterAnalysisTemplate": ClusterAnalysisTemplate,
    "AnalysisRun": AnalysisRun,
}
# Models that keep unmodelled blocks on purpose (traffic-router provider settings).
_OPEN_MODELS: tuple[type[BaseModel], ...] = (RolloutTrafficRouting,)
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lint",
        help="validate Rollout and analysis manifests offline",
        description="Exit codes: 0 valid, 1 problems found, 2 file unreadable or not YAML.",
    )
    parser.add_argument("-f", "--filename", required=True, help="manifest file ('-' for stdin)")
    parser.set_defaults(handler=lint_command)


@dataclass(frozen=True)
class Problem:
    line: int
    path: str
    message: str
    warning: bool = False

    def format(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        if self.warning:
            where += ": warning"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for key, index in _PATH_PART.findall(path):
        parts.append(int(index) if index else key)
    return parts


def line_of(node: yaml.Node, path: str) -> int:
    """1-based line of the deepest node along `path` that exists in the document."""
    line = node.start_mark.line + 1
    for part in _split_path(path):
        if isinstance(part, str) and isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if getattr(key_node, "value", None) == part:
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(part, int) and isinstance(node, yaml.SequenceNode):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _loc_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in ("int", "str", "bool", "float", "list", "dict") or "[" in part:
            continue  # union member names in pydantic locations, not fields
        else:
            text += ("." if text else "") + part
    return text


def _unknown_fields(model: BaseModel, path: str) -> list[str]:
    found: list[str] = []
    if not isinstance(model, _OPEN_MODELS):
        found.extend(f"{path}.{key}" if path else key for key in (model.model_extra or {}))
    for name, info in type(model).model_fields.items():
        alias = info.alias or name
        value = getattr(model, name)
        child = f"{path}.{alias}" if path else alias
        if isinstance(value, BaseModel):
            found.extend(_unknown_fields(value, child))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found.extend(_unknown_fields(item, f"{child}[{index}]"))
    return found


def lint_document(data: Any, node: yaml.Node) -> list[Problem]:
    if not isinstance(data, dict):
        return [Problem(node.start_mark.line + 1, "", "a manifest must be a mapping")]
    kind = data.get("kind")
    model_class = _MODELS.get(str(kind))
    if model_class is None:
        return []  # Services, Ingresses, ...: not ours to check
    problems: list[Problem] = []
    if not (data.get("metadata") or {}).get("name"):
        problems.append(Problem(line_of(node, "metadata"), "metadata.name", "is required"))
    try:
        model = model_class.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            path = _loc_path(item["loc"])
            problems.append(Problem(line_of(node, path), path, item["msg"]))
        return problems
    for path in _unknown_fields(model, ""):
        problems.append(Problem(line_of(node, path), path, "unknown field"))
    if isinstance(model, Rollout):
        for field_error in rollout_errors(model):
            problems.append(Problem(line_of(node, field_error.path), field_error.path, field_error.message))
    return problems


def lint_text(text: str) -> list[Problem]:
    """Every problem in a (multi-document) YAML or JSON text; raises yaml.YAMLError."""
    nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    documents = list(yaml.safe_load_all(text))
    templates = file_templates(documents)
    problems: list[Problem] = []
    for node, data in zip(nodes, documents, strict=True):
        if node is None or data is None:
            continue
        found = lint_document(data, node)
        problems.extend(found)
        if not found and data.get("kind") == "Rollout":
            for warning in rollout_warnings(data, templates=templates):
                problems.append(Problem(line_of(node, warning.path), warning.path, warning.message, warning=True))
    return problems


def lint_command(args: argparse.Namespace) -> int:
    filename = args.filename
    try:
        text = sys.stdin.read() if filename == "-" else Path(filename).read_text()
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {filename}: {error}", file=sys.stderr)
        return 2
    try:
        problems = lint_text(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark is not None else filename
        print(f"{where}: invalid YAML: {getattr(error, 'problem', None) or error}")
        return 2
    for problem in problems:
        print(problem.format(filename))
    return 1 if any(not problem.warning for problem in problems) else 0
