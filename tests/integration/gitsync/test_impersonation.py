"""spec.serviceAccountName: a GitSync applies with the RBAC rights of a ServiceAccount of its namespace.

The API server authorises every read, apply and prune as that account
(Kubernetes impersonation), so a namespace's RBAC bounds what its GitSyncs can
change; a refused object fails the sync during the dry run, before anything is
applied.
"""

from __future__ import annotations

from pathlib import Path

from rollouts.api.resource import Resource
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import SECRETS
from tests.integration.gitsync.helpers import (
    CONFIGMAPS,
    configmap_yaml,
    create_gitsync,
    get_or_none,
    gitsync_manifest,
    operation_failed_with,
    status,
    synced_at,
    wait_gitsync,
)
from tests.kubetest import ControllerProcess
from tests.unit.gitsync.gitrepo import commit, git, make_repo

SERVICE_ACCOUNTS = Resource("", "v1", "serviceaccounts", "ServiceAccount")
ROLES = Resource("rbac.authorization.k8s.io", "v1", "roles", "Role")
ROLE_BINDINGS = Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding")

SECRET_YAML = """\
apiVersion: v1
kind: Secret
metadata:
  name: not-for-deployer
stringData:
  token: s3cr3t
"""
FILES = {"cm.yaml": configmap_yaml("settings", color="blue"), "secret.yaml": SECRET_YAML}


async def configmaps_only_account(client: KubeClient, namespace: str) -> None:
    """ServiceAccount `deployer`, allowed to manage ConfigMaps of its namespace and nothing else."""
    await client.create(SERVICE_ACCOUNTS, namespace, {"metadata": {"name": "deployer"}})
    await client.create(
        ROLES,
        namespace,
        {
            "metadata": {"name": "configmaps"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                }
            ],
        },
    )
    await client.create(
        ROLE_BINDINGS,
        namespace,
        {
            "metadata": {"name": "deployer-configmaps"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmaps"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}],
        },
    )


async def test_a_gitsync_applies_only_what_its_service_account_may(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    await configmaps_only_account(kube_client, namespace)
    repo = make_repo(tmp_path / "repo", FILES)
    manifest = gitsync_manifest("tenant", repo)
    manifest["spec"]["serviceAccountName"] = "deployer"
    await create_gitsync(kube_client, namespace, manifest)

    failed = await wait_gitsync(
        kube_client, namespace, "tenant", operation_failed_with("forbidden"), what="sync refused by RBAC"
    )
    assert f"system:serviceaccount:{namespace}:deployer" in status(failed)["operationState"]["message"]
    assert await get_or_none(kube_client, SECRETS, namespace, "not-for-deployer") is None
    assert await get_or_none(kube_client, CONFIGMAPS, namespace, "settings") is None, "the dry run refused it all"

    (repo / "secret.yaml").unlink()
    revision = commit(repo, "only what deployer may manage")
    await wait_gitsync(kube_client, namespace, "tenant", synced_at(revision), what="synced without the Secret")
    applied = await get_or_none(kube_client, CONFIGMAPS, namespace, "settings")
    assert applied is not None and applied["data"] == {"color": "blue"}


async def test_without_a_service_account_the_controller_rights_apply(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    await create_gitsync(kube_client, namespace, gitsync_manifest("admin", repo))
    await wait_gitsync(kube_client, namespace, "admin", synced_at(git(repo, "rev-parse", "HEAD")), what="synced")
    assert await get_or_none(kube_client, SECRETS, namespace, "not-for-deployer") is not None
