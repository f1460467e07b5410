"""`lint`: problems reported with file, line and field; exit codes 0/1/2."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollouts.cli.main import main

LINT = Path(__file__).parents[2] / "fixtures" / "cli" / "lint"


def test_valid_manifests_pass_silently(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "-f", str(LINT / "valid.yaml")]) == 0
    assert capsys.readouterr().out == ""


def test_invalid_manifests_name_line_and_field(capsys: pytest.CaptureFixture[str]) -> None:
    path = LINT / "invalid.yaml"
    assert main(["lint", "-f", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{path}:22: spec.strategy.canary.steps[1].setWeight: SetWeight needs to be between 0 and 100",
        f"{path}:30: spec.replicas: Input should be a valid integer, unable to parse string as an integer",
    ]


def test_unknown_fields_are_errors(capsys: pytest.CaptureFixture[str]) -> None:
    path = LINT / "unknown-field.yaml"
    assert main(["lint", "-f", str(path)]) == 1
    assert capsys.readouterr().out == f"{path}:16: spec.strategy.canary.stepz: unknown field\n"


def test_broken_yaml_and_missing_file_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["lint", "-f", str(LINT / "broken.yaml")]) == 2
    assert "broken.yaml:3: invalid YAML" in capsys.readouterr().out
    assert main(["lint", "-f", str(tmp_path / "absent.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_json_input_and_missing_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "r.json"
    manifest.write_text('{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {},\n "spec": {}}')
    assert main(["lint", "-f", str(manifest)]) == 1
    out = capsys.readouterr().out
    assert f"{manifest}:1: metadata.name: is required" in out
    assert "spec.strategy" in out
