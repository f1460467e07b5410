"""`list experiments` and `get experiment NAME`: read-only views of Experiments, as in Argo's plugin.

Registered by rollouts.cli.get_cmd under its `list` and `get` commands (the
kinds of one command share one parser); the views are in experiment_view.
"""

from __future__ import annotations

import argparse
import sys

from rollouts.api.kinds import EXPERIMENTS
from rollouts.cli import experiment_view, objects, render
from rollouts.cli.kubeapi import add_connection_flags, connect, get_named, list_items, resolve_connection, run_async


def register_get(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    get = kinds.add_parser("experiment", aliases=["exp", "experiments"], help="show an experiment")
    get.add_argument("name", metavar="EXPERIMENT_NAME")
    add_connection_flags(get)
    get.set_defaults(handler=get_experiment_command)


def register_list(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = kinds.add_parser("experiments", aliases=["exp", "experiment"], help="list experiments")
    listing.add_argument("-A", "--all-namespaces", action="store_true", help="include all namespaces")
    add_connection_flags(listing)
    listing.set_defaults(handler=list_experiments_command)


def get_experiment_command(args: argparse.Namespace) -> int:
    connection = resolve_connection(args)

    async def work() -> str:
        async with connect(connection) as client:
            experiment = await get_named(client, EXPERIMENTS, connection.namespace, args.name)
        return experiment_view.render_experiment(experiment, now=objects.utc_now())

    print(run_async(work))
    return 0


def list_experiments_command(args: argparse.Namespace) -> int:
    connection = resolve_connection(args)
    namespace = None if args.all_namespaces else connection.namespace

    async def work() -> list[objects.Obj]:
        async with connect(connection) as client:
            return await list_items(client, EXPERIMENTS, namespace)

    items = sorted(
        run_async(work), key=lambda e: (objects.metadata(e).get("namespace", ""), objects.metadata(e).get("name", ""))
    )
    if not items:
        print("No resources found.", file=sys.stderr)
        return 0
    now = objects.utc_now()
    rows = [experiment_view.list_header(all_namespaces=args.all_namespaces)]
    rows += [experiment_view.list_cells(e, now=now, all_namespaces=args.all_namespaces) for e in items]
    print(render.render_table(rows))
    return 0
