"""Kubeconfig and namespace resolution, and the one-line errors of every command."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from rollouts.cli.kubeapi import resolve_connection
from rollouts.cli.main import CommandError, main


def write_kubeconfig(path: Path, *, server: str = "https://127.0.0.1:1") -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [
            {"name": "one", "context": {"cluster": "c", "user": "u", "namespace": "team-one"}},
            {"name": "two", "context": {"cluster": "c", "user": "u"}},
        ],
        "current-context": "one",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def ns(**kwargs: object) -> argparse.Namespace:
    return argparse.Namespace(**{"kubeconfig": None, "context": None, "namespace": None, **kwargs})


def test_namespace_from_flag_context_or_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_kubeconfig(tmp_path / "config")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    assert resolve_connection(ns(kubeconfig=str(config))).namespace == "team-one"
    assert resolve_connection(ns(kubeconfig=str(config), context="two")).namespace == "default"
    assert resolve_connection(ns(kubeconfig=str(config), namespace="x")).namespace == "x"
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{config}")
    assert resolve_connection(ns()).kubeconfig == str(config)


def test_unknown_context_and_missing_kubeconfig_are_clear_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_kubeconfig(tmp_path / "config")
    with pytest.raises(CommandError, match='context "nope" does not exist'):
        resolve_connection(ns(kubeconfig=str(config), context="nope"))
    with pytest.raises(CommandError, match="does not exist"):
        resolve_connection(ns(kubeconfig=str(tmp_path / "absent")))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(CommandError, match="no kubeconfig found"):
        resolve_connection(ns())


def test_unreachable_cluster_is_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_kubeconfig(tmp_path / "config", server="https://127.0.0.1:9")
    assert main(["promote", "app", "--kubeconfig", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach the cluster")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_image_spec_fails_before_any_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_kubeconfig(tmp_path / "config", server="https://127.0.0.1:9")
    assert main(["set", "image", "app", "no-equals-sign", "--kubeconfig", str(config)]) == 1
    assert (
        capsys.readouterr().err == "error: invalid image spec 'no-equals-sign': expected CONTAINER=IMAGE (or *=IMAGE)\n"
    )


def test_bad_flag_exits_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["promote", "app", "--fulll"])
    assert exit_info.value.code == 2


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version", "--short"]) == 0
    assert capsys.readouterr().out.startswith("v")
