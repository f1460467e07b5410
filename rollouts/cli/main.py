"""Entry point of `rollouts` and `kubectl-rollouts`: one argparse tree of subcommands.

Each command lives in its own module under rollouts/cli/ and exposes
`register(subparsers)`; this module only assembles them, so adding a command
never touches another. A command handler returns the process exit code.
Errors a user can cause are reported as one line (`error: ...`) and a non-zero
exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from rollouts import __version__

# Modules that contribute subcommands, in the order they appear in --help.
COMMAND_MODULES: tuple[str, ...] = (
    "rollouts.cli.controller_cmd",
    "rollouts.cli.devcluster_cmd",
    "rollouts.cli.demo_cmd",
    "rollouts.cli.gitsync_cmd",
    "rollouts.cli.get_cmd",
    "rollouts.cli.actions_cmd",
    "rollouts.cli.create_cmd",
    "rollouts.cli.lint_cmd",
    "rollouts.cli.plan_cmd",
    "rollouts.cli.version_cmd",
    "rollouts.cli.completion_cmd",
)


class CommandError(Exception):
    """A failure the user can act on; printed as one line, exit code 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rollouts",
        description="Progressive delivery for Kubernetes (Argo Rollouts compatible).",
    )
    parser.add_argument("--version", action="version", version=f"rollouts {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args))
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
