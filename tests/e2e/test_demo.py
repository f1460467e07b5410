"""`rollouts demo` runs to the end on its own: a good canary promoted, a bad one rolled back."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_runs_to_the_end_without_a_terminal() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rollouts", "demo", "--timeout", "180"],
        capture_output=True,
        text=True,
        timeout=400,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "demo-app:2.0 is the stable version now" in out
    assert "The analysis failed, so the controller aborted the update by itself" in out
    assert "All 5 pods run the stable version again" in out
    assert "Demo finished: tearing everything down" in out
    assert "\x1b[" not in out, "plain lines without a terminal"
