"""Real git repositories on disk for the Git sync tests (no mocks of git)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gitsync"


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.email=test@example.invalid", "-c", "user.name=test", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def make_repo(
    path: Path,
    files: dict[str, str] | None = None,
    *,
    copy_from: Path | None = None,
    ignore: tuple[str, ...] = ("expected.json", "params.json"),
) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    if copy_from is not None:
        shutil.copytree(copy_from, path, dirs_exist_ok=True, symlinks=True, ignore=shutil.ignore_patterns(*ignore))
    for name, content in (files or {}).items():
        write(path, name, content)
    commit(path, "initial")
    return path


def write(repo: Path, name: str, content: str) -> None:
    target = repo / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")
