"""`get rollout`, `list rollouts` and `status`: reading a rollout's state.

One read is a handful of LISTs in the rollout's namespace (ReplicaSets, Pods,
AnalysisRuns) turned into a view model by rollouts.cli.info. Watching uses
informers (list + watch, no polling): every event marks the view dirty and the
screen is redrawn at most a few times a second. On a terminal the live view is
redrawn in place (rich Live); otherwise each changed rendering is printed in
full, which keeps logs of CI jobs readable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from rollouts.api.kinds import ANALYSIS_RUNS, ROLLOUTS
from rollouts.api.resource import Resource
from rollouts.cli import experiment_cmd, info, list_view, objects, render, summary
from rollouts.cli.kubeapi import (
    Connection,
    add_connection_flags,
    connect,
    get_named,
    list_items,
    resolve_connection,
    run_async,
)
from rollouts.cli.main import CommandError
from rollouts.kube.client import KubeClient
from rollouts.kube.errors import NotFoundError
from rollouts.kube.informer import Informer
from rollouts.kube.resources import DEPLOYMENTS, PODS, REPLICASETS

_REDRAW_INTERVAL_SECONDS = 0.2
_CHILD_RESOURCES = (REPLICASETS, PODS, ANALYSIS_RUNS)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    get = subparsers.add_parser("get", help="show a rollout, its revisions, pods and analysis")
    kinds = get.add_subparsers(dest="get_kind", metavar="KIND", required=True)
    rollout = kinds.add_parser("rollout", aliases=["ro", "rollouts"], help="show a rollout")
    rollout.add_argument("name", metavar="ROLLOUT_NAME")
    rollout.add_argument("-w", "--watch", action="store_true", help="watch live updates")
    rollout.add_argument("--no-color", action="store_true", help="do not colorize output")
    rollout.add_argument("--timeout-seconds", type=int, default=0, help="stop watching after this many seconds")
    add_connection_flags(rollout)
    rollout.set_defaults(handler=get_rollout_command)
    experiment_cmd.register_get(kinds)

    list_parser = subparsers.add_parser("list", help="list rollouts or experiments")
    list_kinds = list_parser.add_subparsers(dest="list_kind", metavar="KIND", required=True)
    rollouts = list_kinds.add_parser("rollouts", aliases=["ro", "rollout"], help="list rollouts")
    rollouts.add_argument("--name", help="only show the rollout with this name")
    rollouts.add_argument("-A", "--all-namespaces", action="store_true", help="include all namespaces")
    rollouts.add_argument("-w", "--watch", action="store_true", help="watch for changes")
    rollouts.add_argument("--timestamps", action="store_true", help="print timestamps on updates")
    rollouts.add_argument("--timeout-seconds", type=int, default=0, help="stop watching after this many seconds")
    add_connection_flags(rollouts)
    rollouts.set_defaults(handler=list_rollouts_command)
    experiment_cmd.register_list(list_kinds)

    status = subparsers.add_parser(
        "status",
        help="show the status of a rollout; with --watch (default) wait until it is done",
        description="Exits 0 when the rollout is Healthy, 1 when it is Degraded or the timeout passes.",
    )
    status.add_argument("name", metavar="ROLLOUT_NAME")
    status.add_argument(
        "-w",
        "--watch",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="watch the status until it is Healthy or Degraded (default: true)",
    )
    status.add_argument(
        "-t",
        "--timeout",
        default="0",
        help="how long to watch before giving up (e.g. 30s, 5m); 0 waits forever",
    )
    add_connection_flags(status)
    status.set_defaults(handler=status_command)


def make_console(*, no_color: bool = False) -> Console:
    return Console(file=sys.stdout, highlight=False, no_color=no_color, soft_wrap=True)


# ---------------------------------------------------------------- reading


@dataclass
class Snapshot:
    """Everything one rendering of a rollout needs."""

    rollout: dict[str, Any]
    replica_sets: list[dict[str, Any]]
    pods: list[dict[str, Any]]
    analysis_runs: list[dict[str, Any]]
    workload: dict[str, Any] | None = None

    def view(self, now: datetime | None = None) -> info.RolloutView:
        return info.rollout_view(
            self.rollout,
            replica_sets=self.replica_sets,
            pods=self.pods,
            analysis_runs=self.analysis_runs,
            workload=self.workload,
            now=now or objects.utc_now(),
        )


async def _workload(client: KubeClient, rollout: dict[str, Any]) -> dict[str, Any] | None:
    ref = (rollout.get("spec") or {}).get("workloadRef")
    if not isinstance(ref, dict) or ref.get("kind") != "Deployment" or not ref.get("name"):
        return None
    try:
        return await client.get(DEPLOYMENTS, rollout["metadata"].get("namespace"), str(ref["name"]))
    except NotFoundError:
        return None


async def read_snapshot(client: KubeClient, namespace: str, name: str) -> Snapshot:
    rollout = await get_named(client, ROLLOUTS, namespace, name)
    async with asyncio.TaskGroup() as group:
        lists = [group.create_task(list_items(client, r, namespace)) for r in _CHILD_RESOURCES]
        workload = group.create_task(_workload(client, rollout))
    replica_sets, pods, runs = (task.result() for task in lists)
    return Snapshot(rollout, replica_sets, pods, runs, workload.result())


class Watcher:
    """Informers over the kinds a view needs; `changed` is set on every event."""

    def __init__(self, client: KubeClient, namespace: str | None, resources: tuple[Resource, ...]):
        self.changed = asyncio.Event()
        self.informers = {
            r.plural: Informer(client, r, namespace=namespace, watch_timeout_seconds=120) for r in resources
        }
        for informer in self.informers.values():
            informer.add_handler(lambda *_: self.changed.set())
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Watcher:
        self._tasks = [asyncio.create_task(i.run()) for i in self.informers.values()]
        await asyncio.gather(*(i.synced.wait() for i in self.informers.values()))
        self.changed.clear()  # the initial listing is the starting state, not a change
        return self

    async def __aexit__(self, *_: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def items(self, resource: Resource) -> list[dict[str, Any]]:
        return self.informers[resource.plural].items()

    async def next_change(self, deadline: float | None) -> bool:
        """Wait for a change (False when the deadline passes first)."""
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            async with asyncio.timeout(timeout):  # not wait_for, which can swallow a cancellation on Python 3.11
                await self.changed.wait()
        except TimeoutError:
            return False
        await asyncio.sleep(_REDRAW_INTERVAL_SECONDS)  # let bursts of events settle
        self.changed.clear()
        return True


def _deadline(seconds: float) -> float | None:
    return time.monotonic() + seconds if seconds > 0 else None


# ---------------------------------------------------------------- get rollout


async def _watch_rollout(
    client: KubeClient, connection: Connection, args: argparse.Namespace, console: Console
) -> None:
    namespace, name = connection.namespace, args.name
    await get_named(client, ROLLOUTS, namespace, name)  # fail fast when it does not exist
    deadline = _deadline(args.timeout_seconds)
    async with Watcher(client, namespace, (ROLLOUTS, *_CHILD_RESOURCES)) as watcher:

        def current(now: datetime | None = None) -> Text:
            rollout = watcher.informers[ROLLOUTS.plural].get(namespace, name)
            if rollout is None:
                return Text(f'rollouts.argoproj.io "{name}" not found (deleted?)')
            snapshot = Snapshot(
                rollout,
                watcher.items(REPLICASETS),
                watcher.items(PODS),
                watcher.items(ANALYSIS_RUNS),
            )
            return render.render_rollout(snapshot.view(now))

        if console.is_terminal:
            with Live(current(), console=console, auto_refresh=False) as live:
                while True:
                    # Redraw every second even without events so ages move on.
                    tick = time.monotonic() + 1.0
                    step_deadline = tick if deadline is None else min(tick, deadline)
                    await watcher.next_change(step_deadline)
                    live.update(current(), refresh=True)
                    if deadline is not None and time.monotonic() >= deadline:
                        return
        # Printed again only when something other than the ages changed: rendered at a
        # fixed instant, two views differ exactly when the objects do.
        fixed = objects.utc_now()
        console.print(current())
        last = current(fixed).plain
        while await watcher.next_change(deadline):
            compared = current(fixed).plain
            if compared != last:
                console.print()
                console.print(current())
                last = compared


def get_rollout_command(args: argparse.Namespace) -> int:
    connection = resolve_connection(args)
    console = make_console(no_color=args.no_color)

    async def work() -> None:
        async with connect(connection) as client:
            if args.watch:
                await _watch_rollout(client, connection, args, console)
            else:
                snapshot = await read_snapshot(client, connection.namespace, args.name)
                console.print(render.render_rollout(snapshot.view()))

    run_async(work)
    return 0


# ---------------------------------------------------------------- list rollouts


def _timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def list_rollouts_command(args: argparse.Namespace) -> int:
    connection = resolve_connection(args)
    namespace = None if args.all_namespaces else connection.namespace

    def rows(items: list[dict[str, Any]]) -> list[list_view.ListRow]:
        selected = [r for r in items if not args.name or r["metadata"].get("name") == args.name]
        selected.sort(key=lambda r: (r["metadata"].get("namespace", ""), r["metadata"]["name"]))
        return [list_view.list_row(r) for r in selected]

    def cells(row: list_view.ListRow) -> list[str]:
        stamp = _timestamp() if args.timestamps else None
        return render.list_cells(row, all_namespaces=args.all_namespaces, timestamp=stamp)

    async def work() -> None:
        async with connect(connection) as client:
            if not args.watch:
                table = rows(await list_items(client, ROLLOUTS, namespace))
                if not table:
                    print("No resources found.", file=sys.stderr)
                    return
                header = render.list_header(all_namespaces=args.all_namespaces, timestamps=args.timestamps)
                print(render.render_table([header] + [cells(row) for row in table]))
                return
            async with Watcher(client, namespace, (ROLLOUTS,)) as watcher:
                header = render.list_header(all_namespaces=args.all_namespaces, timestamps=args.timestamps)
                seen = {(r.namespace, r.name): r for r in rows(watcher.items(ROLLOUTS))}
                print(render.render_table([header] + [cells(r) for r in seen.values()]), flush=True)
                deadline = _deadline(args.timeout_seconds)
                while await watcher.next_change(deadline):
                    for row in rows(watcher.items(ROLLOUTS)):
                        key = (row.namespace, row.name)
                        if seen.get(key) != row:
                            seen[key] = row
                            print("  ".join(cells(row)).rstrip(), flush=True)

    run_async(work)
    return 0


# ---------------------------------------------------------------- status


def _status_line(phase: str, message: str) -> str:
    return f"{phase} - {message}" if message else phase


def status_command(args: argparse.Namespace) -> int:
    from rollouts.api.common import InvalidValueError, parse_duration

    try:
        timeout = parse_duration(args.timeout) or 0.0
    except InvalidValueError as error:
        raise CommandError(f"invalid --timeout: {error}") from None
    connection = resolve_connection(args)

    async def work() -> tuple[str, str]:
        async with connect(connection) as client:
            rollout = await get_named(client, ROLLOUTS, connection.namespace, args.name)
            phase, message = summary.rollout_phase(rollout)
            if not args.watch:
                print(phase if phase in ("Healthy", "Degraded") else _status_line(phase, message))
                return phase, message
            printed = _status_line(phase, message)
            print(printed, flush=True)
            if phase in ("Healthy", "Degraded"):
                return phase, message
            deadline = _deadline(timeout)
            async with Watcher(client, connection.namespace, (ROLLOUTS,)) as watcher:
                while True:
                    current = watcher.informers[ROLLOUTS.plural].get(connection.namespace, args.name)
                    if current is not None:
                        phase, message = summary.rollout_phase(current)
                        line = _status_line(phase, message)
                        if line != printed:
                            print(line, flush=True)
                            printed = line
                        if phase in ("Healthy", "Degraded"):
                            return phase, message
                    if not await watcher.next_change(deadline):
                        return phase, message

    phase, message = run_async(work)
    if phase == "Degraded":
        raise CommandError(f"The rollout is in a degraded state with message: {message}")
    if phase != "Healthy" and args.watch:
        raise CommandError("Rollout status watch exceeded timeout")
    return 0
