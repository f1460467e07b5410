"""`rollouts demo`: from nothing to a canary that rolls forward, then one that rolls back by itself.

It starts a local control plane, the controller, a Prometheus scraping a small
demo metrics endpoint, applies examples/canary-analysis.yaml, then updates the
image twice: a good version walks through the canary steps under analysis; a
bad one (the demo makes half of the requests fail while its canary runs) is
aborted by the failed analysis and the stable version is restored, without a
human. It tells what happens in plain words, shows the rollout live on a
terminal (plain progress lines otherwise), ends by itself and tears everything
down; Ctrl-C tears down at any point; --keep leaves it all running until
Ctrl-C, with the commands to try. The story and its stack are in demo_run.py,
imported only when the demo runs, so other commands never load the dev cluster.
"""

from __future__ import annotations

import argparse
import asyncio

from rollouts.cli.main import CommandError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the demo: a local cluster, a good canary, a bad one rolled back")
    parser.add_argument("--keep", action="store_true", help="leave everything running at the end (until Ctrl-C)")
    parser.add_argument("--nodes", type=int, default=3, help="fake nodes in the local cluster")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for each phase")
    parser.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    from rollouts.cli.demo_run import Narrator, run_demo

    narrator = Narrator()
    try:
        asyncio.run(run_demo(narrator=narrator, nodes=args.nodes, timeout=args.timeout, keep=args.keep))
    except KeyboardInterrupt:
        narrator.say("Interrupted: everything was torn down")
        return 130
    except CommandError:
        raise
    except Exception as error:  # one line for the user; the details are in the controller log
        raise CommandError(f"the demo failed: {type(error).__name__}: {error}") from None
    return 0
