"""Flag handling of `rollouts controller` that needs no cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollouts.cli import controller_cmd
from rollouts.cli.main import build_parser


def test_argo_lease_name_and_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    assert controller_cmd.lease_name(None) == "argo-rollouts-controller-lock"
    assert controller_cmd.lease_name("blue") == "argo-rollouts-controller-lock-blue"
    monkeypatch.setenv("POD_NAMESPACE", "ops")
    assert controller_cmd.default_election_namespace() == "ops"
    monkeypatch.delenv("POD_NAMESPACE")
    monkeypatch.setattr(controller_cmd, "_SERVICE_ACCOUNT_NAMESPACE", Path("/nonexistent/namespace"))
    assert controller_cmd.default_election_namespace() == "argo-rollouts"


def test_controller_selection() -> None:
    assert controller_cmd.selected_controllers(None, disable_gitsync=False) is None
    assert controller_cmd.selected_controllers(" a, b ,", disable_gitsync=False) == ["a", "b"]
    assert controller_cmd.selected_controllers("a,gitsync", disable_gitsync=True) == ["a"]
    assert "gitsync" not in (controller_cmd.selected_controllers(None, disable_gitsync=True) or [])


def test_the_charts_flags_parse() -> None:
    args = build_parser().parse_args(
        [
            "controller",
            "--leader-elect",
            "--workers=4",
            "--log-format=json",
            "--metrics-port=8090",
            "--healthz-port=8080",
            "--instance-id=x",
            "--namespace=ns",
            "--disable-gitsync",
        ]
    )
    assert (args.workers, args.log_format, args.instance_id, args.disable_gitsync) == (4, "json", "x", True)
