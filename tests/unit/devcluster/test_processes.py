"""Process supervision of the local control plane: ports, stop order, teardown on failure."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from rollouts.devcluster import LocalCluster
from rollouts.devcluster.binaries import BinaryNotFoundError, find_bin_dir
from rollouts.devcluster.processes import (
    ManagedProcess,
    ProcessFailedError,
    ProcessGroup,
    free_port,
    free_ports,
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(8)
    assert len(set(ports)) == 8
    assert all(1024 < p < 65536 for p in ports)
    assert 1024 < free_port() < 65536


def test_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    # The shell starts a grandchild; stopping the shell must stop it too.
    pid_file = tmp_path / "grandchild.pid"
    process = ManagedProcess(
        name="shell",
        argv=["sh", "-c", f"sleep 300 & echo $! > {pid_file}; wait"],
        log_path=tmp_path / "shell.log",
    )
    process.start()
    deadline = time.monotonic() + 5
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    assert alive(grandchild)
    process.stop(grace_seconds=2)
    assert not process.running()
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild)


def test_group_stops_in_reverse_order_and_escalates_to_sigkill(tmp_path: Path) -> None:
    order_file = tmp_path / "order"
    group = ProcessGroup()
    for name in ("first", "second"):
        group.start(
            ManagedProcess(
                name=name,
                argv=[
                    "sh",
                    "-c",
                    f"trap 'echo {name} >> {order_file}; exit 0' TERM; while :; do sleep 0.05; done",
                ],
                log_path=tmp_path / f"{name}.log",
            )
        )
    stubborn = group.start(
        ManagedProcess(
            name="stubborn",
            argv=["sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"],
            log_path=tmp_path / "s.log",
        )
    )
    time.sleep(0.3)  # let the traps install
    started = time.monotonic()
    group.stop_all(grace_seconds=0.5)
    assert time.monotonic() - started < 5
    assert stubborn.popen is not None and stubborn.popen.returncode is not None
    assert order_file.read_text().split() == ["second", "first"]


def test_check_alive_reports_the_log_tail(tmp_path: Path) -> None:
    process = ManagedProcess(name="crasher", argv=["sh", "-c", "echo the reason; exit 3"], log_path=tmp_path / "c.log")
    process.start()
    assert process.popen is not None
    process.popen.wait(timeout=5)
    with pytest.raises(ProcessFailedError, match=r"(?s)crasher exited with code 3.*the reason"):
        process.check_alive()


def _fake_bin(directory: Path, scripts: dict[str, str]) -> Path:
    directory.mkdir()
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"):
        path = directory / name
        path.write_text("#!/bin/sh\n" + scripts.get(name, "exec sleep 300\n"))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return directory


def test_failed_start_tears_down_what_was_started(tmp_path: Path) -> None:
    bin_dir = _fake_bin(tmp_path / "bin", {"kube-apiserver": "echo 'apiserver cannot start'; exit 1\n"})
    cluster = LocalCluster(nodes=1, bin_dir=bin_dir, start_timeout=10)
    with pytest.raises(ProcessFailedError, match="apiserver cannot start"):
        cluster.start()
    assert cluster.process_ids() == {}, "every started process was stopped"
    assert cluster.work_dir is not None and not cluster.work_dir.exists(), "temp dir removed"


def test_binary_lookup_prefers_kubebuilder_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assets = _fake_bin(tmp_path / "assets", {})
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(assets))
    assert find_bin_dir() == assets
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path / "empty"))
    monkeypatch.delenv("ROLLOUTS_BIN_DIR", raising=False)
    monkeypatch.setenv("ROLLOUTS_BIN_CACHE", str(tmp_path / "nocache"))
    with pytest.raises(BinaryNotFoundError, match=r"hack/build-control-plane\.sh"):
        find_bin_dir()
