"""Blue-green updates gated by real pre- and post-promotion analysis (Kubernetes Jobs run by kwok)."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.api.kinds import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, ROLLOUTS
from rollouts.kube.resources import SERVICES
from tests.kubetest import (
    Kube,
    counts,
    healthy_on_new_revision,
    job_analysis_template,
    rollout_manifest,
    service_manifest,
    status,
)
from tests.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("controller")]


async def start(kube: Kube, name: str, **blue_green: Any) -> str:
    await kube.create(ANALYSIS_TEMPLATES, job_analysis_template("passes", fail=False))
    await kube.create(ANALYSIS_TEMPLATES, job_analysis_template("fails", fail=True))
    await kube.create(SERVICES, service_manifest(f"{name}-active", name))
    await kube.create(SERVICES, service_manifest(f"{name}-preview", name))
    manifest = rollout_manifest(name, replicas=3)
    manifest["spec"]["strategy"] = {
        "blueGreen": {"activeService": f"{name}-active", "previewService": f"{name}-preview", **blue_green}
    }
    await kube.create(ROLLOUTS, manifest)
    ready = await kube.wait(name, healthy_on_new_revision, what="initial deploy")
    return str(status(ready)["stableRS"])


async def test_pre_promotion_failure_keeps_the_active_service_on_the_old_version(kube: Kube) -> None:
    stable = await start(
        kube, "pre", prePromotionAnalysis={"templates": [{"templateName": "fails"}]}, abortScaleDownDelaySeconds=2
    )
    await kube.set_image("pre", "app:v2")
    aborted = await kube.wait("pre", lambda o: bool(status(o).get("abort")), what="aborted by analysis", timeout=90)
    new = status(aborted)["currentPodHash"]
    run_status = status(aborted)["blueGreen"]["prePromotionAnalysisRunStatus"]
    assert run_status["status"] == "Failed"
    run = await kube.client.get(ANALYSIS_RUNS, kube.namespace, run_status["name"])
    assert run["metadata"]["labels"]["rollout-type"] == "PrePromotion"
    assert await kube.service_hash("pre-active") == stable, "the active Service never left the old version"
    await eventually(
        lambda: kube.replicasets("pre"),
        lambda rss: counts(rss)[stable] == (3, 3) and counts(rss)[new][0] == 0,
        what="stable at 3/3, preview scaled down",
        timeout=60,
    )
    assert await kube.service_hash("pre-active") == stable

    # `retry`: a fresh run under Argo's collision-counter name; it fails again and aborts again.
    await kube.patch_status("pre", {"abort": False})
    again = await kube.wait(
        "pre",
        lambda o: (
            bool(status(o).get("abort"))
            and (status(o).get("blueGreen") or {}).get("prePromotionAnalysisRunStatus", {}).get("name")
            == f"{run_status['name']}.1"
        ),
        what="aborted again by the retried run",
        timeout=90,
    )
    assert status(again)["blueGreen"]["prePromotionAnalysisRunStatus"]["status"] == "Failed"
    assert await kube.service_hash("pre-active") == stable


async def test_passing_pre_and_post_promotion_analysis_promotes(kube: Kube) -> None:
    stable = await start(
        kube,
        "both",
        prePromotionAnalysis={"templates": [{"templateName": "passes"}]},
        postPromotionAnalysis={"templates": [{"templateName": "passes"}]},
    )
    await kube.set_image("both", "app:v2")
    done = await kube.wait("both", healthy_on_new_revision, what="promoted after both analyses", timeout=90)
    new = status(done)["stableRS"]
    assert new != stable
    assert await kube.service_hash("both-active") == new
    blue_green = status(done)["blueGreen"]
    assert blue_green["prePromotionAnalysisRunStatus"]["status"] == "Successful"
    assert blue_green["postPromotionAnalysisRunStatus"]["status"] == "Successful"


async def test_post_promotion_failure_switches_back_to_the_old_version(kube: Kube) -> None:
    stable = await start(kube, "post", postPromotionAnalysis={"templates": [{"templateName": "fails"}]})
    await kube.set_image("post", "app:v2")
    aborted = await kube.wait("post", lambda o: bool(status(o).get("abort")), what="aborted by analysis", timeout=90)
    assert status(aborted)["blueGreen"]["postPromotionAnalysisRunStatus"]["status"] == "Failed"
    assert status(aborted)["stableRS"] == stable, "never promoted to stable"
    await eventually(
        lambda: kube.service_hash("post-active"),
        lambda selected: selected == stable,
        what="active Service back on the stable version",
    )
    rss = counts(await kube.replicasets("post"))
    assert rss[stable] == (3, 3)
