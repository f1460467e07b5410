"""The GitSync controller: fetch, render, compare, apply, prune, and report in status.

One reconcile of a GitSync: resolve the wanted revision (repo.py), render it
(source.py; cached by commit, so an unchanged commit costs one `git fetch`),
prepare the objects (namespace, tracking annotation; desired.py), compare
each with the live object and find what left Git (compare.py) and assemble
the status (status.py, which also decides when an automated GitSync syncs).
With `syncPolicy.automated` it syncs when something is out of sync and the
commit is new (or was never synced successfully), or always with `selfHeal`;
a sync (sync.py) is a dry run of everything, then server-side apply in
dependency order, then prune (PruneLast or not, prune runs after the applies
succeeded, so a failed sync deletes nothing). The refresh annotation asks for
a look now (value `sync` also forces a sync, for `rollouts gitsync sync`) and
is removed once the status is written. This module keeps the order of those
steps, the triggers, the identity each GitSync acts as, and the status writes.

A render, fetch or apply error leaves the cluster as it was, and the message
(redacted: no credentials) lands in status.conditions, operationState and a
Warning event. Any other exception is caught per GitSync, so one bad GitSync
never stops the others. Drift is found by polling at the refresh interval
(sooner while resources are progressing), not by watching every kind.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pydantic

from rollouts.api.constants import INSTANCE_ID_LABEL
from rollouts.api.gitsync import REFRESH_ANNOTATION, GitSync, GitSyncStatus
from rollouts.api.kinds import GITSYNCS
from rollouts.api.timestamps import format_time
from rollouts.gitsync.apply import Desired
from rollouts.gitsync.compare import SYNCED, compare, prune_candidates
from rollouts.gitsync.desired import SyncSourceError, desired_state, load_credentials
from rollouts.gitsync.discovery import Discovery
from rollouts.gitsync.prune import PruneCandidate
from rollouts.gitsync.redact import redact, rendered_secret_values
from rollouts.gitsync.repo import RepoCache
from rollouts.gitsync.source import Renderer
from rollouts.gitsync.status import (
    comparison_status,
    error_status,
    finished_operation,
    next_history,
    recheck_after,
    running_operation,
    wants_sync,
)
from rollouts.gitsync.sync import apply_and_prune
from rollouts.gitsync.urls import same_repository
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import KubeError, NotFoundError
from rollouts.kube.events import EventRecorder
from rollouts.kube.informer import Informer, Object, object_key

log = logging.getLogger(__name__)

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
                # Its cached renders and the clones only it used go with it.
                self.renderer.forget(object_key(obj))
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
            # The traceback goes through redact too: an exception's text may hold a URL with credentials.
            log.error("gitsync %s: reconcile failed: %s", key, redact("".join(traceback.format_exception(error))))
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
            credentials = await load_credentials(self._client_for(gitsync), gitsync)
            secrets = credentials.secrets() if credentials else []
            commit, desired = await desired_state(
                gitsync, renderer=self.renderer, discovery=self.discovery, credentials=credentials
            )
        except SyncSourceError as error:
            await self._report_error(raw, gitsync, message=redact(str(error), secrets), condition="ComparisonError")
            return refresh
        client = self._client_for(gitsync)
        compared = await compare(client, desired)
        candidates = await prune_candidates(client, gitsync, desired, discovery=self.discovery)
        out_of_sync = any(status != SYNCED for status, _ in compared.values()) or bool(candidates)
        operation = previous.operation_state.to_dict() if previous.operation_state else None
        history = [h.to_dict() for h in previous.history or []]
        conditions: list[dict[str, Any]] = []
        if wants_sync(
            previous, automated=gitsync.spec.automated, commit=commit, out_of_sync=out_of_sync, forced=force_sync
        ):
            secrets += rendered_secret_values(item.obj for item in desired)
            operation, synced_ok = await self._sync(
                raw, gitsync, commit=commit, desired=desired, candidates=candidates, secrets=secrets
            )
            if synced_ok:
                history = next_history(history, commit=commit, operation=operation)
                compared = await compare(client, desired)
                candidates = await prune_candidates(client, gitsync, desired, discovery=self.discovery)
            else:
                conditions.append(
                    {
                        "type": "SyncError",
                        "message": operation["message"],
                        "lastTransitionTime": operation["finishedAt"],
                    }
                )
        status = comparison_status(commit=commit, desired=desired, compared=compared, candidates=candidates)
        status.update(
            {
                "operationState": operation,
                "conditions": conditions or None,
                "history": history or None,
                "reconciledAt": format_time(self.clock()),
                "observedGeneration": gitsync.metadata.generation,
                "refreshInterval": f"{refresh:g}s",
            }
        )
        await self._write_status(raw, status)
        return recheck_after(status, refresh)

    # ------------------------------------------------------------ pieces

    def _client_for(self, gitsync: GitSync) -> KubeClient:
        """The client that reads, applies and prunes this GitSync's objects.

        With spec.serviceAccountName (or the controller's default) every such
        request is authorised as that ServiceAccount of the GitSync's namespace,
        so a namespace's RBAC, not the controller's, bounds what its GitSyncs can
        change and which credentials Secret they can use. Status and events use the
        controller's own rights.
        """
        account = gitsync.spec.service_account_name or self.default_service_account
        if not account:
            return self.client
        return self.client.impersonating(f"system:serviceaccount:{gitsync.metadata.namespace}:{account}")

    async def _sync(
        self,
        raw: Object,
        gitsync: GitSync,
        *,
        commit: str,
        desired: list[Desired],
        candidates: list[PruneCandidate],
        secrets: list[str],
    ) -> tuple[dict[str, Any], bool]:
        """Apply (and prune); returns the finished operationState and whether it succeeded."""
        started = format_time(self.clock())
        await self._write_status(raw, {"operationState": running_operation(commit, started=started)})
        outcome, pruned = await apply_and_prune(
            self._client_for(gitsync), gitsync, desired=desired, candidates=candidates, discovery=self.discovery
        )
        operation, succeeded = finished_operation(
            commit,
            started=started,
            finished=format_time(self.clock()),
            outcome=outcome,
            pruned=pruned,
            secrets=secrets,
        )
        if succeeded:
            await self.events.record(raw, reason="OperationCompleted", message=operation["message"])
        else:
            await self.events.record(raw, reason="SyncFailed", message=operation["message"], type="Warning")
        return operation, succeeded

    async def _report_error(self, raw: Object, gitsync: GitSync | None, *, message: str, condition: str) -> None:
        """Status and a Warning event for a failure before any apply; the cluster is left as it was."""
        status = error_status(raw, message=message, condition=condition, now=format_time(self.clock()))
        if gitsync is not None:
            status["refreshInterval"] = f"{gitsync.spec.refresh_seconds():g}s"
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
