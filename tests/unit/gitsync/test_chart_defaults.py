"""The chart's Git sync defaults: GitSyncs apply through a ServiceAccount of their namespace unless opted out."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.binaries import find_binary

pytestmark = pytest.mark.tools  # renders the chart with helm

CHART = Path(__file__).resolve().parents[3] / "charts" / "rollouts"


def controller_args(*sets: str) -> list[str]:
    argv = [str(find_binary("helm")), "template", "r", str(CHART), *(f"--set={s}" for s in sets)]
    rendered = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout
    docs: list[dict[str, Any]] = [d for d in yaml.safe_load_all(rendered) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    args: list[str] = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    return args


def test_gitsyncs_apply_as_the_gitsync_service_account_by_default() -> None:
    assert "--gitsync-default-service-account=gitsync" in controller_args("gitSync.enabled=true")


def test_the_controllers_own_rights_are_an_explicit_opt_out() -> None:
    args = controller_args("gitSync.enabled=true", "gitSync.defaultServiceAccount=")
    assert not any(a.startswith("--gitsync-default-service-account") for a in args)


def test_a_disabled_git_sync_gets_no_gitsync_flags_but_the_off_switch() -> None:
    args = controller_args()
    assert "--disable-gitsync" in args
    assert not any(a.startswith("--gitsync-default-service-account") for a in args)
