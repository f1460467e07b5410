"""The GitSync status we write, assembled from what one reconcile found; pure functions.

Field names follow an Argo CD Application's status (sync, health, resources,
operationState, history, conditions), so what a human reads there reads the
same here. Kept out of the controller so each rule is written once and can be
tested without a cluster: when an automated GitSync syncs, what a finished
operation says, how history grows, what an error before any apply leaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rollouts.api.gitsync import HISTORY_LIMIT, GitSyncStatus, SyncPolicyAutomated
from rollouts.gitsync import health as healthmod
from rollouts.gitsync.apply import ApplyOutcome, Desired
from rollouts.gitsync.compare import OUT_OF_SYNC, SYNCED, Compared
from rollouts.gitsync.prune import PruneCandidate, PruneResult
from rollouts.gitsync.redact import redact

PROGRESSING_RECHECK_SECONDS = 10.0


def last_synced_revision(previous: GitSyncStatus) -> str | None:
    operation = previous.operation_state
    if operation is None or operation.phase != "Succeeded" or operation.sync_result is None:
        return None
    return operation.sync_result.revision


def wants_sync(
    previous: GitSyncStatus, *, automated: SyncPolicyAutomated | None, commit: str, out_of_sync: bool, forced: bool
) -> bool:
    """A forced sync always; automated: when out of sync on a new commit (any commit with selfHeal), or after a failure.

    After a failed or errored operation an automated GitSync syncs again even when nothing drifted,
    so operationState ends on the truth (Succeeded) rather than on a stale error.
    """
    if forced:
        return True
    if automated is None:
        return False
    last_failed = previous.operation_state is not None and previous.operation_state.phase in ("Failed", "Error")
    return last_failed or (out_of_sync and (commit != last_synced_revision(previous) or bool(automated.self_heal)))


def next_history(history: list[dict[str, Any]], *, commit: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
    """`history` with a succeeded sync of `commit` appended (once per commit), the newest HISTORY_LIMIT kept."""
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


def comparison_status(
    *, commit: str, desired: list[Desired], compared: Compared, candidates: list[PruneCandidate]
) -> dict[str, Any]:
    """status.sync, status.health and status.resources (prune candidates included) from a comparison."""
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
            "status": OUT_OF_SYNC,
            "requiresPruning": True,
        }
        resources.append({k: v for k, v in entry.items() if v is not None})
    out_of_sync = any(r["status"] != SYNCED for r in resources)
    return {
        "sync": {"status": OUT_OF_SYNC if out_of_sync else SYNCED, "revision": commit},
        "health": {"status": healthmod.worst(healths), "message": None},
        "resources": resources,
    }


def recheck_after(status: dict[str, Any], refresh: float) -> float:
    """Seconds to the next look: the refresh interval, sooner while something is progressing or missing."""
    health = (status.get("health") or {}).get("status")
    if health in (healthmod.PROGRESSING, healthmod.MISSING):
        return min(refresh, PROGRESSING_RECHECK_SECONDS)
    return refresh


def running_operation(commit: str, *, started: str) -> dict[str, Any]:
    return {
        "phase": "Running",
        "message": f"syncing to {commit[:12]}",
        "startedAt": started,
        "finishedAt": None,
        "syncResult": {"revision": commit, "resources": None},
    }


def _sync_results(outcome: ApplyOutcome, pruned: list[PruneResult], secrets: list[str]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for result in outcome.results:
        results.append(
            {
                "group": result.key.group,
                "version": result.version,
                "kind": result.key.kind,
                "namespace": result.key.namespace or None,
                "name": result.key.name,
                "status": result.status,
                "message": redact(result.message, secrets) if result.message else result.message,
            }
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
                "message": redact(item.message, secrets) if item.message else item.message,
            }
        )
    return results


def finished_operation(
    commit: str,
    *,
    started: str,
    finished: str,
    outcome: ApplyOutcome,
    pruned: list[PruneResult],
    secrets: Iterable[str] = (),
) -> tuple[dict[str, Any], bool]:
    """The operationState of a finished sync (Failed: the first error) and whether it succeeded.

    Every message is redacted: URL credentials, and `secrets` (repository credentials and the
    values of rendered Secrets, which an API error may echo) in any encoding.
    """
    known = list(secrets)
    results = _sync_results(outcome, pruned, known)
    failed_prunes = [p for p in pruned if p.status == "SyncFailed"]
    if outcome.error is not None or failed_prunes:
        message = redact(outcome.error or failed_prunes[0].message, known)
        failed = {
            "phase": "Failed",
            "message": f"sync to {commit[:12]} failed: {message}",
            "startedAt": started,
            "finishedAt": finished,
            "syncResult": {"revision": commit, "resources": results},
        }
        return failed, False
    summary = f"successfully synced {len(outcome.results)} resources"
    if pruned:
        summary += f", pruned {sum(p.status == 'Pruned' for p in pruned)}"
    succeeded = {
        "phase": "Succeeded",
        "message": f"{summary} (revision {commit[:12]})",
        "startedAt": started,
        "finishedAt": finished,
        "syncResult": {"revision": commit, "resources": results},
    }
    return succeeded, True


def error_status(raw: dict[str, Any], *, message: str, condition: str, now: str) -> dict[str, Any]:
    """The status of a failure before any apply: sync Unknown, the condition, an Error operation."""
    previous = (raw.get("status") or {}) if isinstance(raw.get("status"), dict) else {}
    operation = {
        "phase": "Error",
        "message": message,
        "startedAt": now,
        "finishedAt": now,
        "syncResult": (previous.get("operationState") or {}).get("syncResult"),
    }
    return {
        "sync": {"status": "Unknown", "revision": (previous.get("sync") or {}).get("revision")},
        "conditions": [{"type": condition, "message": message, "lastTransitionTime": now}],
        "operationState": operation,
        "reconciledAt": now,
        "observedGeneration": (raw.get("metadata") or {}).get("generation"),
    }
