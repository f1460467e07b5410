"""`rollouts dev-cluster up|down`: a local control plane for humans.

`up` starts the supervisor (rollouts.devcluster.supervisor) detached, waits until
it reports the cluster ready, and prints the KUBECONFIG export; `down` asks the
supervisor to stop and waits until every process is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rollouts.cli.main import CommandError
from rollouts.devcluster import BinaryNotFoundError, find_bin_dir
from rollouts.devcluster.supervisor import LOG_FILE, PID_FILE, READY_FILE

_UP_TIMEOUT_SECONDS = 300.0
_DOWN_TIMEOUT_SECONDS = 60.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("dev-cluster", help="start or stop a local Kubernetes control plane")
    actions = parser.add_subparsers(dest="dev_cluster_action", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="start it in the background and wait until it is ready")
    up.add_argument("--dir", required=True, type=Path, help="directory for state and kubeconfig")
    up.add_argument("--nodes", type=int, default=3, help="number of fake (kwok) nodes (default 3)")
    up.set_defaults(handler=cluster_up)
    down = actions.add_parser("down", help="stop it and remove its state")
    down.add_argument("--dir", required=True, type=Path)
    down.set_defaults(handler=cluster_down)


def _running_pid(directory: Path) -> int | None:
    try:
        pid = int((directory / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def cluster_up(args: argparse.Namespace) -> int:
    directory: Path = args.dir.resolve()
    if args.nodes < 1:
        raise CommandError("--nodes must be at least 1")
    if (pid := _running_pid(directory)) is not None:
        raise CommandError(f"a cluster is already running in {directory} (pid {pid})")
    try:
        find_bin_dir()
    except BinaryNotFoundError as error:
        raise CommandError(str(error)) from None
    directory.mkdir(parents=True, exist_ok=True)
    (directory / READY_FILE).unlink(missing_ok=True)
    log_path = directory / LOG_FILE
    with log_path.open("wb") as log:
        supervisor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rollouts.devcluster.supervisor",
                "--dir",
                str(directory),
                "--nodes",
                str(args.nodes),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command, immune to its Ctrl-C
        )
    deadline = time.monotonic() + _UP_TIMEOUT_SECONDS
    while not (directory / READY_FILE).exists():
        if supervisor.poll() is not None:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
            raise CommandError(f"the cluster failed to start:\n{tail}")
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(supervisor.pid, signal.SIGTERM)
            raise CommandError(f"the cluster was not ready after {_UP_TIMEOUT_SECONDS:.0f}s; see {log_path}")
        time.sleep(0.3)
    print(f"local cluster ready ({args.nodes} nodes)")
    print(f"export KUBECONFIG={directory / 'kubeconfig'}")
    return 0


def cluster_down(args: argparse.Namespace) -> int:
    directory: Path = args.dir.resolve()
    pid = _running_pid(directory)
    if pid is None:
        print(f"no cluster running in {directory}")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _DOWN_TIMEOUT_SECONDS
    while _running_pid(directory) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    if _running_pid(directory) is not None:
        # The supervisor leads its own session: its group holds every child.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        (directory / PID_FILE).unlink(missing_ok=True)
    print(f"cluster in {directory} stopped")
    return 0
