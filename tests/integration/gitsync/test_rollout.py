"""A Rollout delivered through Git, then moved through its canary by the rollout controller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rollouts.kube.client import KubeClient
from tests.integration.gitsync.helpers import create_gitsync, gitsync_manifest, status, synced_at, wait_gitsync
from tests.kubetest import ControllerProcess, Kube, healthy_on_new_revision, rollout_manifest
from tests.unit.gitsync.gitrepo import commit, git, make_repo, write

STEPS = [{"setWeight": 20}, {"pause": {"duration": "1s"}}, {"setWeight": 60}, {"pause": {"duration": "1s"}}]


def rollout_yaml(image: str) -> str:
    return yaml.safe_dump(rollout_manifest("shop", replicas=5, image=image, steps=STEPS))


def image_of(rollout: dict[str, Any]) -> str:
    return str(rollout["spec"]["template"]["spec"]["containers"][0]["image"])


async def test_rollout_from_git_progresses_through_its_canary_after_a_commit(
    kube_client: KubeClient, kube: Kube, controller: ControllerProcess, tmp_path: Path
) -> None:
    namespace = kube.namespace
    repo = make_repo(tmp_path / "repo", {"rollout.yaml": rollout_yaml("shop:v1")})
    await create_gitsync(kube_client, namespace, gitsync_manifest("shop", repo))
    await wait_gitsync(
        kube_client,
        namespace,
        "shop",
        lambda o: synced_at(git(repo, "rev-parse", "HEAD"))(o) and status(o)["health"]["status"] == "Healthy",
        what="first revision Healthy through Git",
        timeout=180,
    )
    first = await kube.wait("shop", healthy_on_new_revision, what="v1 Healthy")
    first_hash = status(first)["stableRS"]

    write(repo, "rollout.yaml", rollout_yaml("shop:v2"))
    second = commit(repo, "shop v2")
    # The canary runs its steps: the rollout is seen mid-way (a canary ReplicaSet beside the stable one).
    await kube.wait(
        "shop",
        lambda r: image_of(r) == "shop:v2" and status(r).get("currentPodHash") != first_hash,
        what="v2 picked up from Git",
        timeout=120,
    )
    done = await kube.wait(
        "shop",
        lambda r: healthy_on_new_revision(r) and status(r)["stableRS"] != first_hash,
        what="v2 promoted through the canary",
        timeout=180,
    )
    assert image_of(done) == "shop:v2"
    assert status(done)["currentStepIndex"] == len(STEPS)  # every canary step ran
    replicasets = await kube.replicasets("shop")
    assert set(replicasets) >= {first_hash, status(done)["stableRS"]}
    gs = await wait_gitsync(
        kube_client,
        namespace,
        "shop",
        lambda o: synced_at(second)(o) and status(o)["health"]["status"] == "Healthy",
        what="GitSync Synced and Healthy on v2",
    )
    assert [r["health"]["status"] for r in status(gs)["resources"]] == ["Healthy"]
