"""`rollouts plan`: the rows of an update walked on the product's simulator, as JSON and as a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.cli.main import main
from rollouts.cli.plan_rows import ROW_KEYS, plan_update
from rollouts.cli.plan_walk import AnalysisOutcome, manifests_from, parse_analysis

EXAMPLES = Path(__file__).parents[3] / "examples"
CANARY = EXAMPLES / "canary-analysis.yaml"


def rows_of(name: str, *, replicas: int | None = None, analysis: str = "pass") -> list[dict[str, Any]]:
    documents = list(yaml.safe_load_all((EXAMPLES / name).read_text()))
    return plan_update(new=manifests_from(documents), old=None, replicas=replicas, outcome=parse_analysis(analysis))


def notes(rows: list[dict[str, Any]]) -> str:
    return " | ".join(str(row["note"]) for row in rows if row["note"])


def test_parse_analysis() -> None:
    assert parse_analysis("pass") == AnalysisOutcome()
    assert parse_analysis("fail@3") == AnalysisOutcome(phase="Failed", step=3)
    assert parse_analysis("inconclusive@0") == AnalysisOutcome(phase="Inconclusive", step=0)
    with pytest.raises(ValueError, match="fail@STEP"):
        parse_analysis("fail")


def test_canary_walks_every_step_and_completes_within_bounds() -> None:
    rows = rows_of("canary-analysis.yaml", replicas=10)
    assert rows == rows_of("canary-analysis.yaml", replicas=10)  # deterministic
    assert [row["setWeight"] for row in rows if row["pause"] is not None] == [20, 50]
    assert {row["pause"] for row in rows if row["pause"] is not None} == {10}
    assert not any(row["needsHuman"] for row in rows)
    assert all(row["invariantsHeld"] for row in rows)
    assert all(8 <= row["availablePods"] <= 13 for row in rows)  # 10 - 25% down, 10 + 25% (rounded up) surge
    first, last = rows[0], rows[-1]
    assert first["note"] == "update applied"
    assert last["note"] == "completed" and last["phase"] == "Healthy"
    assert (last["stablePods"], last["canaryPods"], last["availablePods"]) == (10, 0, 10)
    assert last["selectors"]["stable"] == last["selectors"]["canary"] != first["selectors"]["stable"]
    assert last["elapsedSeconds"] == 20  # two 10s pauses
    assert last["analysis"] == {"started": 1, "finished": 1, "phase": "Successful"}


def test_failed_analysis_aborts_back_to_the_stable_replicaset() -> None:
    rows = rows_of("canary-analysis.yaml", replicas=10, analysis="fail@3")
    stable = rows[0]["selectors"]["stable"]
    last = rows[-1]
    assert "aborted: analysis failed" in str(last["note"])
    assert last["phase"] == "Degraded" and last["setWeight"] == 0
    assert (last["stablePods"], last["canaryPods"]) == (10, 0)
    assert last["selectors"] == {"stable": stable, "canary": stable}
    assert max(row["step"] or 0 for row in rows[1:]) == 3  # never got past the failing step
    assert all(row["invariantsHeld"] for row in rows)


def test_inconclusive_analysis_waits_for_a_human_who_promotes() -> None:
    rows = rows_of("canary-analysis.yaml", replicas=10, analysis="inconclusive@3")
    human = [row for row in rows if row["needsHuman"]]
    assert human and human[0]["pause"] == "indefinite" and human[0]["step"] == 3
    assert "promoted (simulated human)" in notes(rows)
    assert rows[-1]["note"] == "completed"


def test_rolling_update_keeps_maxsurge_and_maxunavailable() -> None:
    rows = rows_of("rolling-update.yaml")
    assert all(row["setWeight"] is None and row["step"] is None for row in rows)
    assert all(4 <= row["availablePods"] <= 5 for row in rows)  # maxSurge 1, maxUnavailable 0
    assert rows[-1]["note"] == "completed" and rows[-1]["stablePods"] == 4


def test_blue_green_pauses_for_a_human_then_switches_the_active_service() -> None:
    rows = rows_of("bluegreen-preview-analysis.yaml")
    old = rows[0]["selectors"]["active"]
    paused = next(row for row in rows if row["needsHuman"])
    assert paused["pause"] == "indefinite" and paused["selectors"]["active"] == old != paused["selectors"]["preview"]
    assert paused["analysis"]["phase"] == "Successful"  # the pre-promotion analysis ran first
    last = rows[-1]
    assert last["note"] == "completed"
    assert last["selectors"]["active"] == last["selectors"]["preview"] == paused["selectors"]["preview"]


def test_blue_green_without_auto_promotion_ignores_auto_promotion_seconds(tmp_path: Path) -> None:
    text = (EXAMPLES / "bluegreen-preview-analysis.yaml").read_text()
    assert "autoPromotionEnabled: false" in text
    text = text.replace("autoPromotionEnabled: false", "autoPromotionEnabled: false\n      autoPromotionSeconds: 30")
    rows = plan_update(
        new=manifests_from(list(yaml.safe_load_all(text))), old=None, replicas=None, outcome=parse_analysis("pass")
    )
    paused = next(row for row in rows if row["pause"] is not None)
    assert paused["pause"] == "indefinite" and paused["needsHuman"]  # the controller waits for a human, not 30s
    assert rows[-1]["note"] == "completed"


def test_workload_ref_walks_the_steps_of_the_referenced_template() -> None:
    rows = rows_of("workloadref-migration.yaml")
    assert [row["setWeight"] for row in rows if row["pause"] is not None] == [50]
    assert rows[-1]["note"] == "completed"


def test_cli_json_lists_row_objects(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(CANARY), "--replicas", "10", "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(list(row) == list(ROW_KEYS) for row in rows)
    assert rows == rows_of("canary-analysis.yaml", replicas=10)


def test_cli_table_shows_the_key_cells(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(CANARY), "--analysis", "inconclusive@3", "--no-color"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header[:6] == ["STEP", "WEIGHT", "STABLE", "CANARY", "AVAIL", "SELECTORS"]
    assert "indefinite human" in out
    assert "promoted (simulated human)" in out
    assert out.rstrip().splitlines()[-1].split()[-1] == "completed"


def test_cli_from_file_plans_the_change_between_two_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(CANARY.read_text().replace("demo-app:1.0", "demo-app:2.0"))
    assert main(["plan", "--from", str(CANARY), "-f", str(new), "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["setWeight"] for row in rows if row["pause"] is not None] == [20, 50]
    assert rows[-1]["note"] == "completed"


def test_cli_refuses_an_invalid_spec_with_the_controllers_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CANARY.read_text().replace("setWeight: 20", "setWeight: 120"))
    assert main(["plan", "-f", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        'error: The Rollout "demo" is invalid: spec.strategy.canary.steps[0].setWeight: '
        "SetWeight needs to be between 0 and 100\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--analysis", "fail"], "expected pass, fail@STEP or inconclusive@STEP"),
        (["--from", "live", "--kubeconfig", "/nonexistent/kubeconfig"], "kubeconfig file /nonexistent/kubeconfig does"),
        (["--replicas", "-1"], "--replicas must not be negative"),
    ],
)
def test_cli_refuses_bad_flags(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(CANARY), *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_refuses_a_file_without_a_rollout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "svc.yaml"
    empty.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n")
    assert main(["plan", "-f", str(empty)]) == 1
    assert "expected exactly one Rollout in the file, found 0" in capsys.readouterr().err
