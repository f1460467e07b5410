"""Read-only views of Experiments for `list experiments` and `get experiment`, as Argo's plugin prints them.

`list` shows Argo's columns (NAME, STATUS, DURATION, REMAINING, AGE);
`get` shows the phase and message, then each template's status and replica
counts and each analysis run the Experiment started, from the Experiment's
status alone. Objects are plain dicts; a missing field never raises.
"""

from __future__ import annotations

from datetime import datetime

from rollouts.api.common import InvalidValueError, parse_duration
from rollouts.api.timestamps import parse_time
from rollouts.cli.analysis_view import analysis_icon
from rollouts.cli.objects import Obj, age, dict_at, human_duration, int_of, metadata
from rollouts.cli.render import render_table

_LABEL_WIDTH = 17
_COMPLETED = frozenset({"Successful", "Failed", "Error", "Inconclusive"})
_TEMPLATE_HEADER = ["TEMPLATE", "STATUS", "DESIRED", "CURRENT", "UP-TO-DATE", "AVAILABLE"]
_ANALYSIS_HEADER = ["ANALYSIS", "ANALYSISRUN", "STATUS"]
LIST_HEADER = ["NAME", "STATUS", "DURATION", "REMAINING", "AGE"]


def _duration_seconds(exp: Obj) -> float | None:
    try:
        return parse_duration(dict_at(exp, "spec").get("duration"))
    except InvalidValueError:
        return None


def list_cells(exp: Obj, *, now: datetime, all_namespaces: bool) -> list[str]:
    """One row of `list experiments`."""
    meta = metadata(exp)
    status = dict_at(exp, "status")
    phase = str(status.get("phase") or "")
    duration = _duration_seconds(exp)
    shown_duration, remaining = "-", "-"
    if duration is not None:
        shown_duration = human_duration(duration)
        available = parse_time(status.get("availableAt"))
        if phase not in _COMPLETED and available is not None:
            left = duration - (now - available).total_seconds()
            if left > 0:
                remaining = human_duration(left)
    cells = [str(meta.get("name", "")), phase, shown_duration, remaining, age(meta, now)]
    return [str(meta.get("namespace", "")), *cells] if all_namespaces else cells


def list_header(*, all_namespaces: bool) -> list[str]:
    return ["NAMESPACE", *LIST_HEADER] if all_namespaces else list(LIST_HEADER)


def _desired(exp: Obj, template_name: str) -> str:
    for template in dict_at(exp, "spec").get("templates") or []:
        if isinstance(template, dict) and template.get("name") == template_name:
            return str(int_of(template.get("replicas"), 1))
    return "-"


def experiment_sections(exp: Obj, *, now: datetime) -> tuple[list[tuple[str, str]], list[list[str]], list[list[str]]]:
    """(header fields, template rows, analysis rows) of `get experiment`; tables include their headers."""
    meta = metadata(exp)
    status = dict_at(exp, "status")
    phase = str(status.get("phase") or "")
    fields = [
        ("Name:", str(meta.get("name", ""))),
        ("Namespace:", str(meta.get("namespace", ""))),
        ("Status:", f"{analysis_icon(phase)} {phase}".strip()),
    ]
    if status.get("message"):
        fields.append(("Message:", str(status["message"])))
    if dict_at(exp, "spec").get("duration"):
        fields.append(("Duration:", str(dict_at(exp, "spec")["duration"])))
    fields.append(("Age:", age(meta, now)))
    templates: list[list[str]] = [list(_TEMPLATE_HEADER)]
    for entry in status.get("templateStatuses") or []:
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("name", ""))
        state = str(entry.get("status") or "")
        message = f" ({entry['message']})" if entry.get("message") else ""
        templates.append(
            [
                name,
                f"{state}{message}",
                _desired(exp, name),
                str(int_of(entry.get("replicas"))),
                str(int_of(entry.get("updatedReplicas"))),
                str(int_of(entry.get("availableReplicas"))),
            ]
        )
    analyses: list[list[str]] = [list(_ANALYSIS_HEADER)]
    for entry in status.get("analysisRuns") or []:
        if not isinstance(entry, dict):
            continue
        run_phase = str(entry.get("phase") or "")
        analyses.append(
            [str(entry.get("name", "")), str(entry.get("analysisRun", "")), f"{analysis_icon(run_phase)} {run_phase}"]
        )
    return fields, templates, analyses


def render_experiment(exp: Obj, *, now: datetime) -> str:
    """The text of `get experiment`."""
    fields, templates, analyses = experiment_sections(exp, now=now)
    lines = [label.ljust(_LABEL_WIDTH) + value for label, value in fields]
    if len(templates) > 1:
        lines += ["", render_table(templates)]
    if len(analyses) > 1:
        lines += ["", render_table(analyses)]
    return "\n".join(lines)
