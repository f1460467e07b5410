"""Our CRDs install on a real kube-apiserver and store every fixture manifest whole.

Installs crds/ by server-side apply, waits until each CRD is Established, then
applies every manifest under tests/fixtures/manifests, reads each object back
and checks that the models parse it and that nothing was lost or changed:
spec, status (through the status subresource where there is one), unknown
fields. Also checks the scale subresource paths that HPA and kubectl use.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_asyncio.client.api_client import ApiClient

from rollouts.api import AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate, Experiment, Rollout
from rollouts.api.common import K8sModel
from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.gitsync import GitSync
from rollouts.api.kinds import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, CLUSTER_ANALYSIS_TEMPLATES, EXPERIMENTS, ROLLOUTS
from rollouts.api.podhash import compute_pod_template_hash, pod_template_equal_ignore_hash
from rollouts.api.resource import Resource
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import InvalidError
from rollouts.kube.resources import DEPLOYMENTS, REPLICASETS, SERVICES
from tests.waiting import eventually

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CRD_DIR = REPO / "crds"
MANIFESTS = REPO / "tests" / "fixtures" / "manifests"
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False)
GITSYNCS = Resource("rollouts.io", "v1alpha1", "gitsyncs", "GitSync")
RESOURCES = {
    r.kind: r
    for r in (
        GITSYNCS,
        ROLLOUTS,
        ANALYSIS_RUNS,
        ANALYSIS_TEMPLATES,
        CLUSTER_ANALYSIS_TEMPLATES,
        EXPERIMENTS,
        SERVICES,
        DEPLOYMENTS,
        REPLICASETS,
    )
}
MODELS: dict[str, type[K8sModel]] = {
    "Rollout": Rollout,
    "AnalysisTemplate": AnalysisTemplate,
    "ClusterAnalysisTemplate": ClusterAnalysisTemplate,
    "AnalysisRun": AnalysisRun,
    "Experiment": Experiment,
    "GitSync": GitSync,
}


@pytest.fixture
async def kube(kube_api: ApiClient) -> KubeClient:
    # Shares the session ApiClient; not closed here (the session fixture owns it).
    return KubeClient(kube_api, field_manager="rollouts-tests")


async def install_crds(kube: KubeClient) -> list[str]:
    names = []
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        await kube.apply(CRDS, crd)
        names.append(crd["metadata"]["name"])
    for name in names:
        await eventually(
            lambda name=name: kube.get(CRDS, None, name),
            lambda crd: any(
                c["type"] == "Established" and c["status"] == "True"
                for c in crd.get("status", {}).get("conditions", [])
            ),
            timeout=60,
            what=f"CRD {name} Established",
        )
    return names


async def test_crds_install_and_are_established(kube: KubeClient) -> None:
    names = await install_crds(kube)
    assert sorted(names) == [
        "analysisruns.argoproj.io",
        "analysistemplates.argoproj.io",
        "clusteranalysistemplates.argoproj.io",
        "experiments.argoproj.io",
        "gitsyncs.rollouts.io",
        "rollouts.argoproj.io",
    ]
    rollout_crd = await kube.get(CRDS, None, "rollouts.argoproj.io")
    accepted = rollout_crd["status"]["acceptedNames"]
    assert accepted["shortNames"] == ["ro"] and accepted["kind"] == "Rollout"
    # A non-structural schema would show up as a NonStructuralSchema condition.
    conditions = {c["type"]: c["status"] for c in rollout_crd["status"]["conditions"]}
    assert conditions.get("NonStructuralSchema") is None


def fixture_documents() -> list[Any]:
    params = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        params.append(pytest.param(documents, id=path.stem))
    return params


async def apply_document(kube: KubeClient, document: dict[str, Any], namespace: str) -> dict[str, Any]:
    resource = RESOURCES[document["kind"]]
    body = copy.deepcopy(document)
    body["metadata"].pop("generation", None)  # set by the server
    if resource.namespaced:
        body["metadata"]["namespace"] = namespace
    status = body.get("status")
    applied = await kube.apply(resource, body)
    if status is not None and resource is ROLLOUTS:
        # Rollouts have a status subresource: status written with the object is ignored.
        assert "status" not in applied or applied["status"] != status
        applied = await kube.apply(
            resource,
            {"apiVersion": body["apiVersion"], "kind": body["kind"], "metadata": body["metadata"], "status": status},
            subresource="status",
        )
    return applied


@pytest.mark.parametrize("documents", fixture_documents())
async def test_fixture_manifests_apply_and_round_trip(
    kube: KubeClient, namespace: str, documents: list[dict[str, Any]]
) -> None:
    await install_crds(kube)
    suffix = uuid.uuid4().hex[:6]
    cluster_scoped: list[str] = []
    try:
        for original in documents:
            document = copy.deepcopy(original)
            if document["kind"] == "ClusterAnalysisTemplate":
                # Cluster-scoped: a unique name so parallel or repeated runs do not collide.
                document["metadata"]["name"] = f"{document['metadata']['name']}-{suffix}"
                cluster_scoped.append(document["metadata"]["name"])
            if document["kind"] in ("Rollout", "AnalysisRun", "GitSync"):
                # Keep the session's controllers away: the test reads back exactly what it wrote,
                # and a GitSync's repository (git.invalid) must never be fetched.
                labels = document["metadata"].setdefault("labels", {})
                labels[INSTANCE_ID_LABEL] = "round-trip"
            await apply_document(kube, document, namespace)
            resource = RESOURCES[document["kind"]]
            stored = await kube.get(resource, namespace if resource.namespaced else None, document["metadata"]["name"])
            model_class = MODELS.get(document["kind"])
            if model_class is None:
                continue  # Services and Deployments only support the Argo objects
            model = model_class.model_validate(stored)
            written = model.to_dict()
            assert written["spec"] == original["spec"], f"{document['kind']} spec changed on the server"
            if "status" in original:
                assert written["status"] == original["status"], f"{document['kind']} status changed on the server"
            assert written["metadata"]["name"] == document["metadata"]["name"]
            assert written["metadata"]["uid"] == stored["metadata"]["uid"]
    finally:
        for name in cluster_scoped:
            await kube.delete(CLUSTER_ANALYSIS_TEMPLATES, None, name)


async def test_scale_subresource_follows_argo_paths(kube: KubeClient, namespace: str) -> None:
    await install_crds(kube)
    document = yaml.safe_load((MANIFESTS / "canary-basic.yaml").read_text())
    document["metadata"]["namespace"] = namespace
    await kube.apply(ROLLOUTS, document)
    await kube.patch(
        ROLLOUTS,
        namespace,
        document["metadata"]["name"],
        {"status": {"HPAReplicas": 4, "selector": "app=shop-canary"}},
        subresource="status",
    )
    scale = await kube.get(ROLLOUTS, namespace, document["metadata"]["name"], subresource="scale")
    assert scale["kind"] == "Scale"
    assert scale["spec"]["replicas"] == 5
    assert scale["status"] == {"replicas": 4, "selector": "app=shop-canary"}
    # Scaling through the subresource (as the HPA does) sets spec.replicas.
    await kube.patch(ROLLOUTS, namespace, document["metadata"]["name"], {"spec": {"replicas": 7}}, subresource="scale")
    stored = Rollout.model_validate(await kube.get(ROLLOUTS, namespace, document["metadata"]["name"]))
    assert stored.spec.replicas == 7


async def test_schema_rejects_wrong_types_naming_the_field(kube: KubeClient, namespace: str) -> None:
    await install_crds(kube)
    document = yaml.safe_load((MANIFESTS / "canary-basic.yaml").read_text())
    document["metadata"]["namespace"] = namespace
    document["metadata"]["name"] = "wrong-types"
    document["spec"]["replicas"] = "three"
    with pytest.raises(InvalidError) as caught:
        await kube.create(ROLLOUTS, namespace, document)
    assert "spec.replicas" in str(caught.value)


async def test_api_server_applies_argos_template_defaults(kube: KubeClient, namespace: str) -> None:
    # A port without protocol is stored with "TCP", as under Argo's own CRDs, so
    # the pod-template hash of the stored template is the one Argo computes.
    await install_crds(kube)
    document = yaml.safe_load((MANIFESTS / "canary-basic.yaml").read_text())
    document["metadata"].update(namespace=namespace, name="defaults")
    container = document["spec"]["template"]["spec"]["containers"][0]
    del container["ports"][0]["protocol"]
    container["readinessProbe"] = {"grpc": {"port": 9000}}
    await kube.apply(ROLLOUTS, document)
    stored = Rollout.model_validate(await kube.get(ROLLOUTS, namespace, "defaults"))
    assert stored.spec.template is not None
    stored_container = stored.spec.template["spec"]["containers"][0]
    assert stored_container["ports"][0]["protocol"] == "TCP"
    assert stored_container["readinessProbe"] == {"grpc": {"port": 9000, "service": ""}}
    expected = copy.deepcopy(document["spec"]["template"])
    expected["spec"]["containers"][0]["ports"][0]["protocol"] = "TCP"
    expected["spec"]["containers"][0]["readinessProbe"]["grpc"]["service"] = ""
    assert compute_pod_template_hash(stored.spec.template) == compute_pod_template_hash(expected)


PODTEMPLATES = Resource("", "v1", "podtemplates", "PodTemplate")


async def test_replica_set_template_equals_server_defaulted_desired_template(kube: KubeClient, namespace: str) -> None:
    # The adoption fallback: a live ReplicaSet (defaulted by the API server) is
    # the same template as the rollout's once the desired one is defaulted the
    # same way, here by a dry-run create of a PodTemplate.
    desired = yaml.safe_load((MANIFESTS / "bluegreen.yaml").read_text().split("---")[2])["spec"]["template"]
    live_template = copy.deepcopy(desired)
    live_template["metadata"]["labels"]["rollouts-pod-template-hash"] = "7c9d8f6b5"
    replica_set = await kube.create(
        REPLICASETS,
        namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "billing-7c9d8f6b5"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": live_template["metadata"]["labels"]},
                "template": live_template,
            },
        },
    )
    live = replica_set["spec"]["template"]
    assert live["spec"]["restartPolicy"] == "Always"  # the server defaulted it
    assert not pod_template_equal_ignore_hash(live, desired)  # so the raw template differs
    defaulted = await kube.request(
        "POST",
        PODTEMPLATES.path(namespace),
        query=[("dryRun", "All")],
        body={"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "desired"}, "template": desired},
    )
    assert pod_template_equal_ignore_hash(live, defaulted["template"])
    changed = copy.deepcopy(defaulted["template"])
    changed["spec"]["containers"][0]["image"] = "registry.invalid/billing:8"
    assert not pod_template_equal_ignore_hash(live, changed)
