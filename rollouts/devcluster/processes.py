"""Supervision of the control plane's child processes.

Why our own small supervisor rather than a library: we need three things at once
that no well-kept package offers together - children that die with us even when
we are SIGKILLed (Linux `PR_SET_PDEATHSIG`), each child in its own process group
so a stop reaches its helpers too, and stop in reverse start order with a
SIGTERM grace period before SIGKILL. It is a few dozen lines over `subprocess`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now.

    The kernel picks it (bind to port 0); the small window before the child
    binds it is accepted, as every envtest-style harness does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct free ports (held open together so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _die_with_parent() -> None:  # runs in the child between fork and exec
    os.setsid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ProcessFailedError(RuntimeError):
    """A child exited while we still needed it; the message carries its log tail."""


@dataclass
class ManagedProcess:
    name: str
    argv: Sequence[str]
    log_path: Path
    env: dict[str, str] | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, *, die_with_parent: bool = True) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                preexec_fn=_die_with_parent if die_with_parent else os.setsid,  # noqa: PLW1509
                close_fds=True,
            )

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.popen is not None and self.popen.poll() is not None:
            raise ProcessFailedError(
                f"{self.name} exited with code {self.popen.returncode}; last lines of "
                f"{self.log_path}:\n{self.log_tail()}"
            )

    def stop(self, grace_seconds: float = 10.0) -> None:
        """SIGTERM the process group, wait, then SIGKILL whatever is left."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        # Reap stragglers of the group (if any) even after a clean exit.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)


@dataclass
class ProcessGroup:
    """Processes started in order and stopped in reverse order."""

    processes: list[ManagedProcess] = field(default_factory=list)

    def start(self, process: ManagedProcess, *, die_with_parent: bool = True) -> ManagedProcess:
        process.start(die_with_parent=die_with_parent)
        self.processes.append(process)
        return process

    def check_alive(self) -> None:
        for process in self.processes:
            process.check_alive()

    def stop_all(self, grace_seconds: float = 10.0) -> None:
        errors: list[BaseException] = []
        for process in reversed(self.processes):
            try:
                process.stop(grace_seconds)
            except Exception as error:  # keep stopping the others
                errors.append(error)
        self.processes.clear()
        if errors:
            raise errors[0]


def wait_until(
    predicate: object,
    *,
    timeout: float,
    interval: float = 0.2,
    description: str,
    alive: ProcessGroup | None = None,
) -> None:
    """Poll `predicate()` (a start-up probe, not a product code path) until true."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        if alive is not None:
            alive.check_alive()
        try:
            if predicate():
                return
        except Exception as error:  # probes fail while the server is starting
            last_error = error
        time.sleep(interval)
    detail = f" (last error: {last_error})" if last_error else ""
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {description}{detail}")
