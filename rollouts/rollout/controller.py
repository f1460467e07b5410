"""The rollout controller shell: observe (informer caches) -> decide() -> act (API writes).

Everything that takes judgement lives in decide(); this module only
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
from typing import Any, assert_never

from rollouts import metrics
from rollouts.api.constants import INSTANCE_ID_LABEL, MANAGED_BY_ROLLOUTS_ANNOTATION, POD_TEMPLATE_HASH_LABEL
from rollouts.api.kinds import ANALYSIS_RUNS, ANALYSIS_TEMPLATES, CLUSTER_ANALYSIS_TEMPLATES, ROLLOUTS
from rollouts.api.numbers import INT32_MAX, count
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ConflictError, KubeError, NotFoundError
from rollouts.kube.events import EventRecorder
from rollouts.kube.informer import Informer, Object, object_key
from rollouts.kube.readonly import thaw
from rollouts.kube.resources import DEPLOYMENTS, POD_TEMPLATES, PODS, REPLICASETS, SERVICES
from rollouts.rollout import workload as workloads
from rollouts.rollout.actions import (
    Action,
    CreateAnalysisRun,
    CreateReplicaSet,
    DeleteAnalysisRun,
    DeletePod,
    DeleteReplicaSet,
    PatchPod,
    PatchReplicaSet,
    PatchRolloutMetadata,
    PatchServiceSelector,
    RecordEvent,
    RequeueAfter,
    ScaleDeployment,
    ScaleReplicaSet,
    TerminateAnalysisRun,
    UpdateStatus,
)
from rollouts.rollout.context import Observed
from rollouts.rollout.decide import decide
from rollouts.rollout.scaling import default_replicas_patch

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
        self.rollouts = Informer(
            client,
            ROLLOUTS,
            namespace=namespace,
            label_selector=selector,
            indexers={"workloadRef": workloads.referenced_keys},
        )
        self.replicasets = Informer(client, REPLICASETS, namespace=namespace)
        self.services = Informer(client, SERVICES, namespace=namespace)
        self.pods = Informer(client, PODS, namespace=namespace)
        self.analysis_runs = Informer(client, ANALYSIS_RUNS, namespace=namespace)
        self.templates = Informer(client, ANALYSIS_TEMPLATES, namespace=namespace)
        self.cluster_templates = Informer(client, CLUSTER_ANALYSIS_TEMPLATES)
        # What spec.workloadRef may name (ReplicaSets are watched above already).
        self.deployments = Informer(client, DEPLOYMENTS, namespace=namespace)
        self.pod_templates = Informer(client, POD_TEMPLATES, namespace=namespace)
        self.informers = [
            self.rollouts,
            self.replicasets,
            self.services,
            self.pods,
            self.analysis_runs,
            self.templates,
            self.cluster_templates,
            self.deployments,
            self.pod_templates,
        ]
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
        self.analysis_runs.add_handler(self._on_owned)
        self.pods.add_handler(self._on_pod)
        self.templates.add_handler(self._on_template)
        self.cluster_templates.add_handler(self._on_template)
        self.deployments.add_handler(self._on_workload)
        self.replicasets.add_handler(self._on_workload)
        self.pod_templates.add_handler(self._on_workload)

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

    def _on_pod(self, event: str, obj: Object, old: Object | None) -> None:
        # Only what restart and pod metadata read: a pod's ReplicaSet leads to its rollout.
        namespace = obj["metadata"].get("namespace")
        for ref in obj["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "ReplicaSet":
                rs = self.replicasets.get(namespace, ref["name"])
                owner = _rollout_owner(rs) if rs else None
                if owner:
                    self.enqueue(f"{namespace}/{owner}")

    def _on_template(self, event: str, obj: Object, old: Object | None) -> None:
        namespace = obj["metadata"].get("namespace")
        for rollout in self.rollouts.items(namespace):
            if (rollout.get("status") or {}).get("currentPodHash") != (rollout.get("status") or {}).get("stableRS"):
                self.enqueue(object_key(rollout))

    def _on_workload(self, event: str, obj: Object, old: Object | None) -> None:
        """A Deployment / ReplicaSet / PodTemplate changed: requeue the Rollouts whose workloadRef names it."""
        for rollout in self.rollouts.by_index("workloadRef", workloads.object_key(obj)):
            self.enqueue(object_key(rollout))

    def _referenced_workload(self, rollout: Object) -> Object | None:
        ref = workloads.workload_ref(rollout)
        kind = workloads.workload_kind(ref) if ref else None
        if ref is None or kind is None:
            return None
        informer = {"Deployment": self.deployments, "ReplicaSet": self.replicasets, "PodTemplate": self.pod_templates}
        return informer[kind.kind].get(rollout["metadata"]["namespace"], str(ref.get("name") or ""))

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
            return await self._reconcile(thaw(rollout))  # a private copy: the cached one is shared, read-only
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
        pods = [pod for rs in owned for pod in self.pods.by_index("owner", rs["metadata"]["uid"])]
        runs = [run for run in self.analysis_runs.by_index("owner", meta["uid"]) if _rollout_owner(run) == name]
        templates: dict[tuple[bool, str], Object] = {
            (False, t["metadata"]["name"]): t for t in self.templates.items(namespace)
        }
        templates.update({(True, t["metadata"]["name"]): t for t in self.cluster_templates.items()})
        observed = Observed(
            rollout=rollout,
            replicasets=owned,
            services=services,
            pods=pods,
            analysis_runs=runs,
            analysis_templates=templates,
            workload=self._referenced_workload(rollout),
        )
        plan = decide(observed, self.clock())
        for action in plan.actions:
            await self._execute(rollout, action)
        replicas_patch = default_replicas_patch(rollout, plan.status)
        if replicas_patch is not None:
            updated_spec = await self.client.patch(ROLLOUTS, namespace, name, replicas_patch)
            rollout["metadata"]["resourceVersion"] = updated_spec["metadata"]["resourceVersion"]
            self.rollouts.upsert_local(updated_spec)
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

    async def _execute(self, rollout: Object, action: Action) -> None:
        namespace = rollout["metadata"]["namespace"]
        name = rollout["metadata"]["name"]
        match action:
            case CreateReplicaSet():
                try:
                    created = await self.client.create(REPLICASETS, namespace, action.body)
                except ConflictError:
                    existing = await self.client.get(REPLICASETS, namespace, action.body["metadata"]["name"])
                    if _rollout_owner(existing) != name:
                        # Argo's hash collision handling: another object holds the name; bump
                        # collisionCount so the next reconcile computes a different hash.
                        # A malformed count reads as 0; at int32's end it stays (Argo's rule).
                        current = count((rollout.get("status") or {}).get("collisionCount"))
                        collisions = min(current + 1, INT32_MAX)
                        await self.client.patch(
                            ROLLOUTS, namespace, name, {"status": {"collisionCount": collisions}}, subresource="status"
                        )
                        raise
                    created = existing
                self.replicasets.upsert_local(created)
            case CreateAnalysisRun():
                # A 409: an earlier pass created it and our cache has not seen it yet.
                with contextlib.suppress(ConflictError):
                    self.analysis_runs.upsert_local(await self.client.create(ANALYSIS_RUNS, namespace, action.body))
            case TerminateAnalysisRun():
                with contextlib.suppress(NotFoundError):
                    self.analysis_runs.upsert_local(
                        await self.client.patch(ANALYSIS_RUNS, namespace, action.name, {"spec": {"terminate": True}})
                    )
            case DeleteAnalysisRun():
                with contextlib.suppress(NotFoundError):
                    await self.client.delete(ANALYSIS_RUNS, namespace, action.name, uid=action.uid or None)
            case DeletePod():
                await self._delete_pod(namespace, action)
            case PatchPod():
                with contextlib.suppress(NotFoundError):
                    self.pods.upsert_local(await self.client.patch(PODS, namespace, action.name, action.patch))
            case ScaleReplicaSet():
                patch: dict[str, Any] = {"spec": {"replicas": action.replicas}}
                if action.annotations:
                    patch["metadata"] = {"annotations": action.annotations}
                self.replicasets.upsert_local(await self.client.patch(REPLICASETS, namespace, action.name, patch))
            case PatchReplicaSet():
                self.replicasets.upsert_local(
                    await self.client.patch(REPLICASETS, namespace, action.name, action.patch)
                )
            case DeleteReplicaSet():
                with contextlib.suppress(NotFoundError):
                    await self.client.delete(
                        REPLICASETS, namespace, action.name, uid=action.uid or None, propagation="Background"
                    )
            case PatchServiceSelector():
                patch = {
                    "metadata": {"annotations": {MANAGED_BY_ROLLOUTS_ANNOTATION: name}},
                    "spec": {"selector": {POD_TEMPLATE_HASH_LABEL: action.pod_hash}},
                }
                self.services.upsert_local(await self.client.patch(SERVICES, namespace, action.service, patch))
            case PatchRolloutMetadata():
                updated = await self.client.patch(
                    ROLLOUTS, namespace, name, {"metadata": {"annotations": action.annotations}}
                )
                rollout["metadata"]["resourceVersion"] = updated["metadata"]["resourceVersion"]
                rollout["metadata"]["annotations"] = updated["metadata"].get("annotations")
                self.rollouts.upsert_local(updated)
            case ScaleDeployment():
                patch = {"spec": {"replicas": action.replicas}}
                with contextlib.suppress(NotFoundError):
                    self.deployments.upsert_local(await self.client.patch(DEPLOYMENTS, namespace, action.name, patch))
            case RecordEvent():
                await self.events.record(rollout, reason=action.reason, message=action.message, type=action.type)
            case UpdateStatus() | RequeueAfter():
                pass  # carried by Plan.status / Plan.requeue_after, written and returned by _reconcile
            case _:
                assert_never(action)

    async def _delete_pod(self, namespace: str, action: DeletePod) -> None:
        """An eviction (respects PodDisruptionBudgets; 429 means "not now" and is retried later)."""
        if not action.evict:
            with contextlib.suppress(NotFoundError):
                await self.client.delete(PODS, namespace, action.name, uid=action.uid or None)
            return
        body = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": action.name, "namespace": namespace},
            "deleteOptions": {"preconditions": {"uid": action.uid}} if action.uid else {},
        }
        try:
            await self.client.request("POST", PODS.path(namespace, action.name, "eviction"), body=body)
        except NotFoundError:
            return
        except KubeError as error:
            if error.status == 429:
                log.info("eviction of %s/%s refused for now (disruption budget)", namespace, action.name)
                return
            raise
