"""Informers against a real API server: cache, handlers, indexes, resume and relist after 410."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.kinds import ROLLOUTS
from rollouts.kube.client import KubeClient
from rollouts.kube.decode import Skipped
from rollouts.kube.errors import KubeError
from rollouts.kube.informer import Informer, index_by_label
from rollouts.kube.resources import CONFIGMAPS, EVENTS
from tests.conftest import ClusterHandle
from tests.kubetest import rollout_manifest
from tests.waiting import eventually

pytestmark = pytest.mark.integration


def configmap(name: str, namespace: str, *, labels: dict[str, str] | None = None, owner: Any = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels or {}}
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
            }
        ]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {}}


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def __call__(self, event: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        self.events.append((event, obj["metadata"]["name"]))

    def names(self, event: str) -> list[str]:
        return [name for kind, name in self.events if kind == event]


@contextlib.asynccontextmanager
async def running(informer: Informer) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(informer.run())
    try:
        await informer.wait_synced(timeout=20)
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_sees_creates_updates_deletes_and_indexes_them(kube_client: KubeClient, namespace: str) -> None:
    owner = await kube_client.create(CONFIGMAPS, namespace, configmap("owner", namespace))
    await kube_client.create(CONFIGMAPS, namespace, configmap("before", namespace, labels={"tier": "web"}))
    informer = Informer(
        kube_client,
        CONFIGMAPS,
        namespace=namespace,
        indexers={"tier": index_by_label("tier")},
        watch_timeout_seconds=30,
    )
    recorder = Recorder()
    informer.add_handler(recorder)
    assert not informer.has_synced
    async with running(informer):
        assert informer.has_synced
        assert "before" in recorder.names("ADDED"), "the initial list is reported as ADDED"
        await kube_client.create(
            CONFIGMAPS, namespace, configmap("child", namespace, labels={"tier": "db"}, owner=owner)
        )
        await kube_client.create(CONFIGMAPS, namespace, configmap("other", namespace, labels={"tier": "web"}))
        await eventually(lambda: _value(informer.get(namespace, "other")), what="other cached")
        assert [o["metadata"]["name"] for o in informer.by_index("owner", owner["metadata"]["uid"])] == ["child"]
        assert [o["metadata"]["name"] for o in informer.by_index("tier", "web")] == ["before", "other"]
        assert {o["metadata"]["name"] for o in informer.items(namespace)} >= {"owner", "before", "child", "other"}
        assert informer.get(namespace, "child")["kind"] == "ConfigMap"  # type: ignore[index]

        await kube_client.patch(CONFIGMAPS, namespace, "other", {"metadata": {"labels": {"tier": "db"}}})
        await eventually(
            lambda: _value([o["metadata"]["name"] for o in informer.by_index("tier", "db")]),
            lambda names: names == ["child", "other"],
            what="the label index follows the update",
        )
        assert informer.by_index("tier", "web")[0]["metadata"]["name"] == "before"
        informer.add_indexer("tier-late", index_by_label("tier"))
        assert [o["metadata"]["name"] for o in informer.by_index("tier-late", "db")] == ["child", "other"], (
            "an index added later covers what is already cached"
        )
        assert "other" in recorder.names("MODIFIED")

        await kube_client.delete(CONFIGMAPS, namespace, "before")
        await eventually(lambda: _value(recorder.names("DELETED")), lambda names: "before" in names, what="deletion")
        assert informer.get(namespace, "before") is None
        assert informer.by_index("tier", "web") == []

        late = Recorder()
        informer.add_handler(late)
        assert set(late.names("ADDED")) == {o["metadata"]["name"] for o in informer.items()}, "late handlers replay"
    assert informer.relists == 0


async def test_watch_reconnects_and_resumes_without_relisting(kube_client: KubeClient, namespace: str) -> None:
    # The server ends each watch after 1 s; the informer must resume from its last resourceVersion.
    informer = Informer(kube_client, CONFIGMAPS, namespace=namespace, watch_timeout_seconds=1)
    recorder = Recorder()
    informer.add_handler(recorder)
    lists_before = kube_client.request_counts[("list", "configmaps")]
    async with running(informer):
        for index in range(3):
            # Each object is created after one more watch was opened (the server ended the last one):
            # a state, where a 1.2 s sleep hoped a reconnect had happened in between.
            opened = kube_client.request_counts[("watch", "configmaps")]
            await eventually(
                lambda: _value(kube_client.request_counts[("watch", "configmaps")]),
                lambda n, opened=opened: n > opened,
                what="the watch re-opened",
            )
            await kube_client.create(CONFIGMAPS, namespace, configmap(f"after-{index}", namespace))
        await eventually(
            lambda: _value(recorder.names("ADDED")),
            lambda names: {"after-0", "after-1", "after-2"} <= set(names),
            what="objects created across reconnects",
        )
        watches = kube_client.request_counts[("watch", "configmaps")]
    assert watches >= 3, "the watch was re-opened"
    assert informer.relists == 0
    assert kube_client.request_counts[("list", "configmaps")] - lists_before == 1, "one list, then watches only"
    assert all(recorder.names("ADDED").count(n) == 1 for n in ("after-0", "after-1", "after-2")), "no replays"


def etcd_url(cluster: ClusterHandle) -> str:
    """The etcd behind the cluster's API server, read from that server's command line."""
    port = cluster.server.rsplit(":", 1)[1]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            args = [a.decode() for a in cmdline.read_bytes().split(b"\0")]
            if args and args[0].endswith("kube-apiserver") and f"--secure-port={port}" in args:
                return next(a.split("=", 1)[1] for a in args if a.startswith("--etcd-servers="))
    pytest.fail(f"no kube-apiserver process serving {cluster.server} found")


def event(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "namespace": namespace},
        "reason": "Test",
        "message": name,
        "type": "Normal",
    }


async def test_compacted_resource_version_relists_and_reports_what_was_missed(
    cluster: ClusterHandle, kube_client: KubeClient, namespace: str
) -> None:
    # Events bypass the API server's watch cache, so an etcd compaction makes an
    # old resourceVersion unwatchable (410 Gone), exactly as in a long-running cluster.
    await kube_client.create(EVENTS, namespace, event("stays", namespace))
    await kube_client.create(EVENTS, namespace, event("goes", namespace))
    informer = Informer(kube_client, EVENTS, namespace=namespace, watch_timeout_seconds=30)
    recorder = Recorder()
    informer.add_handler(recorder)
    async with running(informer):
        pass
    stopped_at = informer.resource_version
    # While the informer is stopped, the world changes and etcd compacts its history.
    await kube_client.delete(EVENTS, namespace, "goes")
    await kube_client.patch(EVENTS, namespace, "stays", {"message": "changed"})
    latest = await kube_client.create(EVENTS, namespace, event("new", namespace))
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{etcd_url(cluster)}/v3/kv/compaction",
            json={"revision": latest["metadata"]["resourceVersion"], "physical": True},
        )
        response.raise_for_status()
    recorder.events.clear()
    async with running(informer):
        await eventually(lambda: _value(informer.relists), lambda n: n >= 1, what="a relist after 410")
        await eventually(lambda: _value(informer.get(namespace, "new")), what="the new object after the relist")
    assert informer.get(namespace, "goes") is None
    assert informer.get(namespace, "stays")["message"] == "changed"  # type: ignore[index]
    assert "goes" in recorder.names("DELETED"), "a deletion missed while away is reported"
    assert "new" in recorder.names("ADDED")
    assert "stays" in recorder.names("MODIFIED")
    assert int(informer.resource_version) > int(stopped_at)


async def test_a_label_selector_limits_the_cache(kube_client: KubeClient, namespace: str) -> None:
    await kube_client.create(CONFIGMAPS, namespace, configmap("mine", namespace, labels={"team": "a"}))
    await kube_client.create(CONFIGMAPS, namespace, configmap("theirs", namespace, labels={"team": "b"}))
    informer = Informer(kube_client, CONFIGMAPS, namespace=namespace, label_selector="team=a")
    async with running(informer):
        await kube_client.create(CONFIGMAPS, namespace, configmap("mine-too", namespace, labels={"team": "a"}))
        await eventually(lambda: _value(informer.get(namespace, "mine-too")), what="selected object")
        assert sorted(o["metadata"]["name"] for o in informer.items()) == ["mine", "mine-too"]


async def _value(value: Any) -> Any:
    return value


async def test_a_failing_handler_does_not_stop_the_informer_or_other_handlers(
    kube_client: KubeClient, namespace: str
) -> None:
    informer = Informer(kube_client, CONFIGMAPS, namespace=namespace)

    def broken(event: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        raise RuntimeError("handler bug")

    recorder = Recorder()
    informer.add_handler(broken)
    informer.add_handler(recorder)
    async with running(informer) as task:
        await kube_client.create(CONFIGMAPS, namespace, configmap("one", namespace))
        await kube_client.create(CONFIGMAPS, namespace, configmap("two", namespace))
        await eventually(
            lambda: _value(recorder.names("ADDED")), lambda names: {"one", "two"} <= set(names), what="both"
        )
        assert not task.done()


async def test_a_status_write_does_not_hide_the_servers_event_for_its_version(
    kube_client: KubeClient, namespace: str, crds: None
) -> None:
    """The old bug: a writer stored its new resourceVersion in the cached object, so the watch event dropped."""
    # Labelled for an instance no controller of the test session serves, so only this test writes the object
    # (a controller defaulting spec.replicas would otherwise make the status write below conflict).
    manifest = rollout_manifest("web", labels={INSTANCE_ID_LABEL: "informer-test-only"})
    await kube_client.create(ROLLOUTS, namespace, manifest)
    informer = Informer(kube_client, ROLLOUTS, namespace=namespace, watch_timeout_seconds=30)
    modified: list[tuple[str, Any]] = []
    informer.add_handler(
        lambda event, obj, old: (
            modified.append((obj["metadata"]["resourceVersion"], obj.get("status"))) if event == "MODIFIED" else None
        )
    )
    async with running(informer):
        cached = await eventually(lambda: _value(informer.get(namespace, "web")), what="the rollout cached")
        updated = await kube_client.replace(
            ROLLOUTS, namespace, "web", {**cached, "status": {"phase": "Progressing"}}, subresource="status"
        )
        version = updated["metadata"]["resourceVersion"]
        with pytest.raises(TypeError):
            cached["metadata"]["resourceVersion"] = version  # the cache is shared: writing into it is refused
        await eventually(
            lambda: _value(modified),
            lambda seen: (version, {"phase": "Progressing"}) in seen,
            what="the server's watch event for the written version",
        )
        now = informer.get(namespace, "web")
        assert now is not None and now["metadata"]["resourceVersion"] == version
        assert now["status"] == {"phase": "Progressing"}


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": True}
    for _ in range(levels):
        value = {"a": value}
    return value


async def test_an_object_too_deep_to_decode_never_blocks_its_kind(
    kube_client: KubeClient, namespace: str, crds: None
) -> None:
    """The API server accepts a free-form field nested deeper than orjson's 1024 levels; that object is skipped."""
    too_deep = nested(1100)
    poisoned = rollout_manifest("deep", canary={"trafficRouting": {"plugins": {"example/plugin": too_deep}}})
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)  # the client's own request encoding (json.dumps) recurses once per level
    try:
        with pytest.raises(KubeError, match="not JSON"):  # the server stores it; only its answer is refused
            await kube_client.create(ROLLOUTS, namespace, poisoned)
    finally:
        sys.setrecursionlimit(limit)
    await kube_client.create(ROLLOUTS, namespace, rollout_manifest("good"))
    informer = Informer(kube_client, ROLLOUTS, namespace=namespace, watch_timeout_seconds=30)
    async with running(informer):
        assert informer.get(namespace, "good") is not None, "the list completed without the deep one"
        assert informer.get(namespace, "deep") is None
        assert informer.skipped == 1
        assert kube_client.transport.accounting.skipped["rollouts"] >= 1
        # The watch moves past a new undecodable event (a change of the deep one) and serves what follows.
        with pytest.raises(KubeError, match="not JSON"):
            await kube_client.patch(ROLLOUTS, namespace, "deep", {"metadata": {"labels": {"touched": "yes"}}})
        await eventually(lambda: _value(informer.skipped), lambda n: n >= 2, what="the watch event skipped")
        await kube_client.create(ROLLOUTS, namespace, rollout_manifest("later"))
        await eventually(lambda: _value(informer.get(namespace, "later")), what="a later object served")
        assert informer.get(namespace, "deep") is None
        found: list[Skipped] = []
        listed = await kube_client.list(ROLLOUTS, namespace, on_skip=found.append)
        assert sorted(r["metadata"]["name"] for r in listed["items"]) == ["good", "later"]
        assert [(s.name, s.namespace) for s in found] == [("deep", namespace)]
        deep_uid = found[0].uid

        async def warnings() -> list[str]:
            listed = await kube_client.list(EVENTS, namespace)
            return [
                e["reason"]
                for e in listed["items"]
                if e["involvedObject"].get("uid") == deep_uid and e.get("type") == "Warning"
            ]

        await eventually(warnings, lambda reasons: "UndecodableObject" in reasons, what="a Warning event on it")
