"""The rollout controller shell: observe (informer caches) -> decide() -> act (API writes).

Everything that takes judgement lives in plan.decide(); this module only
gathers what it needs from the caches, executes the actions in order, writes
the status through the status subresource with the resourceVersion it read
(a 409 requeues instead of overwriting), records events and metrics, and
requeues when decide() asks. One bad Rollout cannot stop the others: errors
are logged, counted and retried with backoff by the work queue.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rollouts import metrics
from rollouts.api.constants import INSTANCE_ID_LABEL, MANAGED_BY_ROLLOUTS_ANNOTATION, POD_TEMPLATE_HASH_LABEL
from rollouts.kube.client import REPLICASETS, ROLLOUTS, SERVICES, ConflictError, KubeClient, NotFoundError
from rollouts.kube.events import EventRecorder
from rollouts.kube.informer import Informer, Object, object_key
from rollouts.rollout.actions import (
    CreateReplicaSet,
    DeleteReplicaSet,
    PatchReplicaSet,
    PatchRolloutMetadata,
    PatchServiceSelector,
    RecordEvent,
    ScaleReplicaSet,
)
from rollouts.rollout.plan import Observed, decide

log = logging.getLogger(__name__)


def _service_names(rollout: Object) -> list[str]:
    strategy = (rollout.get("spec") or {}).get("strategy") or {}
    names = []
    for block, keys in (
        ("canary", ("canaryService", "stableService")),
        ("blueGreen", ("activeService", "previewService")),
    ):
        for key in keys:
            value = (strategy.get(block) or {}).get(key)
            if value:
                names.append(value)
    return names


def _rollout_owner(obj: Object) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("kind") == "Rollout" and ref.get("controller"):
            return str(ref.get("name"))
    return None


class RolloutController:
    name = "rollouts"

    def __init__(
        self,
        client: KubeClient,
        *,
        namespace: str | None = None,
        instance_id: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.clock = clock
        self.instance_id = instance_id
        # Like Argo: with an instance id, only labelled objects; without, only unlabelled ones.
        selector = f"{INSTANCE_ID_LABEL}={instance_id}" if instance_id else f"!{INSTANCE_ID_LABEL}"
        self.rollouts = Informer(client, ROLLOUTS, namespace=namespace, label_selector=selector)
        self.replicasets = Informer(client, REPLICASETS, namespace=namespace)
        self.services = Informer(client, SERVICES, namespace=namespace)
        self.informers = [self.rollouts, self.replicasets, self.services]
        self.events = EventRecorder(
            client,
            on_event=lambda obj, kind, reason: metrics.ROLLOUT_EVENTS.labels(
                obj["metadata"].get("namespace", ""), obj["metadata"].get("name", ""), kind, reason
            ).inc(),
        )
        self.enqueue: Callable[[str], None] = lambda key: None

    def bind(self, enqueue: Callable[[str], None]) -> None:
        """Route informer events to rollout keys on the queue."""
        self.enqueue = enqueue
        self.rollouts.add_handler(self._on_rollout)
        self.replicasets.add_handler(self._on_owned)
        self.services.add_handler(self._on_service)

    def _on_rollout(self, event: str, obj: Object, old: Object | None) -> None:
        if event == "DELETED":
            meta = obj["metadata"]
            metrics.forget_rollout(meta.get("namespace", ""), meta["name"])
            return
        self.enqueue(object_key(obj))

    def _on_owned(self, event: str, obj: Object, old: Object | None) -> None:
        owner = _rollout_owner(obj)
        if owner:
            self.enqueue(f"{obj['metadata'].get('namespace')}/{owner}")

    def _on_service(self, event: str, obj: Object, old: Object | None) -> None:
        namespace = obj["metadata"].get("namespace")
        name = obj["metadata"]["name"]
        for rollout in self.rollouts.items(namespace):
            if name in _service_names(rollout):
                self.enqueue(object_key(rollout))

    # --------------------------------------------------------------- reconcile

    async def reconcile(self, key: str) -> float | None:
        namespace, name = key.split("/", 1)
        rollout = self.rollouts.get(namespace, name)
        if rollout is None or rollout["metadata"].get("deletionTimestamp"):
            return None
        started = time.perf_counter()
        try:
            return await self._reconcile(rollout)
        except Exception:
            metrics.ROLLOUT_RECONCILE_ERROR.labels(namespace, name).inc()
            raise
        finally:
            metrics.ROLLOUT_RECONCILE.labels(namespace, name).observe(time.perf_counter() - started)

    async def _reconcile(self, rollout: Object) -> float | None:
        meta = rollout["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        owned = [rs for rs in self.replicasets.by_index("owner", meta["uid"]) if _rollout_owner(rs) == name]
        services = {svc: self.services.get(namespace, svc) for svc in _service_names(rollout)}
        plan = decide(Observed(rollout=rollout, replicasets=owned, services=services), self.clock())
        for action in plan.actions:
            await self._execute(rollout, action)
        old_status = rollout.get("status") or {}
        if plan.status != old_status:
            body = {**rollout, "status": plan.status}
            try:
                updated = await self.client.replace(ROLLOUTS, namespace, name, body, subresource="status")
            except ConflictError:
                log.debug("%s/%s: status conflict, requeueing", namespace, name)
                return 0.1
            except NotFoundError:
                return None
            self.rollouts.upsert_local(updated)
            metrics.record_rollout(updated)
        else:
            metrics.record_rollout(rollout)
        return plan.requeue_after

    async def _execute(self, rollout: Object, action: object) -> None:
        namespace = rollout["metadata"]["namespace"]
        name = rollout["metadata"]["name"]
        if isinstance(action, CreateReplicaSet):
            try:
                created = await self.client.create(REPLICASETS, namespace, action.body)
            except ConflictError:
                existing = await self.client.get(REPLICASETS, namespace, action.body["metadata"]["name"])
                if _rollout_owner(existing) != name:
                    raise
                created = existing
            self.replicasets.upsert_local(created)
        elif isinstance(action, ScaleReplicaSet):
            patch: dict[str, Any] = {"spec": {"replicas": action.replicas}}
            if action.annotations:
                patch["metadata"] = {"annotations": action.annotations}
            self.replicasets.upsert_local(await self.client.patch(REPLICASETS, namespace, action.name, patch))
        elif isinstance(action, PatchReplicaSet):
            self.replicasets.upsert_local(await self.client.patch(REPLICASETS, namespace, action.name, action.patch))
        elif isinstance(action, DeleteReplicaSet):
            with contextlib.suppress(NotFoundError):
                await self.client.delete(
                    REPLICASETS, namespace, action.name, uid=action.uid or None, propagation="Background"
                )
        elif isinstance(action, PatchServiceSelector):
            patch = {
                "metadata": {"annotations": {MANAGED_BY_ROLLOUTS_ANNOTATION: name}},
                "spec": {"selector": {POD_TEMPLATE_HASH_LABEL: action.pod_hash}},
            }
            self.services.upsert_local(await self.client.patch(SERVICES, namespace, action.service, patch))
        elif isinstance(action, PatchRolloutMetadata):
            updated = await self.client.patch(
                ROLLOUTS, namespace, name, {"metadata": {"annotations": action.annotations}}
            )
            rollout["metadata"]["resourceVersion"] = updated["metadata"]["resourceVersion"]
            rollout["metadata"]["annotations"] = updated["metadata"].get("annotations")
        elif isinstance(action, RecordEvent):
            await self.events.record(rollout, reason=action.reason, message=action.message, type=action.type)
