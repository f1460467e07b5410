"""Every manifest in examples/ is accepted by the API server, parses with our models and lints clean.

The canary, rolling and blue-green examples are then driven by the running controller to
Healthy; the demo (tests/e2e/test_demo.py) runs examples/canary-analysis.yaml
through a good and a bad update.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.api.analysis import AnalysisTemplate
from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.gitsync import GitSync
from rollouts.api.kinds import ANALYSIS_TEMPLATES, ROLLOUTS
from rollouts.api.resource import Resource
from rollouts.api.rollout import Rollout
from rollouts.api.validation import validate_rollout
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import DEPLOYMENTS, SERVICES
from tests.kubetest import REPO, Kube, healthy_on_new_revision

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("controller")]

GITSYNCS = Resource("rollouts.io", "v1alpha1", "gitsyncs", "GitSync")
RESOURCES = {
    "Service": SERVICES,
    "Rollout": ROLLOUTS,
    "AnalysisTemplate": ANALYSIS_TEMPLATES,
    "Deployment": DEPLOYMENTS,
    "GitSync": GITSYNCS,
}
EXAMPLES = sorted((REPO / "examples").rglob("*.yaml"))


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_examples_exist() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"canary-analysis.yaml", "bluegreen-preview-analysis.yaml", "rolling-update.yaml"} <= names
    assert {"workloadref-migration.yaml", "gitsync.yaml"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_parses_and_validates(path: Path) -> None:
    for doc in documents(path):
        if doc["kind"] == "Rollout":
            assert validate_rollout(Rollout.from_dict(doc)) == [], doc["metadata"]["name"]
            assert Rollout.from_dict(doc).to_dict()["spec"] == doc["spec"]
        elif doc["kind"] == "AnalysisTemplate":
            assert AnalysisTemplate.from_dict(doc).to_dict()["spec"] == doc["spec"]
        elif doc["kind"] == "GitSync":
            assert GitSync.model_validate(doc).spec is not None


async def apply(client: KubeClient, namespace: str, doc: dict[str, Any]) -> dict[str, Any]:
    resource = RESOURCES[doc["kind"]]
    if doc["kind"] == "GitSync":
        # The example names a placeholder repository on the internet: the session's GitSync
        # controller must never try to fetch it (tests talk to 127.0.0.1 only).
        doc = {**doc, "metadata": {**doc["metadata"], "labels": {INSTANCE_ID_LABEL: "examples-not-synced"}}}
    return await client.patch(resource, namespace, doc["metadata"]["name"], doc, patch_type="apply", force=True)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
async def test_example_applies_to_the_api_server(kube: Kube, crds: None, path: Path) -> None:
    for doc in documents(path):
        stored = await apply(kube.client, kube.namespace, doc)
        assert stored["metadata"]["name"] == doc["metadata"]["name"]
        if doc["kind"] == "Rollout":
            # The server adds only defaults (e.g. ports[].protocol); the image and steps are as written.
            model = Rollout.from_dict(stored)
            assert model.spec.strategy.to_dict().keys() == doc["spec"]["strategy"].keys()
            assert model.spec.replicas == doc["spec"]["replicas"]


@pytest.mark.parametrize(
    "name",
    ["canary-analysis.yaml", "rolling-update.yaml", "bluegreen-preview-analysis.yaml", "workloadref-migration.yaml"],
)
async def test_example_rollouts_become_healthy(kube: Kube, crds: None, name: str) -> None:
    docs = documents(REPO / "examples" / name)
    for doc in docs:
        await apply(kube.client, kube.namespace, doc)
    rollout = next(d for d in docs if d["kind"] == "Rollout")["metadata"]["name"]
    await kube.wait(rollout, healthy_on_new_revision, what=f"{name} Healthy")
