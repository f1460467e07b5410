"""`rollouts plan`: what the controller will do with an update, step by step, before it is applied.

Offline: the rollout (and the Services and AnalysisTemplates it names, when
the file has them) is read from files, and plan_rows.py walks the update on
the product's simulator with the same decide() the controller runs. The
result prints as a table (like `get rollout`) or, with `-o json`, as the list
of row objects. An invalid spec is refused with the controller's InvalidSpec
message. `--from live` reads the running version from the cluster (plan_live.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from rich.table import Table

from rollouts.cli.get_cmd import make_console
from rollouts.cli.kubeapi import add_connection_flags
from rollouts.cli.main import CommandError
from rollouts.cli.plan_live import live_manifests
from rollouts.cli.plan_rows import ROW_KEYS, plan_update
from rollouts.cli.plan_walk import Manifests, PlanError, manifests_from, parse_analysis

TABLE_WIDTH = 200
"""Columns a piped table gets (a terminal keeps its own width)."""
TABLE_COLUMNS = (
    ("STEP", "step"),
    ("WEIGHT", "setWeight"),
    ("STABLE", "stablePods"),
    ("CANARY", "canaryPods"),
    ("AVAIL", "availablePods"),
    ("SELECTORS", "selectors"),  # stable/canary or active/preview
    ("PAUSE", "pause"),
    ("ANALYSIS", "analysis"),
    ("PHASE", "phase"),
    ("TIME", "elapsedSeconds"),
    ("BOUNDS", "invariantsHeld"),
    ("NOTE", "note"),
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = subparsers.add_parser(
        "plan",
        help="show, step by step, what the controller will do with an update (offline)",
        description=(
            "Walks the update of a Rollout on a simulated cluster with the controller's own reconcile: "
            "pods become available at once, time jumps to the next requeue, analysis ends as --analysis says "
            "and a pause that waits for a human is promoted."
        ),
    )
    plan.add_argument("-f", "--filename", required=True, help="the new version of the rollout (YAML, - for stdin)")
    plan.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help=(
            "the version running now: a file, or `live` to read it from the cluster "
            "(default: the same rollout with another pod template)"
        ),
    )
    plan.add_argument("--replicas", type=int, help="plan with this many replicas instead of spec.replicas")
    plan.add_argument(
        "--analysis",
        default="pass",
        help="how analysis runs end: pass (default), fail@STEP or inconclusive@STEP",
    )
    plan.add_argument("-o", "--output", choices=("table", "json"), default="table", help="output format")
    plan.add_argument("--no-color", action="store_true", help="do not colorize output")
    add_connection_flags(plan)
    plan.set_defaults(handler=plan_command)


def read_manifests(filename: str) -> Manifests:
    """The objects of a YAML/JSON file (- is stdin); CommandError naming the file when it cannot be read."""
    try:
        text = sys.stdin.read() if filename == "-" else Path(filename).read_text()
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CommandError(f"cannot read {filename}: {' '.join(str(error).split())}") from None
    try:
        return manifests_from(documents)
    except PlanError as error:
        raise CommandError(f"{filename}: {error}") from None


def plan_command(args: argparse.Namespace) -> int:
    if args.replicas is not None and args.replicas < 0:
        raise CommandError("--replicas must not be negative")
    try:
        outcome = parse_analysis(args.analysis)
    except ValueError as error:
        raise CommandError(str(error)) from None
    new = read_manifests(args.filename)
    if args.from_file == "live":
        old: Manifests | None = live_manifests(args, new)
    else:
        old = read_manifests(args.from_file) if args.from_file else None
    try:
        rows = plan_update(new=new, old=old, replicas=args.replicas, outcome=outcome)
    except PlanError as error:
        raise CommandError(" ".join(str(error).split())) from None
    if args.output == "json":
        print(json.dumps([{key: row[key] for key in ROW_KEYS} for row in rows], indent=2))
    else:
        console = make_console(no_color=args.no_color)
        if not console.is_terminal:
            console.width = max(console.width, TABLE_WIDTH)
        console.print(plan_table(rows))
    return 0


def cell(key: str, value: Any) -> str:
    """One table cell: the row's value as `get rollout` would show it."""
    if value is None:
        return "-"
    if key == "selectors":
        return "/".join(pod_hash or "-" for pod_hash in value.values()) or "-"
    if key == "analysis":
        return f"{value['finished']}/{value['started']} {value['phase']}" if value["started"] else "-"
    if key == "pause":
        return f"{value}s" if isinstance(value, int) else str(value)
    if key == "invariantsHeld":
        return "ok" if value else "BROKEN"
    if key == "elapsedSeconds":
        return f"{value}s"
    return str(value)


def plan_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for title, _ in TABLE_COLUMNS:
        table.add_column(title, no_wrap=True)
    for row in rows:
        cells = [cell(key, row[key]) for _, key in TABLE_COLUMNS]
        if row["needsHuman"]:
            cells[6] += " human"
        table.add_row(*cells)
    return table
