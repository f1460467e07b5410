"""Failures keep the last good state applied and say why in status and events, never leaking secrets."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rollouts.kube.client import KubeClient
from rollouts.kube.resources import EVENTS, SECRETS
from tests.integration.gitsync.helpers import (
    CONFIGMAPS,
    configmap_yaml,
    create_gitsync,
    gitsync_manifest,
    operation_failed_with,
    status,
    synced_at,
    wait_gitsync,
)
from tests.kubetest import ControllerProcess
from tests.unit.gitsync.gitrepo import FIXTURES, commit, git, make_repo, write
from tests.waiting import eventually

ASSERTED = """\
local replicas = %d;
{
  assert replicas > 0 : 'replicas must be positive, got ' + replicas,
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'asserted' },
  data: { replicas: std.toString(replicas) },
}
"""


async def events_of(client: KubeClient, namespace: str, name: str) -> list[dict[str, Any]]:
    listing = await client.list(EVENTS, namespace, field_selector=f"involvedObject.name={name}")
    items: list[dict[str, Any]] = listing["items"]
    return items


async def test_jsonnet_assertion_keeps_last_good_state_and_reports_the_message(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"main.jsonnet": ASSERTED % 2})
    good = git(repo, "rev-parse", "HEAD")
    await create_gitsync(kube_client, namespace, gitsync_manifest("asserting", repo))
    await wait_gitsync(kube_client, namespace, "asserting", synced_at(good), what="good commit synced")
    write(repo, "main.jsonnet", ASSERTED % 0)
    commit(repo, "break it")
    gs = await wait_gitsync(
        kube_client,
        namespace,
        "asserting",
        operation_failed_with("replicas must be positive, got 0"),
        what="assertion message in operationState",
    )
    s = status(gs)
    assert any("replicas must be positive, got 0" in c["message"] for c in s["conditions"])
    assert s["sync"]["status"] == "Unknown"
    assert [h["revision"] for h in s["history"]] == [good]
    assert (await kube_client.get(CONFIGMAPS, namespace, "asserted"))["data"] == {"replicas": "2"}
    write(repo, "main.jsonnet", ASSERTED % 5)
    fixed = commit(repo, "fix it")
    gs = await wait_gitsync(kube_client, namespace, "asserting", synced_at(fixed), what="fixed commit synced")
    assert "conditions" not in status(gs)
    assert (await kube_client.get(CONFIGMAPS, namespace, "asserted"))["data"] == {"replicas": "5"}
    await eventually(
        lambda: events_of(kube_client, namespace, "asserting"),
        lambda events: any(
            e["type"] == "Warning" and "replicas must be positive, got 0" in e["message"] for e in events
        ),
        what="Warning event with the assertion message",
    )


async def test_symlink_out_of_the_repository_is_refused(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(configmap_yaml("stolen", secret="do-not-read-me"))
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "leak.yaml").symlink_to(outside)
    make_repo(repo, {"app/ok.yaml": configmap_yaml("fine")})
    await create_gitsync(kube_client, namespace, gitsync_manifest("escape", repo, path="app"))
    gs = await wait_gitsync(
        kube_client, namespace, "escape", operation_failed_with("leak.yaml"), what="symlink refused"
    )
    message = status(gs)["operationState"]["message"]
    assert "outside" in message
    assert "do-not-read-me" not in json.dumps(gs)
    assert (await kube_client.list(CONFIGMAPS, namespace, field_selector="metadata.name=fine"))["items"] == []


async def test_helm_value_file_traversal_is_refused(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "helm")
    source = {"helm": {"valueFiles": ["../../../../../../etc/passwd"]}}
    await create_gitsync(kube_client, namespace, gitsync_manifest("traversal", repo, path="chart", source=source))
    gs = await wait_gitsync(
        kube_client, namespace, "traversal", operation_failed_with("etc/passwd"), what="valueFiles refused"
    )
    assert "outside the repository" in status(gs)["operationState"]["message"]
    assert "root:" not in json.dumps(gs)


async def test_credentials_never_appear_in_status_or_events(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    token = "s3cr3t-" + os.urandom(6).hex()
    password = "pw-" + os.urandom(6).hex()
    await kube_client.create(
        SECRETS,
        namespace,
        {
            "metadata": {"name": "repo-creds"},
            "stringData": {"url": "http://127.0.0.1:9/org", "username": "deploy", "password": password},
        },
    )
    # Nothing listens on port 9 of 127.0.0.1: the fetch fails and git names the URL.
    url = f"http://deploy:{token}@127.0.0.1:9/org/app.git"
    await create_gitsync(kube_client, namespace, gitsync_manifest("secretive", url, credentials_secret="repo-creds"))
    gs = await wait_gitsync(
        kube_client, namespace, "secretive", operation_failed_with("127.0.0.1"), what="fetch failure reported"
    )
    assert "***@127.0.0.1" in status(gs)["operationState"]["message"]
    text = json.dumps(status(gs))
    assert token not in text and password not in text
    events = await eventually(lambda: events_of(kube_client, namespace, "secretive"), bool, what="a Warning event")
    assert all(token not in e["message"] and password not in e["message"] for e in events)
    assert token not in controller.log() and password not in controller.log()


async def test_jsonnet_import_outside_the_repository_is_refused(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    (tmp_path / "secret.libsonnet").write_text("{ token: 'do-not-read-me' }")
    repo = make_repo(tmp_path / "repo", {"main.jsonnet": "(import '../secret.libsonnet') + {}"})
    await create_gitsync(kube_client, namespace, gitsync_manifest("importer", repo))
    gs = await wait_gitsync(
        kube_client, namespace, "importer", operation_failed_with("secret.libsonnet"), what="import refused"
    )
    assert "do-not-read-me" not in json.dumps(gs)
    assert status(gs)["conditions"][0]["type"] == "ComparisonError"


async def test_an_error_on_an_unchanged_commit_clears_once_the_cause_is_fixed(
    kube_client: KubeClient, namespace: str, controller: ControllerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": configmap_yaml("settings")})
    secret = {"metadata": {"name": "creds"}, "stringData": {"url": str(repo), "username": "u", "password": "p-123456"}}
    await kube_client.create(SECRETS, namespace, secret)
    head = git(repo, "rev-parse", "HEAD")
    await create_gitsync(kube_client, namespace, gitsync_manifest("flaky", repo, credentials_secret="creds"))
    await wait_gitsync(kube_client, namespace, "flaky", synced_at(head), what="synced")
    await kube_client.delete(SECRETS, namespace, "creds")
    await wait_gitsync(
        kube_client, namespace, "flaky", operation_failed_with("Secret 'creds' not found"), what="error reported"
    )
    await kube_client.create(SECRETS, namespace, secret)
    gs = await wait_gitsync(kube_client, namespace, "flaky", synced_at(head), what="recovered on the same commit")
    assert "conditions" not in status(gs)
    assert [h["revision"] for h in status(gs)["history"]] == [head]
