"""`completion bash|zsh`: print a shell completion script for every command and flag.

The script is generated from the argparse tree itself by shtab, so a new
command or flag is completed without anyone editing a script. Usage, as with
Argo's plugin: `source <(rollouts completion bash)`.
"""

from __future__ import annotations

import argparse

import shtab

from rollouts.cli.main import build_parser

SHELLS = ("bash", "zsh")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    completion = subparsers.add_parser(
        "completion",
        help="print a shell completion script (bash or zsh)",
        description="Load it with: source <(rollouts completion bash)",
    )
    completion.add_argument("shell", choices=SHELLS)
    completion.set_defaults(handler=completion_command)


def completion_script(shell: str, *, prog: str = "rollouts") -> str:
    parser = build_parser()
    parser.prog = prog
    script: str = shtab.complete(parser, shell=shell)
    return script


def completion_command(args: argparse.Namespace) -> int:
    print(completion_script(args.shell))
    return 0
