"""`version`: which build of the CLI this is (for bug reports and plugin checks)."""

from __future__ import annotations

import argparse
import platform

from rollouts import __version__


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("version", help="print the version of the CLI")
    parser.add_argument("--short", action="store_true", help="print just the version")
    parser.set_defaults(handler=version_command)


def version_command(args: argparse.Namespace) -> int:
    if args.short:
        print(f"v{__version__}")
        return 0
    print(f"rollouts: v{__version__}")
    print(f"  Python: {platform.python_version()} ({platform.python_implementation()})")
    print(f"  Platform: {platform.system().lower()}/{platform.machine()}")
    return 0
