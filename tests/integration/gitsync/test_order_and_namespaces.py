"""Dependency order (a CRD and its custom resource in one commit) and CreateNamespace=true."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import yaml

from rollouts.api.resource import Resource
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFoundError
from rollouts.kube.resources import NAMESPACES
from tests.integration.gitsync.helpers import (
    CONFIGMAPS,
    configmap_yaml,
    create_gitsync,
    gitsync_manifest,
    status,
    synced_at,
    wait_gitsync,
)
from tests.kubetest import ControllerProcess
from tests.unit.gitsync.gitrepo import git, make_repo

CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False)


def crd_yaml(group: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"widgets.{group}"},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
                            }
                        },
                    }
                ],
            },
        }
    )


async def test_a_crd_and_its_custom_resource_in_one_commit(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    group = f"t{uuid.uuid4().hex[:8]}.example.com"
    # File names sort the custom resource first: only the dependency order makes this work.
    repo = make_repo(
        tmp_path / "repo",
        {
            "a-widget.yaml": f"apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n",
            "z-crd.yaml": crd_yaml(group),
        },
    )
    try:
        await create_gitsync(kube_client, namespace, gitsync_manifest("widgets", repo))
        gs = await wait_gitsync(
            kube_client, namespace, "widgets", synced_at(git(repo, "rev-parse", "HEAD")), what="CRD and CR synced"
        )
        widget = await kube_client.get(Resource(group, "v1", "widgets", "Widget"), namespace, "w1")
        assert widget["spec"] == {"size": 3}
        applied = [r["kind"] for r in status(gs)["operationState"]["syncResult"]["resources"]]
        assert applied == ["CustomResourceDefinition", "Widget"]
    finally:
        with contextlib.suppress(NotFoundError):
            await kube_client.delete(CRDS, None, f"widgets.{group}")


async def test_create_namespace_puts_unnamespaced_objects_in_the_destination(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    destination = f"{namespace}-dest"
    repo = make_repo(tmp_path / "repo", {"a.yaml": configmap_yaml("settings", color="blue")})
    manifest = gitsync_manifest("elsewhere", repo, destination=destination, options=["CreateNamespace=true"])
    try:
        await create_gitsync(kube_client, namespace, manifest)
        gs = await wait_gitsync(
            kube_client, namespace, "elsewhere", synced_at(git(repo, "rev-parse", "HEAD")), what="synced"
        )
        assert (await kube_client.get(CONFIGMAPS, destination, "settings"))["data"] == {"color": "blue"}
        assert [r["namespace"] for r in status(gs)["resources"]] == [destination]
    finally:
        with contextlib.suppress(NotFoundError):
            await kube_client.delete(NAMESPACES, None, destination)
