"""One tenant's GitSync can never use another tenant's repository access.

A real Git server on the loopback interface checks Basic credentials. The
controller's repository cache must not answer a GitSync without credentials
from what a GitSync with credentials fetched; a credentials Secret is read
with the GitSync's own service account; credentials only go to the URL their
Secret names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import SECRETS
from tests.integration.gitsync.helpers import (
    create_gitsync,
    gitsync_manifest,
    operation_failed_with,
    status,
    synced_at,
    wait_gitsync,
)
from tests.integration.gitsync.test_impersonation import configmaps_only_account
from tests.kubetest import ControllerProcess
from tests.unit.gitsync.gitrepo import git, make_repo
from tests.unit.gitsync.gitserver import GitServer, git_http_server

PRIVATE = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: private}\ndata: {plan: world-domination}\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    work = make_repo(tmp_path / "work", {"cm.yaml": PRIVATE})
    git(tmp_path, "clone", "--quiet", "--bare", str(work), str(tmp_path / "served" / "private.git"))
    with git_http_server(tmp_path / "served", username="alice", password="pw-" + os.urandom(6).hex()) as served:
        yield served


async def credentials_secret(client: KubeClient, namespace: str, server: GitServer, *, url: str) -> None:
    data = {"url": url, "username": server.username, "password": server.password}
    await client.create(SECRETS, namespace, {"metadata": {"name": "repo-creds"}, "stringData": data})


async def test_a_gitsync_without_credentials_cannot_read_a_commit_another_fetched_with_them(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, server: GitServer
) -> None:
    url = server.url + "private.git"
    await credentials_secret(kube_client, namespace, server, url=server.url)
    await create_gitsync(kube_client, namespace, gitsync_manifest("owner", url, credentials_secret="repo-creds"))
    owner = await wait_gitsync(
        kube_client, namespace, "owner", lambda o: bool(status(o).get("history")), what="synced with credentials"
    )
    sha = status(owner)["sync"]["revision"]
    assert synced_at(sha)(owner)
    refused_before = len(server.refused)

    # Another tenant names the very commit, without credentials: the remote must decide, and refuses.
    thief = gitsync_manifest("thief", url, source={"targetRevision": sha})
    await create_gitsync(kube_client, namespace, thief)
    gs = await wait_gitsync(kube_client, namespace, "thief", operation_failed_with("private.git"), what="refused")
    assert status(gs)["conditions"][0]["type"] == "ComparisonError"
    assert len(server.refused) > refused_before  # the server was asked and said no
    assert "world-domination" not in json.dumps(gs)
    assert not status(gs).get("history") and not status(gs).get("resources")


async def test_the_credentials_secret_is_read_as_the_gitsync_service_account(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, server: GitServer
) -> None:
    await configmaps_only_account(kube_client, namespace)  # may not read Secrets
    await credentials_secret(kube_client, namespace, server, url=server.url)
    manifest = gitsync_manifest("tenant", server.url + "private.git", credentials_secret="repo-creds")
    manifest["spec"]["serviceAccountName"] = "deployer"
    await create_gitsync(kube_client, namespace, manifest)
    gs = await wait_gitsync(
        kube_client,
        namespace,
        "tenant",
        operation_failed_with("cannot read credentials Secret 'repo-creds'"),
        what="Secret read refused",
    )
    assert "forbidden" in status(gs)["operationState"]["message"].lower()
    assert server.requests == []  # nothing was fetched


async def test_credentials_go_only_to_the_url_their_secret_names(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, server: GitServer
) -> None:
    await credentials_secret(kube_client, namespace, server, url="https://git.example.com/org")
    manifest = gitsync_manifest("elsewhere", server.url + "private.git", credentials_secret="repo-creds")
    await create_gitsync(kube_client, namespace, manifest)
    gs = await wait_gitsync(
        kube_client, namespace, "elsewhere", operation_failed_with("does not cover repoURL"), what="refused"
    )
    assert status(gs)["conditions"][0]["type"] == "ComparisonError"
    assert server.password not in json.dumps(gs)
    assert server.requests == []  # the credentials were never offered to this host
