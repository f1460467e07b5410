"""The raw-JSON client against a real API server: verbs, error types, concurrency, counting."""

from __future__ import annotations

import pytest

from rollouts.kube.accounting import RequestInfo
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ConflictError, InvalidError, NotFoundError, UnreachableError
from rollouts.kube.resources import CONFIGMAPS, SERVICES
from tests.conftest import ClusterHandle

pytestmark = pytest.mark.integration


def configmap(name: str, namespace: str, **data: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}


async def test_crud_and_error_types(kube_client: KubeClient, namespace: str) -> None:
    with pytest.raises(NotFoundError):
        await kube_client.get(CONFIGMAPS, namespace, "missing")
    created = await kube_client.create(CONFIGMAPS, namespace, configmap("a", namespace, k="1"))
    assert created["data"] == {"k": "1"}
    with pytest.raises(ConflictError) as exists:
        await kube_client.create(CONFIGMAPS, namespace, configmap("a", namespace))
    assert exists.value.reason == "AlreadyExists"
    with pytest.raises(InvalidError, match=r"metadata\.name"):
        await kube_client.create(CONFIGMAPS, namespace, configmap("Not_A_Name", namespace))

    patched = await kube_client.patch(CONFIGMAPS, namespace, "a", {"data": {"k": "2"}})
    assert patched["data"] == {"k": "2"}
    patched = await kube_client.patch(
        CONFIGMAPS, namespace, "a", [{"op": "add", "path": "/data/j", "value": "3"}], patch_type="json"
    )
    assert patched["data"] == {"k": "2", "j": "3"}
    await kube_client.delete(CONFIGMAPS, namespace, "a", uid=created["metadata"]["uid"])
    with pytest.raises(NotFoundError):
        await kube_client.delete(CONFIGMAPS, namespace, "a")


async def test_writes_carrying_a_stale_resource_version_conflict(kube_client: KubeClient, namespace: str) -> None:
    first = await kube_client.create(CONFIGMAPS, namespace, configmap("occ", namespace, v="1"))
    stale = first["metadata"]["resourceVersion"]
    await kube_client.replace(CONFIGMAPS, namespace, "occ", {**first, "data": {"v": "2"}})
    with pytest.raises(ConflictError):
        await kube_client.replace(CONFIGMAPS, namespace, "occ", {**first, "data": {"v": "3"}})
    with pytest.raises(ConflictError):
        await kube_client.patch(CONFIGMAPS, namespace, "occ", {"data": {"v": "4"}}, resource_version=stale)
    with pytest.raises(ConflictError):
        await kube_client.delete(CONFIGMAPS, namespace, "occ", resource_version=stale)
    current = await kube_client.get(CONFIGMAPS, namespace, "occ")
    assert current["data"] == {"v": "2"}, "no stale write went through"
    ok = await kube_client.patch(
        CONFIGMAPS, namespace, "occ", {"data": {"v": "5"}}, resource_version=current["metadata"]["resourceVersion"]
    )
    assert ok["data"] == {"v": "5"}
    with pytest.raises(ValueError, match="object patch"):
        await kube_client.patch(CONFIGMAPS, namespace, "occ", [], patch_type="json", resource_version="1")


async def test_server_side_apply_and_status_subresource_name_our_field_manager(
    cluster: ClusterHandle, namespace: str
) -> None:
    client = KubeClient(await cluster.api_client(), field_manager="rollouts-controller-test")
    try:
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        }
        applied = await client.apply(SERVICES, service)
        managers = {entry["manager"] for entry in applied["metadata"]["managedFields"]}
        assert managers == {"rollouts-controller-test"}
        condition = {
            "type": "Tested",
            "status": "True",
            "reason": "ByTest",
            "message": "written through the status subresource",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
        applied["status"] = {"conditions": [condition]}
        applied["spec"]["selector"] = {"app": "ignored"}  # the status subresource ignores spec
        updated = await client.update_status(SERVICES, applied)
        assert updated["status"]["conditions"] == [condition]
        assert updated["spec"]["selector"] == {"app": "web"}
        status_entries = [e for e in updated["metadata"]["managedFields"] if e.get("subresource") == "status"]
        assert status_entries and status_entries[0]["manager"] == "rollouts-controller-test"
    finally:
        await client.close()


async def test_list_all_pages_and_adds_kind(kube_client: KubeClient, namespace: str) -> None:
    for index in range(5):
        await kube_client.create(CONFIGMAPS, namespace, configmap(f"page-{index}", namespace))
    before = kube_client.request_counts[("list", "configmaps")]
    items, resource_version = await kube_client.list_all(CONFIGMAPS, namespace, page_size=2)
    names = sorted(i["metadata"]["name"] for i in items if i["metadata"]["name"].startswith("page-"))
    assert names == [f"page-{i}" for i in range(5)]
    assert all(i["kind"] == "ConfigMap" and i["apiVersion"] == "v1" for i in items)
    assert int(resource_version) > 0
    assert kube_client.request_counts[("list", "configmaps")] - before >= 3, "paged in twos"


async def test_requests_are_reported_with_verb_and_status_code(cluster: ClusterHandle, namespace: str) -> None:
    seen: list[RequestInfo] = []
    client = KubeClient(await cluster.api_client(), on_request=seen.append)
    try:
        await client.create(CONFIGMAPS, namespace, configmap("counted", namespace))
        with pytest.raises(NotFoundError):
            await client.get(CONFIGMAPS, namespace, "absent")
        await client.list(CONFIGMAPS, namespace)
    finally:
        await client.close()
    assert [(i.verb, i.resource.plural, i.namespace, i.name, i.status_code) for i in seen] == [
        ("Create", "configmaps", namespace, "counted", 201),
        ("Get", "configmaps", namespace, "absent", 404),
        ("List", "configmaps", namespace, "", 200),
    ]
    assert client.request_counts[("create", "configmaps")] == 1


async def test_unreachable_server_is_a_clear_error(cluster: ClusterHandle) -> None:
    api = await cluster.api_client()
    api.configuration.host = "https://127.0.0.1:9"  # discard port: nothing listens
    seen: list[RequestInfo] = []
    client = KubeClient(api, timeout=2, on_request=seen.append)
    try:
        with pytest.raises(UnreachableError, match=r"127\.0\.0\.1:9|Cannot connect|refused"):
            await client.get(CONFIGMAPS, "default", "x")
    finally:
        await client.close()
    assert seen[0].status_code == 0


async def test_watch_delivers_objects_larger_than_a_stream_line_buffer(kube_client: KubeClient, namespace: str) -> None:
    listing = await kube_client.list(CONFIGMAPS, namespace)
    big = "x" * 400_000  # well over aiohttp's 128 KiB line limit
    await kube_client.create(CONFIGMAPS, namespace, configmap("big", namespace, blob=big))
    async for event in kube_client.watch(
        CONFIGMAPS, namespace, resource_version=listing["metadata"]["resourceVersion"], timeout_seconds=5
    ):
        if event["type"] == "ADDED" and event["object"]["metadata"]["name"] == "big":
            assert event["object"]["data"]["blob"] == big
            break
    else:
        pytest.fail("the watch ended without the big object")
