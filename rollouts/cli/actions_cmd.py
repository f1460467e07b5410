"""Operator actions: promote, abort, retry, pause, restart, set image, undo, terminate.

Each command sends the same request as Argo's `kubectl argo rollouts` (see
rollouts.cli.patches for the bodies), so either CLI drives either controller:
status fields through the status subresource (falling back to the object for
CRDs without one), spec fields as merge patches, `set image` as a read-modify-
update retried on conflict, `undo` as a JSON patch of /spec/template (on the
referenced Deployment for workloadRef rollouts). Output lines match Argo's.
"""

from __future__ import annotations

import argparse
from typing import Any

from rollouts.api.kinds import ANALYSIS_RUNS, ROLLOUTS
from rollouts.api.resource import Resource
from rollouts.cli import patches
from rollouts.cli.kubeapi import (
    add_connection_flags,
    connect,
    get_named,
    list_items,
    patch_named,
    patch_status_or_object,
    resolve_connection,
    run_async,
)
from rollouts.cli.main import CommandError
from rollouts.cli.objects import utc_now
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import ConflictError, NotFoundError
from rollouts.kube.resources import DEPLOYMENTS, REPLICASETS

_SET_IMAGE_ATTEMPTS = 5
_WORKLOAD_KINDS: dict[str, Resource] = {
    "Deployment": DEPLOYMENTS,
    "ReplicaSet": REPLICASETS,
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    promote = subparsers.add_parser(
        "promote",
        help="promote a paused rollout to the next step (or fully with --full)",
        description="Promotes a rollout paused at a canary step, or a paused blue-green "
        "pre-promotion. --full skips analysis, pauses and steps entirely.",
    )
    promote.add_argument("name", metavar="ROLLOUT_NAME")
    promote.add_argument("--full", action="store_true", help="full promotion, skipping analysis, pauses and steps")
    promote.add_argument("-c", "--skip-current-step", action="store_true", help="deprecated: skip the current step")
    promote.add_argument("-a", "--skip-all-steps", action="store_true", help="deprecated: use --full")
    add_connection_flags(promote)
    promote.set_defaults(handler=promote_command)

    abort = subparsers.add_parser("abort", help="abort a rollout: go back to the stable ReplicaSet")
    abort.add_argument("names", metavar="ROLLOUT_NAME", nargs="+")
    add_connection_flags(abort)
    abort.set_defaults(handler=abort_command)

    retry = subparsers.add_parser("retry", help="retry an aborted rollout")
    retry_kinds = retry.add_subparsers(dest="retry_kind", metavar="KIND", required=True)
    retry_rollout = retry_kinds.add_parser("rollout", aliases=["ro", "rollouts"], help="retry an aborted rollout")
    retry_rollout.add_argument("names", metavar="ROLLOUT_NAME", nargs="+")
    add_connection_flags(retry_rollout)
    retry_rollout.set_defaults(handler=retry_command)

    pause = subparsers.add_parser("pause", help="pause a rollout (spec.paused=true)")
    pause.add_argument("names", metavar="ROLLOUT_NAME", nargs="+")
    add_connection_flags(pause)
    pause.set_defaults(handler=pause_command)

    restart = subparsers.add_parser("restart", help="restart the pods of a rollout")
    restart.add_argument("name", metavar="ROLLOUT_NAME")
    restart.add_argument("-i", "--in", dest="delay", help="delay before the restart (30s, 5m, 1h)")
    add_connection_flags(restart)
    restart.set_defaults(handler=restart_command)

    set_parser = subparsers.add_parser("set", help="update fields of a rollout")
    set_kinds = set_parser.add_subparsers(dest="set_kind", metavar="FIELD", required=True)
    image = set_kinds.add_parser(
        "image",
        help="update the image of a container (CONTAINER=IMAGE, '*' for all containers)",
    )
    image.add_argument("name", metavar="ROLLOUT_NAME")
    image.add_argument("image_spec", metavar="CONTAINER=IMAGE")
    add_connection_flags(image)
    image.set_defaults(handler=set_image_command)

    undo = subparsers.add_parser("undo", help="roll back to a previous revision")
    undo.add_argument("name", metavar="ROLLOUT_NAME")
    undo.add_argument("--to-revision", type=int, default=0, help="revision to roll back to (default: previous)")
    add_connection_flags(undo)
    undo.set_defaults(handler=undo_command)

    terminate = subparsers.add_parser("terminate", help="terminate an AnalysisRun")
    terminate_kinds = terminate.add_subparsers(dest="terminate_kind", metavar="KIND", required=True)
    terminate_run = terminate_kinds.add_parser(
        "analysisrun", aliases=["ar", "analysisruns"], help="terminate an AnalysisRun"
    )
    terminate_run.add_argument("names", metavar="ANALYSISRUN_NAME", nargs="+")
    add_connection_flags(terminate_run)
    terminate_run.set_defaults(handler=terminate_command)


# ---------------------------------------------------------------- promote


async def promote(
    client: KubeClient,
    *,
    namespace: str,
    name: str,
    full: bool = False,
    skip_current_step: bool = False,
    skip_all_steps: bool = False,
) -> dict[str, Any]:
    rollout = await get_named(client, ROLLOUTS, namespace, name)
    try:
        planned = patches.promote_patches(
            rollout,
            full=full,
            skip_current_step=skip_current_step,
            skip_all_steps=skip_all_steps,
        )
    except patches.WrongStateError as error:
        raise CommandError(str(error)) from None
    spec_patch = planned.spec
    if planned.status is not None:
        try:
            rollout = await client.patch(ROLLOUTS, namespace, name, planned.status, subresource="status")
        except NotFoundError:
            spec_patch = planned.unified  # CRD without a status subresource
    if spec_patch is not None:
        rollout = await patch_named(client, ROLLOUTS, namespace=namespace, name=name, patch=spec_patch)
    return rollout


def promote_command(args: argparse.Namespace) -> int:
    connection = resolve_connection(args)

    async def work() -> None:
        async with connect(connection) as client:
            await promote(
                client,
                namespace=connection.namespace,
                name=args.name,
                full=args.full,
                skip_current_step=args.skip_current_step,
                skip_all_steps=args.skip_all_steps,
            )

    run_async(work)
    print(f"rollout '{args.name}' {'fully promoted' if args.full else 'promoted'}")
    return 0


# ---------------------------------------------------------------- abort / retry / pause


def _patch_each(args: argparse.Namespace, *, patch: dict[str, Any], status: bool, done: str) -> int:
    connection = resolve_connection(args)

    async def work() -> None:
        async with connect(connection) as client:
            for name in args.names:
                if status:
                    await patch_status_or_object(
                        client, ROLLOUTS, namespace=connection.namespace, name=name, patch=patch
                    )
                else:
                    await patch_named(client, ROLLOUTS, namespace=connection.namespace, name=name, patch=patch)
                print(f"rollout '{name}' {done}", flush=True)

    run_async(work)
    return 0


def abort_command(args: argparse.Namespace) -> int:
    return _patch_each(args, patch=patches.ABORT_PATCH, status=True, done="aborted")


def retry_command(args: argparse.Namespace) -> int:
    return _patch_each(args, patch=patches.RETRY_PATCH, status=True, done="retried")


def pause_command(args: argparse.Namespace) -> int:
    return _patch_each(args, patch=patches.PAUSE_PATCH, status=False, done="paused")


# ---------------------------------------------------------------- restart


def restart_command(args: argparse.Namespace) -> int:
    try:
        patch, shown = patches.restart_patch(utc_now(), args.delay)
    except ValueError as error:
        raise CommandError(str(error)) from None
    connection = resolve_connection(args)

    async def work() -> None:
        async with connect(connection) as client:
            await patch_named(client, ROLLOUTS, namespace=connection.namespace, name=args.name, patch=patch)

    run_async(work)
    print(f"rollout '{args.name}' restarts in {shown}")
    return 0


# ---------------------------------------------------------------- set image


async def set_image(client: KubeClient, *, namespace: str, name: str, container: str, image: str) -> tuple[str, str]:
    """Update the image (on the referenced Deployment for workloadRef); (kind, name) updated."""
    for attempt in range(_SET_IMAGE_ATTEMPTS):
        rollout = await get_named(client, ROLLOUTS, namespace, name)
        resource, target = ROLLOUTS, rollout
        workload_ref = (rollout.get("spec") or {}).get("workloadRef")
        if isinstance(workload_ref, dict):
            ref_name = workload_ref.get("name")
            if not isinstance(ref_name, str):
                raise CommandError(f"spec.workloadRef.name is not a string: {ref_name!r}")
            resource = DEPLOYMENTS
            target = await get_named(client, DEPLOYMENTS, namespace, ref_name)
        try:
            updated = patches.with_image(target, container=container, image=image)
        except ValueError as error:
            raise CommandError(str(error)) from None
        target_name = str(target["metadata"]["name"])
        try:
            await client.replace(resource, namespace, target_name, updated)
        except ConflictError:
            if attempt == _SET_IMAGE_ATTEMPTS - 1:
                raise
            continue
        return resource.kind.lower(), target_name
    raise AssertionError("unreachable")


def set_image_command(args: argparse.Namespace) -> int:
    try:
        container, image = patches.parse_image_spec(args.image_spec)
    except ValueError as error:
        raise CommandError(str(error)) from None
    connection = resolve_connection(args)

    async def work() -> tuple[str, str]:
        async with connect(connection) as client:
            return await set_image(
                client,
                namespace=connection.namespace,
                name=args.name,
                container=container,
                image=image,
            )

    kind, target = run_async(work)
    print(f'{kind} "{target}" image updated')
    return 0


# ---------------------------------------------------------------- undo


async def undo(client: KubeClient, *, namespace: str, name: str, to_revision: int) -> str:
    rollout = await get_named(client, ROLLOUTS, namespace, name)
    spec = rollout.get("spec") or {}
    selector = spec.get("selector") or {}
    match_labels = selector.get("matchLabels") or {}
    label_selector = ",".join(f"{key}={value}" for key, value in sorted(match_labels.items()))
    listed = await list_items(client, REPLICASETS, namespace, label_selector=label_selector or None)
    uid = str(rollout["metadata"].get("uid", ""))
    owned = [rs for rs in listed if patches.controlled_by(rs, uid)]
    try:
        rs = patches.revision_replica_set(owned, rollout_name=name, to_revision=to_revision)
    except ValueError as error:
        raise CommandError(str(error)) from None
    template = patches.template_without_hash(rs)
    current = patches.template_without_hash({"spec": {"template": spec.get("template")}})
    if spec.get("template") and patches.is_derivative(current, template):
        return f"skipped rollback (current template already matches revision {to_revision})"
    body = patches.undo_patch(template)
    workload_ref = spec.get("workloadRef")
    if isinstance(workload_ref, dict):
        kind = str(workload_ref.get("kind", ""))
        resource = _WORKLOAD_KINDS.get(kind)
        if resource is None:
            raise CommandError(f"workload of type {kind} is not supported")
        target, target_name = resource, str(workload_ref.get("name", ""))
    else:
        target, target_name = ROLLOUTS, name
    await patch_named(client, target, namespace=namespace, name=target_name, patch=body, patch_type="json")
    return f"rollout '{name}' undo"


def undo_command(args: argparse.Namespace) -> int:
    if args.to_revision < 0:
        raise CommandError("--to-revision must not be negative")
    connection = resolve_connection(args)

    async def work() -> str:
        async with connect(connection) as client:
            return await undo(client, namespace=connection.namespace, name=args.name, to_revision=args.to_revision)

    print(run_async(work))
    return 0


# ---------------------------------------------------------------- terminate


def terminate_command(args: argparse.Namespace) -> int:
    connection = resolve_connection(args)

    async def work() -> None:
        async with connect(connection) as client:
            for name in args.names:
                await patch_named(
                    client,
                    ANALYSIS_RUNS,
                    namespace=connection.namespace,
                    name=name,
                    patch=patches.TERMINATE_PATCH,
                )
                print(f"analysisRun '{name}' terminated", flush=True)

    run_async(work)
    return 0
