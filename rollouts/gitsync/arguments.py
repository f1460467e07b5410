"""Keep values from a GitSync or a repository from becoming command-line flags of a tool.

helm, kustomize, git and plugins parse their argv with flag parsers that
treat any word starting with `-` as an option, wherever it stands before a
`--`. A GitSync field (a Helm release name, a revision) that reached argv as
`--post-renderer=./x.sh` made helm run a script from the repository. So every
value of `spec.source` that reaches a command line or a plugin's environment
(URL, revision, path, Helm release name, namespace, value files, parameter
names, jsonnet libs, plugin name and env) is refused when it starts with `-`
or holds a control character, with one clear message, before any tool runs.
The renderers additionally pass options in `--flag=value` form and
positionals after `--`, so a value that slipped past this check would still
be data, not a flag. What is data by construction may start with `-`: Helm
parameter values (`--set=name=value` is one argv word), inline Helm values
and every kustomize option (both go through a file, e.g. nameSuffix `-prod`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rollouts.api.gitsync import ApplicationSource

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeArgumentError(ValueError):
    """A value would be read as a flag (or carries control characters)."""


def check_argument(value: str, *, what: str) -> str:
    """`value` unchanged; UnsafeArgumentError when it starts with '-' or holds a control character."""
    if value.startswith("-"):
        raise UnsafeArgumentError(f"{what} {value!r} must not start with '-' (it would be read as a command-line flag)")
    if _CONTROL.search(value):
        raise UnsafeArgumentError(f"{what} {value!r} must not contain control characters")
    return value


def _named_values(source: ApplicationSource) -> Iterator[tuple[str, str | None]]:
    yield "source.repoURL", source.repo_url
    yield "source.path", source.path
    yield "source.targetRevision", source.target_revision
    if source.helm is not None:
        helm = source.helm
        yield "helm.releaseName", helm.release_name
        yield "helm.namespace", helm.namespace
        for value_file in helm.value_files or []:
            yield "helm.valueFiles entry", value_file
        for parameter in helm.parameters or []:
            yield "helm.parameters name", parameter.name
    if source.plugin is not None:
        yield "plugin.name", source.plugin.name
        for entry in source.plugin.env or []:
            yield "plugin.env name", entry.name
            yield f"plugin.env {entry.name}", entry.value
    if source.directory is not None and source.directory.jsonnet is not None:
        for lib in source.directory.jsonnet.libs or []:
            yield "jsonnet.libs entry", lib


def check_source(source: ApplicationSource) -> None:
    """Raise UnsafeArgumentError for the first value of `source` that could act as a flag."""
    for what, value in _named_values(source):
        if value:
            check_argument(value, what=what)
