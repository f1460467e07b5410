"""The AnalysisRun rows of `get rollout`: each run's phase, measurement counts and Job measurements.

Runs are grouped under the revision they were created for and ordered as
Argo's plugin orders them, so both CLIs list them the same way. Objects are
plain dicts; a missing field never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rollouts.api.timestamps import parse_time
from rollouts.cli.icons import ICON_BAD, ICON_OK, ICON_PROGRESSING, ICON_UNKNOWN, ICON_WAITING, ICON_WARNING
from rollouts.cli.objects import Obj, age, dict_at, human_duration, int_of, metadata, owner_in, revision_of


@dataclass
class JobView:
    name: str
    status: str
    icon: str
    age: str


@dataclass
class AnalysisRunView:
    name: str
    revision: int
    status: str
    icon: str
    age: str
    created: str
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    jobs: list[JobView] = field(default_factory=list)


def analysis_icon(phase: str) -> str:
    return {
        "Successful": ICON_OK,
        "Inconclusive": ICON_UNKNOWN,
        "Pending": ICON_WAITING,
        "Running": ICON_PROGRESSING,
        "Failed": ICON_BAD,
        "Error": ICON_WARNING,
    }.get(phase, " ")


def _add_metric_result(view: AnalysisRunView, *, result: Obj, now: datetime) -> None:
    """Count one metric's measurements into the run's totals and list the Jobs it ran."""
    view.successful += int_of(result.get("successful"))
    view.failed += int_of(result.get("failed"))
    view.inconclusive += int_of(result.get("inconclusive"))
    view.error += int_of(result.get("error"))
    for measurement in result.get("measurements") or []:
        measured_meta = measurement.get("metadata") if isinstance(measurement, dict) else None
        if isinstance(measured_meta, dict) and measured_meta.get("job-name"):
            measured = str(measurement.get("phase") or "")
            started = parse_time(measurement.get("startedAt"))
            view.jobs.append(
                JobView(
                    name=str(measured_meta["job-name"]),
                    status=measured,
                    icon=analysis_icon(measured),
                    age=human_duration((now - started).total_seconds()) if started else "",
                )
            )


def analysis_run_views(rollout: Obj, *, runs: list[Obj], now: datetime) -> list[AnalysisRunView]:
    """The rollout's AnalysisRuns: newest revision first, oldest first within a revision."""
    uid = str(metadata(rollout).get("uid", ""))
    views: list[AnalysisRunView] = []
    for run in runs:
        if owner_in(run, {uid}) is None:
            continue
        meta = metadata(run)
        phase = str(dict_at(run, "status").get("phase") or "")
        view = AnalysisRunView(
            name=str(meta.get("name", "")),
            revision=revision_of(run),
            status=phase,
            icon=analysis_icon(phase),
            age=age(meta, now),
            created=str(meta.get("creationTimestamp", "")),
        )
        for result in dict_at(run, "status").get("metricResults") or []:
            if isinstance(result, dict):
                _add_metric_result(view, result=result, now=now)
        views.append(view)
    # Newest revision first; within one revision, oldest first (Argo's order).
    views.sort(key=lambda v: (-v.revision, v.created, v.name))
    return views
