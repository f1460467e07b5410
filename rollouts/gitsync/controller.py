"""The GitSync controller: fetch, render, compare, apply, prune, and report in status.

One reconcile of a GitSync: resolve the wanted revision (repo.py), render it
(source.py; cached by commit, so an unchanged commit costs one `git fetch`),
prepare the objects (namespace, tracking annotation), compare each with the
live object (diff.py) and compute health (health.py). With
`syncPolicy.automated` it syncs when something is out of sync and the commit
is new (or was never synced successfully), or always with `selfHeal`; a sync
is a dry run of everything, then server-side apply in dependency order, then
prune (PruneLast or not, prune runs after the applies succeeded, so a failed
sync deletes nothing). The refresh annotation asks for a look now (value
`sync` also forces a sync, for `rollouts gitsync sync`) and is removed once
the status is written.

A render, fetch or apply error leaves the cluster as it was, and the message
(redacted: no credentials) lands in status.conditions, operationState and a
Warning event. Any other exception is caught per GitSync, so one bad GitSync
never stops the others. Drift is found by polling at the refresh interval
(sooner while resources are progressing), not by watching every kind.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pydantic

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.gitsync import (
    HISTORY_LIMIT,
    REFRESH_ANNOTATION,
    SYNC_OPTION_CREATE_NAMESPACE,
    GitSync,
    GitSyncStatus,
)
from rollouts.api.kinds import GITSYNCS
from rollouts.api.timestamps import format_time
from rollouts.gitsync import health as healthmod
from rollouts.gitsync.apply import (
    ApplyOutcome,
    Desired,
    apply_all,
    ensure_namespace,
)
from rollouts.gitsync.desired import (
    SyncSourceError,
    desired_state,
    destination_namespace,
    live_object,
    load_credentials,
)
from rollouts.gitsync.diff import differences
from rollouts.gitsync.discovery import Discovery
from rollouts.gitsync.prune import PruneCandidate, PruneResult, prune, still_tracked
from rollouts.gitsync.redact import redact
from rollouts.gitsync.repo import RepoCache
from rollouts.gitsync.source import Renderer
from rollouts.gitsync.tracking import ResourceKey
from rollouts.gitsync.urls import same_repository
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import KubeError, NotFoundError
from rollouts.kube.events import EventRecorder
from rollouts.kube.informer import Informer, Object, object_key

log = logging.getLogger(__name__)

PROGRESSING_RECHECK_SECONDS = 10.0
FORCE_SYNC_VALUE = "sync"


def _annotations(raw: Object) -> dict[str, str]:
    return dict((raw.get("metadata") or {}).get("annotations") or {})


class GitSyncController:
    name = "gitsync"
    queue_name = "GitSyncs"

    def __init__(
        self,
        client: KubeClient,
        *,
        namespace: str | None = None,
        instance_id: str | None = None,
        renderer: Renderer | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        default_service_account: str | None = None,
    ) -> None:
        self.client = client
        # Impersonated for GitSyncs that name no spec.serviceAccountName (--gitsync-default-service-account).
        self.default_service_account = default_service_account
        self.clock = clock
        # Like the other controllers: an instance id serves only GitSyncs labelled with it.
        selector = f"{INSTANCE_ID_LABEL}={instance_id}" if instance_id else f"!{INSTANCE_ID_LABEL}"
        self.gitsyncs = Informer(client, GITSYNCS, namespace=namespace, label_selector=selector)
        self.informers = [self.gitsyncs]
        self.events = EventRecorder(client, component="rollouts-gitsync")
        self.discovery = Discovery(client)
        self.renderer = renderer or Renderer(repos=RepoCache())
        self._enqueue: Callable[[str], None] = lambda key: None

    # ------------------------------------------------------------ triggers

    def bind(self, enqueue: Callable[[str], None]) -> None:
        self._enqueue = enqueue

        def on_change(event: str, obj: Object, old: Object | None) -> None:
            if event == "DELETED":
                return
            if event == "ADDED" or old is None:
                enqueue(object_key(obj))
                return
            # Our own status writes must not trigger a new fetch: only spec changes and refresh requests do.
            changed = (obj.get("metadata") or {}).get("generation") != (old.get("metadata") or {}).get("generation")
            if changed or REFRESH_ANNOTATION in _annotations(obj):
                enqueue(object_key(obj))

        self.gitsyncs.add_handler(on_change)

    def refresh_repository(self, url: str) -> list[str]:
        """Reconcile now every GitSync whose repoURL is `url` (a push webhook); returns their keys."""
        keys = []
        for obj in self.gitsyncs.items():
            repo_url = str(((obj.get("spec") or {}).get("source") or {}).get("repoURL") or "")
            if repo_url and same_repository(repo_url, url):
                keys.append(object_key(obj))
        for key in keys:
            self._enqueue(key)
        return keys

    # ------------------------------------------------------------ reconcile

    async def reconcile(self, key: str) -> float | None:
        namespace, _, name = key.rpartition("/")
        raw = self.gitsyncs.get(namespace or None, name)
        if raw is None or (raw.get("metadata") or {}).get("deletionTimestamp"):
            return None
        try:
            return await self._reconcile(raw)
        except Exception as error:  # one bad GitSync must never stop the controller
            log.exception("gitsync %s: reconcile failed", key)
            message = redact(f"internal error: {error}")
            with contextlib.suppress(Exception):
                await self._report_error(raw, None, message=message, condition="ComparisonError")
            return 30.0

    async def _reconcile(self, raw: Object) -> float | None:
        try:
            gitsync = GitSync.from_dict(raw)
        except pydantic.ValidationError as error:
            message = f"invalid spec: {error.errors()[0].get('loc')}: {error.errors()[0].get('msg')}"
            await self._report_error(raw, None, message=message, condition="InvalidSpecError")
            return None
        refresh = gitsync.spec.refresh_seconds()
        previous = gitsync.status or GitSyncStatus()
        force_sync = _annotations(raw).get(REFRESH_ANNOTATION, "").strip().lower() == FORCE_SYNC_VALUE
        secrets: list[str] = []
        try:
            credentials = await load_credentials(self.client, gitsync)
            secrets = credentials.secrets() if credentials else []
            commit, desired = await desired_state(
                gitsync, renderer=self.renderer, discovery=self.discovery, credentials=credentials
            )
        except SyncSourceError as error:
            await self._report_error(raw, gitsync, message=redact(str(error), secrets), condition="ComparisonError")
            return refresh
        compared = await self._compare(gitsync, desired)
        candidates = await self._prune_candidates(gitsync, desired)
        out_of_sync = any(status != "Synced" for status, _ in compared.values()) or bool(candidates)
        automated = gitsync.spec.automated
        last_synced = self._last_synced_revision(previous)
        # After a failed or errored operation an automated GitSync syncs again even when nothing drifted,
        # so operationState ends on the truth (Succeeded) rather than on a stale error.
        last_failed = previous.operation_state is not None and previous.operation_state.phase in ("Failed", "Error")
        wants_sync = force_sync or (
            automated is not None
            and (last_failed or (out_of_sync and (commit != last_synced or bool(automated.self_heal))))
        )
        operation = previous.operation_state.to_dict() if previous.operation_state else None
        history = [h.to_dict() for h in previous.history or []]
        conditions: list[dict[str, Any]] = []
        if wants_sync:
            operation, synced_ok = await self._sync(raw, gitsync, commit=commit, desired=desired, candidates=candidates)
            if synced_ok:
                history = self._history(history, commit=commit, operation=operation)
                compared = await self._compare(gitsync, desired)
                candidates = await self._prune_candidates(gitsync, desired)
            else:
                conditions.append(
                    {
                        "type": "SyncError",
                        "message": operation["message"],
                        "lastTransitionTime": operation["finishedAt"],
                    }
                )
        status = self._status(gitsync, commit=commit, desired=desired, compared=compared, candidates=candidates)
        status.update(
            {
                "operationState": operation,
                "conditions": conditions or None,
                "history": history or None,
                "reconciledAt": format_time(self.clock()),
                "observedGeneration": gitsync.metadata.generation,
            }
        )
        await self._write_status(raw, status)
        health = (status.get("health") or {}).get("status")
        if health in (healthmod.PROGRESSING, healthmod.MISSING):
            return min(refresh, PROGRESSING_RECHECK_SECONDS)
        return refresh

    # ------------------------------------------------------------ pieces

    def _client_for(self, gitsync: GitSync) -> KubeClient:
        """The client that reads, applies and prunes this GitSync's objects.

        With spec.serviceAccountName (or the controller's default) every such
        request is authorised as that ServiceAccount of the GitSync's namespace,
        so a namespace's RBAC, not the controller's, bounds what its GitSyncs can
        change. Status, events and the credentials Secret use the controller's own rights.
        """
        account = gitsync.spec.service_account_name or self.default_service_account
        if not account:
            return self.client
        return self.client.impersonating(f"system:serviceaccount:{gitsync.metadata.namespace}:{account}")

    def _destination(self, gitsync: GitSync) -> str:
        return destination_namespace(gitsync)

    async def _compare(
        self, gitsync: GitSync, desired: list[Desired]
    ) -> dict[ResourceKey, tuple[str, dict[str, Any] | None]]:
        """key -> (Synced / OutOfSync, live object or None)."""
        result: dict[ResourceKey, tuple[str, dict[str, Any] | None]] = {}
        for item in desired:
            live = await live_object(self._client_for(gitsync), item)
            drift = differences(item.obj, live) if live is not None else ["(missing)"]
            result[item.key] = ("Synced" if not drift else "OutOfSync", live)
        return result

    async def _prune_candidates(self, gitsync: GitSync, desired: list[Desired]) -> list[PruneCandidate]:
        """Objects of the last inventory that left Git and still carry our tracking id."""
        wanted = {item.key for item in desired}
        candidates = []
        for entry in (gitsync.status.resources if gitsync.status else None) or []:
            key = ResourceKey(entry.group or "", entry.kind, entry.namespace or "", entry.name)
            if key in wanted or not entry.version:
                continue
            candidate = PruneCandidate(key, entry.version)
            if await still_tracked(
                self._client_for(gitsync),
                candidate,
                discovery=self.discovery,
                gitsync_namespace=gitsync.metadata.namespace or "",
                gitsync_name=gitsync.metadata.name or "",
            ):
                candidates.append(candidate)
        return candidates

    @staticmethod
    def _last_synced_revision(previous: GitSyncStatus) -> str | None:
        operation = previous.operation_state
        if operation is None or operation.phase != "Succeeded" or operation.sync_result is None:
            return None
        return operation.sync_result.revision

    @staticmethod
    def _history(history: list[dict[str, Any]], *, commit: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
        if history and history[-1].get("revision") == commit:
            return history
        next_id = (max(int(h.get("id", 0)) for h in history) + 1) if history else 0
        entry = {
            "id": next_id,
            "revision": commit,
            "deployedAt": operation["finishedAt"],
            "deployStartedAt": operation["startedAt"],
        }
        return [*history, entry][-HISTORY_LIMIT:]

    async def _sync(
        self,
        raw: Object,
        gitsync: GitSync,
        *,
        commit: str,
        desired: list[Desired],
        candidates: list[PruneCandidate],
    ) -> tuple[dict[str, Any], bool]:
        """Apply (and prune); returns the finished operationState and whether it succeeded."""
        started = format_time(self.clock())
        running = {
            "phase": "Running",
            "message": f"syncing to {commit[:12]}",
            "startedAt": started,
            "finishedAt": None,
            "syncResult": {"revision": commit, "resources": None},
        }
        await self._write_status(raw, {"operationState": running})
        new_namespaces: set[str] = set()
        results: list[dict[str, Any]] = []
        outcome = ApplyOutcome()
        try:
            destination = self._destination(gitsync)
            if gitsync.spec.has_option(SYNC_OPTION_CREATE_NAMESPACE) and await ensure_namespace(
                self._client_for(gitsync), destination
            ):
                new_namespaces.add(destination)
            outcome = await apply_all(
                self._client_for(gitsync), desired, discovery=self.discovery, new_namespaces=new_namespaces
            )
        except KubeError as error:
            outcome.error = f"cannot create namespace: {error}"
        for result in outcome.results:
            results.append(
                {
                    "group": result.key.group,
                    "version": result.version,
                    "kind": result.key.kind,
                    "namespace": result.key.namespace or None,
                    "name": result.key.name,
                    "status": result.status,
                    "message": result.message,
                }
            )
        pruned: list[PruneResult] = []
        automated = gitsync.spec.automated
        if outcome.error is None and candidates and automated is not None and automated.prune:
            # With or without PruneLast=true, prune runs after every apply succeeded: a failed sync deletes nothing.
            pruned = await prune(
                self._client_for(gitsync),
                candidates,
                discovery=self.discovery,
                gitsync_namespace=gitsync.metadata.namespace or "",
                gitsync_name=gitsync.metadata.name or "",
            )
        for item in pruned:
            results.append(
                {
                    "group": item.candidate.key.group,
                    "version": item.candidate.version,
                    "kind": item.candidate.key.kind,
                    "namespace": item.candidate.key.namespace or None,
                    "name": item.candidate.key.name,
                    "status": item.status,
                    "message": item.message,
                }
            )
        failed_prunes = [p for p in pruned if p.status == "SyncFailed"]
        finished = format_time(self.clock())
        if outcome.error is not None or failed_prunes:
            message = redact(outcome.error or failed_prunes[0].message)
            operation: dict[str, Any] = {
                "phase": "Failed",
                "message": f"sync to {commit[:12]} failed: {message}",
                "startedAt": started,
                "finishedAt": finished,
                "syncResult": {"revision": commit, "resources": results},
            }
            await self.events.record(raw, reason="SyncFailed", message=operation["message"], type="Warning")
            return operation, False
        summary = f"successfully synced {len(outcome.results)} resources"
        if pruned:
            summary += f", pruned {sum(p.status == 'Pruned' for p in pruned)}"
        operation = {
            "phase": "Succeeded",
            "message": f"{summary} (revision {commit[:12]})",
            "startedAt": started,
            "finishedAt": finished,
            "syncResult": {"revision": commit, "resources": results},
        }
        await self.events.record(raw, reason="OperationCompleted", message=operation["message"])
        return operation, True

    def _status(
        self,
        gitsync: GitSync,
        *,
        commit: str,
        desired: list[Desired],
        compared: dict[ResourceKey, tuple[str, dict[str, Any] | None]],
        candidates: list[PruneCandidate],
    ) -> dict[str, Any]:
        resources: list[dict[str, Any]] = []
        healths: list[str] = []
        for item in desired:
            sync_status, live = compared[item.key]
            health = healthmod.resource_health(live)
            healths.append(health.status)
            entry: dict[str, Any] = {
                "group": item.key.group,
                "version": item.api_version.rpartition("/")[2],
                "kind": item.key.kind,
                "namespace": item.key.namespace or None,
                "name": item.key.name,
                "status": sync_status,
                "health": {"status": health.status, **({"message": health.message} if health.message else {})},
            }
            resources.append({k: v for k, v in entry.items() if v is not None})
        for candidate in candidates:
            entry = {
                "group": candidate.key.group,
                "version": candidate.version,
                "kind": candidate.key.kind,
                "namespace": candidate.key.namespace or None,
                "name": candidate.key.name,
                "status": "OutOfSync",
                "requiresPruning": True,
            }
            resources.append({k: v for k, v in entry.items() if v is not None})
        out_of_sync = any(r["status"] != "Synced" for r in resources)
        return {
            "sync": {"status": "OutOfSync" if out_of_sync else "Synced", "revision": commit},
            "health": {"status": healthmod.worst(healths), "message": None},
            "resources": resources,
        }

    async def _report_error(self, raw: Object, gitsync: GitSync | None, *, message: str, condition: str) -> None:
        """Status and a Warning event for a failure before any apply; the cluster is left as it was."""
        previous = (raw.get("status") or {}) if isinstance(raw.get("status"), dict) else {}
        now = format_time(self.clock())
        operation = {
            "phase": "Error",
            "message": message,
            "startedAt": now,
            "finishedAt": now,
            "syncResult": (previous.get("operationState") or {}).get("syncResult"),
        }
        status = {
            "sync": {"status": "Unknown", "revision": (previous.get("sync") or {}).get("revision")},
            "conditions": [{"type": condition, "message": message, "lastTransitionTime": now}],
            "operationState": operation,
            "reconciledAt": now,
            "observedGeneration": (raw.get("metadata") or {}).get("generation"),
        }
        await self.events.record(raw, reason=condition, message=message, type="Warning")
        await self._write_status(raw, status)

    async def _write_status(self, raw: Object, status: dict[str, Any]) -> None:
        """Merge-patch the status subresource; then drop a handled refresh request."""
        meta = raw["metadata"]
        try:
            updated = await self.client.patch(
                GITSYNCS, meta.get("namespace"), meta["name"], {"status": status}, subresource="status"
            )
        except NotFoundError:
            return
        self.gitsyncs.upsert_local(updated)
        if status.get("operationState", {}) and status["operationState"].get("phase") == "Running":
            return
        if REFRESH_ANNOTATION in _annotations(raw):
            patch = [{"op": "remove", "path": "/metadata/annotations/" + REFRESH_ANNOTATION.replace("/", "~1")}]
            with contextlib.suppress(KubeError):  # already removed (422) or the GitSync is gone
                await self.client.patch(GITSYNCS, meta.get("namespace"), meta["name"], patch, patch_type="json")
