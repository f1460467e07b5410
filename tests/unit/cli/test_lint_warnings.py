"""`lint` warnings: valid specs that `rollouts plan` shows going wrong; printed as `warning:`, exit code unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.cli.main import main

TEMPLATE = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "ok"}}


def rollout(*, replicas: int = 5, strategy: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "app:v1"}]},
            },
            "strategy": strategy,
        },
    }


def lint(tmp_path: Path, capsys: pytest.CaptureFixture[str], *documents: dict[str, Any]) -> tuple[int, list[str]]:
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    code = main(["lint", "-f", str(path)])
    prefix = f"{path}:"
    return code, [line.removeprefix(prefix) for line in capsys.readouterr().out.splitlines()]


def test_a_pause_without_duration_waits_for_a_human(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {"duration": "1m"}}]
    code, lines = lint(tmp_path, capsys, rollout(strategy={"canary": {"steps": steps}}))
    assert code == 0
    assert len(lines) == 1
    assert lines[0].startswith("22: warning: spec.strategy.canary.steps[1].pause: pause without a duration and no")
    assert "`rollouts promote`" in lines[0] and "give it a duration" in lines[0]


def test_an_open_pause_after_analysis_or_a_manual_blue_green_is_deliberate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "ok"}]}}, {"pause": {}}]
    gated = rollout(strategy={"canary": {"steps": steps}})
    manual = rollout(strategy={"blueGreen": {"activeService": "a", "autoPromotionEnabled": False}})
    assert lint(tmp_path, capsys, gated) == (0, [])
    assert lint(tmp_path, capsys, manual) == (0, [])


def test_weights_the_replica_count_cannot_express(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    steps = [{"setWeight": 5}, {"setWeight": 50}, {"setWeight": 100}]
    code, lines = lint(tmp_path, capsys, rollout(replicas=3, strategy={"canary": {"steps": steps}}))
    assert code == 0
    assert lines == [
        "21: warning: spec.strategy.canary.steps[0].setWeight: setWeight 5 cannot be met with 3 replicas "
        "without trafficRouting: 1 of 4 pods run the canary, so it gets about 25% of the traffic"
    ]


def test_weights_that_fit_or_traffic_routing_give_no_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exact = rollout(replicas=5, strategy={"canary": {"steps": [{"setWeight": 20}, {"setWeight": 60}]}})
    routed = rollout(
        replicas=3,
        strategy={
            "canary": {
                "canaryService": "c",
                "stableService": "s",
                "trafficRouting": {"nginx": {"stableIngress": "i"}},
                "steps": [{"setWeight": 5}],
            }
        },
    )
    assert lint(tmp_path, capsys, exact) == (0, [])
    assert lint(tmp_path, capsys, routed) == (0, [])


def test_analysis_naming_a_template_the_file_lacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = {**TEMPLATE, "spec": {"metrics": [{"name": "m", "provider": {"job": {"spec": {"template": {}}}}}]}}
    strategy = {
        "canary": {
            "analysis": {"templates": [{"templateName": "ok"}, {"templateName": "gone"}]},
            "steps": [
                {"setWeight": 20},
                {"analysis": {"templates": [{"templateName": "shared", "clusterScope": True}]}},
            ],
        }
    }
    code, lines = lint(tmp_path, capsys, template, rollout(strategy=strategy))
    assert code == 0
    assert [line.split(": ", 3)[2] for line in lines] == [
        "spec.strategy.canary.analysis.templates[1].templateName",
        "spec.strategy.canary.steps[1].analysis.templates[0].templateName",
    ]
    assert 'AnalysisTemplate "gone" is not in this file' in lines[0]
    assert 'ClusterAnalysisTemplate "shared" is not in this file' in lines[1]
    assert all(": warning: " in line for line in lines)


def test_template_references_are_not_checked_in_a_file_without_templates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strategy = {"canary": {"analysis": {"templates": [{"templateName": "elsewhere"}]}, "steps": [{"setWeight": 20}]}}
    assert lint(tmp_path, capsys, rollout(strategy=strategy)) == (0, [])


def test_errors_still_exit_1_and_an_invalid_rollout_gets_no_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = rollout(replicas=3, strategy={"canary": {"steps": [{"setWeight": 120}, {"pause": {}}]}})
    warned = {**rollout(strategy={"canary": {"steps": [{"pause": {}}]}}), "metadata": {"name": "other"}}
    code, lines = lint(tmp_path, capsys, bad, warned)
    assert code == 1
    assert [": warning: " in line for line in lines] == [False, True]
    assert "SetWeight needs to be between 0 and 100" in lines[0]


def test_no_warning_for_progress_deadline_shorter_than_the_pauses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The progress deadline does not run while the rollout is paused, so long timed pauses never trip it.
    steps = [{"setWeight": 20}, {"pause": {"duration": "1h"}}]
    manifest = rollout(strategy={"canary": {"steps": steps}})
    manifest["spec"]["progressDeadlineSeconds"] = 60
    assert lint(tmp_path, capsys, manifest) == (0, [])
