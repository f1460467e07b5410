"""Events on a real API server: created with Argo-style fields, repeats aggregated, failures swallowed."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.kube.client import KubeClient
from rollouts.kube.events import EventRecorder
from rollouts.kube.resources import CONFIGMAPS, EVENTS
from tests.conftest import ClusterHandle

pytestmark = pytest.mark.integration


async def events_about(client: KubeClient, namespace: str, uid: str) -> list[dict[str, Any]]:
    listing = await client.list(EVENTS, namespace, field_selector=f"involvedObject.uid={uid}")
    return sorted(listing["items"], key=lambda e: e["message"])


async def test_events_are_recorded_and_repeats_aggregated(kube_client: KubeClient, namespace: str) -> None:
    target = await kube_client.create(
        CONFIGMAPS, namespace, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "target"}}
    )
    counted: list[tuple[str, str]] = []
    recorder = EventRecorder(kube_client, on_event=lambda obj, kind, reason: counted.append((kind, reason)))
    await recorder.record(target, reason="RolloutPaused", message="Rollout is paused (CanaryPauseStep)")
    await recorder.record(target, reason="RolloutPaused", message="Rollout is paused (CanaryPauseStep)")
    await recorder.record(target, reason="RolloutPaused", message="Rollout is paused (CanaryPauseStep)")
    await recorder.record(target, reason="RolloutAborted", message="Rollout aborted update", type="Warning")

    events = await events_about(kube_client, namespace, target["metadata"]["uid"])
    assert [(e["reason"], e["type"], e["count"]) for e in events] == [
        ("RolloutAborted", "Warning", 1),
        ("RolloutPaused", "Normal", 3),
    ]
    paused = events[1]
    assert paused["involvedObject"]["kind"] == "ConfigMap"
    assert paused["involvedObject"]["name"] == "target"
    assert paused["source"]["component"] == "rollouts-controller"
    assert paused["lastTimestamp"] >= paused["firstTimestamp"]
    assert counted == [("Normal", "RolloutPaused")] * 3 + [("Warning", "RolloutAborted")]


async def test_an_expired_event_is_recreated(kube_client: KubeClient, namespace: str) -> None:
    target = await kube_client.create(
        CONFIGMAPS, namespace, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "expiring"}}
    )
    recorder = EventRecorder(kube_client)
    await recorder.record(target, reason="Step", message="same")
    (first,) = await events_about(kube_client, namespace, target["metadata"]["uid"])
    await kube_client.delete(EVENTS, namespace, first["metadata"]["name"])  # what the event TTL does
    await recorder.record(target, reason="Step", message="same")
    (second,) = await events_about(kube_client, namespace, target["metadata"]["uid"])
    assert second["metadata"]["name"] != first["metadata"]["name"]
    assert second["count"] == 1


async def test_recording_never_raises(cluster: ClusterHandle, kube_client: KubeClient) -> None:
    recorder = EventRecorder(kube_client)
    ghost = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "no-such-namespace"}}
    await recorder.record(ghost, reason="R", message="the namespace does not exist")
    api = await cluster.api_client()
    api.configuration.host = "https://127.0.0.1:9"
    unreachable = EventRecorder(KubeClient(api, timeout=1))
    try:
        await unreachable.record(ghost, reason="R", message="no server")
    finally:
        await unreachable.client.close()
