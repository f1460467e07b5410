"""Golden output of `get rollout` for a canary paused mid-steps and a blue-green in preview.

The fixtures are our own objects as the API returns them (tests/fixtures/cli);
`now` is fixed in each fixture so ages are stable. Regenerate a golden file only
after checking the new output by eye: ROLLOUTS_UPDATE_GOLDEN=1 pytest this file.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from rich.console import Console

from rollouts.api.timestamps import parse_time
from rollouts.cli import info, render

FIXTURES = Path(__file__).parents[2] / "fixtures" / "cli"


def _view(name: str) -> info.RolloutView:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    now = parse_time(data["now"])
    assert now is not None
    return info.rollout_view(
        data["rollout"],
        replica_sets=data["replicaSets"],
        pods=data["pods"],
        analysis_runs=data["analysisRuns"],
        now=now,
    )


@pytest.mark.parametrize("name", ["canary-paused-step", "bluegreen-preview"])
def test_get_rollout_matches_golden_output(name: str) -> None:
    golden = FIXTURES / f"{name}.golden.txt"
    rendered = render.render_rollout(_view(name)).plain + "\n"
    if os.environ.get("ROLLOUTS_UPDATE_GOLDEN"):
        golden.write_text(rendered)
    assert rendered == golden.read_text()


def test_plain_console_output_has_no_escape_codes_and_equals_golden() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, highlight=False, soft_wrap=True)
    console.print(render.render_rollout(_view("canary-paused-step")))
    assert "\x1b[" not in out.getvalue()
    assert out.getvalue() == (FIXTURES / "canary-paused-step.golden.txt").read_text()


def test_terminal_output_is_coloured_but_aligned_like_plain() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="standard", highlight=False, soft_wrap=True)
    console.print(render.render_rollout(_view("canary-paused-step")))
    coloured = out.getvalue()
    assert "\x1b[32m✔\x1b[0m" in coloured  # green OK icon
    assert "\x1b[33mcanary\x1b[0m" in coloured  # yellow canary tag
    stripped = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert stripped == (FIXTURES / "canary-paused-step.golden.txt").read_text()


def test_no_color_console_has_no_colour_codes() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, no_color=True, highlight=False, soft_wrap=True)
    console.print(render.render_rollout(_view("bluegreen-preview")))
    assert "\x1b[3" not in out.getvalue()  # no foreground colours


def test_canary_view_numbers() -> None:
    view = _view("canary-paused-step")
    assert (view.status, view.message, view.step, view.set_weight, view.actual_weight) == (
        "Paused",
        "CanaryPauseStep",
        "1/5",
        "20",
        "20",
    )
    assert [rs.name for rs in view.replica_sets] == [
        "guestbook-7d9f6c5b4f",
        "guestbook-6cf58b8d9c",
        "guestbook-55b4c9d7b8",
    ]
    # Runs and pods owned by something else are not shown.
    assert "someone-elses-run" not in {run.name for run in view.analysis_runs}
    assert all(pod.name != "unrelated-pod" for rs in view.replica_sets for pod in rs.pods)
    run = view.analysis_runs[0]
    assert (run.successful, run.failed, run.inconclusive, run.error) == (3, 0, 1, 1)
    assert [job.name for job in view.analysis_runs[1].jobs] == ["guestbook-6cf58b8d9c-1-smoke-job"]
    assert view.revisions() == [2, 1, 0]


def test_bluegreen_view_tags() -> None:
    view = _view("bluegreen-preview")
    assert view.strategy == "BlueGreen" and view.step == "" and view.set_weight == ""
    tags = {rs.name: rs.tags for rs in view.replica_sets}
    assert tags == {"checkout-84c7d6b5f8": ["preview"], "checkout-5b6c8d7f9a": ["stable", "active"]}
    assert [(i.image, i.tags) for i in view.images()] == [
        ("registry.local/checkout:1.4", ["active", "stable"]),
        ("registry.local/checkout:1.5", ["preview"]),
    ]
