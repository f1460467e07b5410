"""The CLI driving a rollout that the running controller moves: the operator's day.

set image starts a revision, promote moves exactly one pause, abort degrades,
retry starts over, promote --full finishes, undo returns to the old template,
restart is seen by the controller, status exit codes follow the phase.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rollouts.api.kinds import ROLLOUTS
from rollouts.kube.resources import SERVICES
from tests.integration.cli.test_cli_patches import Cli
from tests.kubetest import Kube, healthy_on_new_revision, paused_at, rollout_manifest, service_manifest, status

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("controller")]

STEPS: list[dict[str, Any]] = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]


@pytest.fixture
def cli(cluster: Any, namespace: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(cluster, namespace, capsys)


async def run(cli: Cli, *argv: str) -> tuple[int, str, str]:
    # In a thread, so the test's own loop (and its waits) keep running meanwhile.
    return await asyncio.to_thread(cli, *argv)


def template_image(obj: dict[str, Any]) -> str:
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


async def test_operator_flow(cli: Cli, kube: Kube) -> None:
    for service in ("web-canary", "web-stable"):
        await kube.create(SERVICES, service_manifest(service, "web"))
    manifest = rollout_manifest(
        "web", replicas=5, steps=STEPS, canary={"canaryService": "web-canary", "stableService": "web-stable"}
    )
    await kube.create(ROLLOUTS, manifest)
    first = await kube.wait("web", healthy_on_new_revision, timeout=120, what="initial Healthy")
    first_stable = status(first)["stableRS"]
    assert (await run(cli, "status", "web", "--timeout", "60s"))[:2] == (0, "Healthy\n")
    code, _, err = await run(cli, "promote", "web")
    assert code == 1 and "Healthy" in err

    assert (await run(cli, "set", "image", "web", "app=app:v2"))[:2] == (0, 'rollout "web" image updated\n')
    await kube.wait("web", paused_at(1), what="paused at step 1")
    assert (await run(cli, "status", "web", "--no-watch"))[:2] == (0, "Paused - CanaryPauseStep\n")

    assert (await run(cli, "promote", "web"))[0] == 0
    paused = await kube.wait("web", paused_at(3), what="one promote: from the pause at 1 to the pause at 3")
    assert status(paused)["currentStepIndex"] == 3

    assert (await run(cli, "abort", "web"))[0] == 0
    await kube.wait("web", lambda o: status(o).get("phase") == "Degraded", what="aborted rollout Degraded")
    code, _, err = await run(cli, "status", "web", "--timeout", "30s")
    assert code == 1 and err.startswith("error: The rollout is in a degraded state with message: RolloutAborted")

    assert (await run(cli, "retry", "rollout", "web"))[0] == 0
    await kube.wait("web", paused_at(1), what="retry starts the steps over")

    assert (await run(cli, "promote", "web", "--full"))[0] == 0
    done = await kube.wait("web", healthy_on_new_revision, what="fully promoted")
    assert template_image(done) == "app:v2"
    assert (await run(cli, "status", "web", "--timeout", "60s"))[0] == 0

    assert (await run(cli, "restart", "web"))[0] == 0
    # The controller sees the request (replacing every pod is the controller's own test).
    await kube.wait(
        "web",
        lambda o: status(o).get("message") == "rollout is restarting" or bool(status(o).get("restartedAt")),
        what="restart observed by the controller",
    )

    assert (await run(cli, "undo", "web"))[:2] == (0, "rollout 'web' undo\n")
    assert template_image(await kube.rollout("web")) == "app:v1"
    back = await kube.wait("web", lambda o: status(o).get("currentPodHash") == first_stable, what="undo back to v1")
    assert status(back)["stableRS"] != first_stable, "undo is a new rollout of the old template"
