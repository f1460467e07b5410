"""`rollouts plan --from live`: plan the update from the Rollout running in the cluster to a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.api.kinds import ANALYSIS_TEMPLATES, ROLLOUTS
from rollouts.kube.resources import SERVICES
from tests.integration.cli.test_cli_patches import Cli
from tests.kubetest import (
    Kube,
    healthy_on_new_revision,
    job_analysis_template,
    rollout_manifest,
    service_manifest,
    status,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("controller")]

CANARY = {"canaryService": "live-canary", "stableService": "live-stable"}
LIVE_STEPS: list[dict[str, Any]] = [{"setWeight": 20}, {"pause": {}}]
NEW_STEPS: list[dict[str, Any]] = [
    {"setWeight": 50},
    {"analysis": {"templates": [{"templateName": "smoke"}]}},
    {"pause": {"duration": "10s"}},
]


@pytest.fixture
def cli(cluster: Any, namespace: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(cluster, namespace, capsys)


async def test_plan_from_the_live_rollout_to_a_file(kube: Kube, cli: Cli, tmp_path: Path) -> None:
    for service in CANARY.values():
        await kube.create(SERVICES, service_manifest(service, "live"))
    await kube.create(ANALYSIS_TEMPLATES, job_analysis_template("smoke", fail=False))
    await kube.create(ROLLOUTS, rollout_manifest("live", replicas=4, steps=LIVE_STEPS, canary=CANARY))
    running = await kube.wait("live", healthy_on_new_revision, what="initial deploy Healthy")
    live_hash = str(status(running)["stableRS"])

    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(rollout_manifest("live", replicas=6, steps=NEW_STEPS, canary=CANARY, image="app:v2")))
    code, out, err = cli("plan", "-f", str(new), "--from", "live", "-o", "json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    first, last = rows[0], rows[-1]
    # The update starts from what runs: the live pods (4 of them, its pod-template hash), not the file's.
    assert (first["stablePods"], first["canaryPods"]) == (4, 0)
    assert first["selectors"]["stable"] == live_hash[:6]
    # ... and walks the file's steps to the file's replica count.
    assert [row["setWeight"] for row in rows if row["pause"] is not None] == [50]
    assert {row["pause"] for row in rows if row["pause"] is not None} == {10}
    assert last["note"] == "completed" and (last["stablePods"], last["canaryPods"]) == (6, 0)
    assert last["analysis"] == {"started": 1, "finished": 1, "phase": "Successful"}
    assert last["selectors"]["stable"] != live_hash[:6]
    assert status(await kube.rollout("live"))["stableRS"] == live_hash, "planning changes nothing in the cluster"


async def test_plan_from_live_names_a_missing_rollout(cli: Cli, tmp_path: Path) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(rollout_manifest("absent", steps=LIVE_STEPS)))
    code, out, err = cli("plan", "-f", str(new), "--from", "live")
    assert (code, out) == (1, "")
    assert err == 'error: rollouts.argoproj.io "absent" not found\n'
