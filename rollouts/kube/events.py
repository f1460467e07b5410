"""Kubernetes Events on the objects we act on, never failing the caller.

Operators read `kubectl describe rollout` and Argo's UI reads these events, so
reasons follow Argo's. Repeats of the same reason+message on the same object
within a process are aggregated like client-go's recorder (count++ on the
existing Event) instead of creating a new object each time.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rollouts.kube.client import EVENTS, KubeClient, KubeError

log = logging.getLogger(__name__)


class EventRecorder:
    def __init__(
        self,
        client: KubeClient,
        *,
        component: str = "rollouts-controller",
        on_event: Callable[[dict[str, Any], str, str], None] | None = None,
    ) -> None:
        self.client = client
        self.component = component
        self._seen: dict[tuple[str, str, str, str], tuple[str, int]] = {}
        self._on_event = on_event

    async def record(self, obj: dict[str, Any], *, reason: str, message: str, type: str = "Normal") -> None:
        meta = obj.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        key = (namespace, str(meta.get("uid")), reason, message)
        if self._on_event is not None:
            self._on_event(obj, type, reason)
        try:
            if key in self._seen:
                name, count = self._seen[key]
                await self.client.patch(EVENTS, namespace, name, {"count": count + 1, "lastTimestamp": now})
                self._seen[key] = (name, count + 1)
                return
            name = f"{meta.get('name')}.{uuid.uuid4().hex[:16]}"
            body = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": {
                    "apiVersion": obj.get("apiVersion"),
                    "kind": obj.get("kind"),
                    "name": meta.get("name"),
                    "namespace": namespace,
                    "uid": meta.get("uid"),
                    "resourceVersion": meta.get("resourceVersion"),
                },
                "reason": reason,
                "message": message,
                "type": type,
                "count": 1,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "source": {"component": self.component},
                "reportingComponent": self.component,
            }
            await self.client.create(EVENTS, namespace, body)
            if len(self._seen) > 10000:
                self._seen.clear()
            self._seen[key] = (name, 1)
        except KubeError as error:
            log.warning("could not record event %s on %s/%s: %s", reason, namespace, meta.get("name"), error)
