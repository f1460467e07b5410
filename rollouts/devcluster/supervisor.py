"""The background process behind `rollouts dev-cluster up`.

`up` must return once the cluster is ready, yet the processes have to be
supervised and torn down later by `down`. So `up` starts this module as a
detached process that owns the LocalCluster: it writes `DIR/supervisor.pid`,
then `DIR/kubeconfig`, then `DIR/ready`; on SIGTERM or SIGINT (what `down`
sends) or when a control-plane process dies, it stops everything and removes
those files. Its own output goes to `DIR/supervisor.log`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from rollouts.devcluster.cluster import LocalCluster

PID_FILE = "supervisor.pid"
READY_FILE = "ready"
LOG_FILE = "supervisor.log"


def run(directory: Path, nodes: int) -> int:
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    (directory / PID_FILE).write_text(str(os.getpid()))
    cluster = LocalCluster(nodes=nodes, work_dir=directory)
    code = 0
    try:
        cluster.start()
        (directory / READY_FILE).write_text("ready\n")
        print(f"cluster ready: {cluster.server}", flush=True)
        while not stop.wait(1.0):
            cluster._group.check_alive()
    except Exception as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        code = 1
    finally:
        cluster.stop()
        for name in (READY_FILE, "kubeconfig", PID_FILE):
            (directory / name).unlink(missing_ok=True)
        print("cluster stopped", flush=True)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(prog="rollouts-devcluster-supervisor")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args()
    return run(args.dir.resolve(), args.nodes)


if __name__ == "__main__":
    raise SystemExit(main())
