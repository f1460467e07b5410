"""Kubernetes Events (core/v1) on the objects we act on, never failing the caller.

Operators read `kubectl describe rollout` and Argo's UI reads these events, so
callers use Argo's reasons. Like client-go's recorder, a repeat of the same
type + reason + message on the same object is aggregated: the existing Event
gets count+1 and a new lastTimestamp instead of a new object each time (an LRU
of 4096 recent events remembers which Event to bump; if it has expired from
the cluster meanwhile, a fresh one is created). Recording is best effort: any
failure is logged and swallowed, because an event must never fail a reconcile.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFoundError
from rollouts.kube.resources import EVENTS

log = logging.getLogger(__name__)

EVENT_TYPES = ("Normal", "Warning")
_CACHE_SIZE = 4096
_MESSAGE_LIMIT = 1024  # the API server rejects longer event messages

EventKey = tuple[str, str, str, str, str]


class EventRecorder:
    def __init__(
        self,
        client: KubeClient,
        *,
        component: str = "rollouts-controller",
        on_event: Callable[[dict[str, Any], str, str], None] | None = None,
    ) -> None:
        """`on_event(obj, type, reason)` is called for every event (for rollout_events_total)."""
        self.client = client
        self.component = component
        self._seen: OrderedDict[EventKey, tuple[str, int]] = OrderedDict()
        self._on_event = on_event

    async def record(self, obj: dict[str, Any], *, reason: str, message: str, type: str = "Normal") -> None:
        """Record an event on `obj` (a dict with apiVersion, kind and metadata); never raises."""
        if type not in EVENT_TYPES:
            log.error("event type must be Normal or Warning, not %r (reason %s)", type, reason)
            type = "Warning"
        meta = obj.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        message = message[:_MESSAGE_LIMIT]
        if self._on_event is not None:
            try:
                self._on_event(obj, type, reason)
            except Exception:
                log.exception("event observer failed")
        key: EventKey = (namespace, str(meta.get("uid") or meta.get("name")), type, reason, message)
        try:
            if await self._bump(key, namespace):
                return
            await self._create(obj, key, namespace=namespace, reason=reason, message=message, type=type)
        except Exception as error:  # best effort by design: see the module docstring
            log.warning("could not record event %s on %s/%s: %s", reason, namespace, meta.get("name"), error)

    async def _bump(self, key: EventKey, namespace: str) -> bool:
        seen = self._seen.get(key)
        if seen is None:
            return False
        name, count = seen
        try:
            await self.client.patch(EVENTS, namespace, name, {"count": count + 1, "lastTimestamp": _now()})
        except NotFoundError:
            del self._seen[key]  # the Event expired (events have a TTL): start a new one
            return False
        self._seen[key] = (name, count + 1)
        self._seen.move_to_end(key)
        return True

    async def _create(
        self,
        obj: dict[str, Any],
        key: EventKey,
        *,
        namespace: str,
        reason: str,
        message: str,
        type: str,
    ) -> None:
        meta = obj.get("metadata", {})
        now = _now()
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
        self._seen[key] = (name, 1)
        if len(self._seen) > _CACHE_SIZE:
            self._seen.popitem(last=False)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
