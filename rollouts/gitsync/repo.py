"""Fetch Git repositories into a cache and hand each render a private checkout.

One bare clone per repository URL lives under the cache root (named by a hash
of the URL without credentials); an asyncio lock per URL serialises fetches
into it. A fetch is shallow (`--depth 1`) of exactly the wanted revision
(branch, tag, commit, default HEAD) and resolves to a commit sha; a commit the
cache already holds is not fetched again.

Each render gets its own checkout in a fresh `mkdtemp` directory (random name,
mode 0700), written from the bare clone through a private index file, so one
repository's render can never guess or read another's files (the class of
CVE-2023-40026) and concurrent renders of one repo never share a work tree.

Credentials come from a Secret: a token/password reaches git through an
askpass script that reads environment variables (never argv, never the URL),
an SSH key through GIT_SSH_COMMAND and a 0600 temp file. Every message that
leaves this module is passed through `redact`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import shlex
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rollouts.gitsync.procs import ToolError, base_env, run_tool
from rollouts.gitsync.redact import redact, redact_url

GIT_TIMEOUT_SECONDS = 120.0
_SHA = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' "$ROLLOUTS_GIT_USERNAME" ;;
  *) printf '%s\\n' "$ROLLOUTS_GIT_PASSWORD" ;;
esac
"""


class GitError(Exception):
    """A git operation failed; the message is already redacted."""


@dataclass(frozen=True)
class Credentials:
    """What a repository Secret may hold (keys as in an Argo CD repository Secret)."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssh_private_key: str | None = field(default=None, repr=False)
    ssh_known_hosts: str | None = None

    @classmethod
    def from_secret_data(cls, data: dict[str, str]) -> Credentials:
        """From decoded Secret data: username, password (or token), sshPrivateKey, sshKnownHosts."""
        return cls(
            username=data.get("username") or None,
            password=data.get("password") or data.get("token") or None,
            ssh_private_key=data.get("sshPrivateKey") or None,
            ssh_known_hosts=data.get("sshKnownHosts") or None,
        )

    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.ssh_private_key) if s]


def normalise_url(url: str) -> str:
    """A local directory becomes an absolute file:// URL; other URLs stay as written."""
    if "://" in url or re.match(r"^[\w.-]+@[\w.-]+:", url):
        return url
    return Path(url).expanduser().resolve().as_uri()


def _cache_name(url: str) -> str:
    return hashlib.sha256(redact_url(url).encode()).hexdigest()[:24]


@contextlib.contextmanager
def _credential_env(credentials: Credentials | None) -> Iterator[dict[str, str]]:
    """Environment for a git call; temp askpass script / key file removed afterwards."""
    env = base_env(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_ASKPASS": "/bin/false",
            "SSH_ASKPASS": "/bin/false",
        }
    )
    if credentials is None:
        yield env
        return
    directory = Path(tempfile.mkdtemp(prefix="rollouts-cred-"))
    try:
        if credentials.password is not None:
            askpass = directory / "askpass"
            askpass.write_text(_ASKPASS)
            askpass.chmod(0o700)
            env["GIT_ASKPASS"] = str(askpass)
            env["ROLLOUTS_GIT_USERNAME"] = credentials.username or "git"
            env["ROLLOUTS_GIT_PASSWORD"] = credentials.password
        if credentials.ssh_private_key is not None:
            key = directory / "key"
            key.touch(mode=0o600)
            key.write_text(credentials.ssh_private_key.rstrip("\n") + "\n")
            ssh = ["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]
            if credentials.ssh_known_hosts:
                known = directory / "known_hosts"
                known.write_text(credentials.ssh_known_hosts)
                ssh += ["-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes"]
            else:
                ssh += [
                    "-o",
                    f"UserKnownHostsFile={directory / 'known_hosts'}",
                    "-o",
                    "StrictHostKeyChecking=accept-new",
                ]
            env["GIT_SSH_COMMAND"] = shlex.join(ssh)
        yield env
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class RepoCache:
    """Bare clones under `root`, one per URL; fetch(), then checkout() per render."""

    def __init__(self, root: Path | None = None, *, timeout: float = GIT_TIMEOUT_SECONDS) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="rollouts-repos-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, url: str) -> asyncio.Lock:
        return self._locks.setdefault(_cache_name(url), asyncio.Lock())

    def _git_dir(self, url: str) -> Path:
        return self.root / _cache_name(url)

    async def _git(
        self,
        *args: str,
        git_dir: Path,
        env: dict[str, str],
        secrets: list[str],
        check: bool = True,
    ) -> str:
        try:
            result = await run_tool(["git", f"--git-dir={git_dir}", *args], env=env, timeout=self.timeout, check=check)
        except ToolError as error:
            raise GitError(redact(str(error), secrets)) from None
        return result.stdout.decode(errors="replace").strip()

    async def fetch(self, url: str, revision: str | None, credentials: Credentials | None = None) -> str:
        """Fetch `revision` (branch, tag, sha; default HEAD) of `url` and return its commit sha."""
        url = normalise_url(url)
        wanted = (revision or "").strip() or "HEAD"
        secrets = credentials.secrets() if credentials else []
        git_dir = self._git_dir(url)
        async with self._lock(url):
            with _credential_env(credentials) as env:
                if not (git_dir / "HEAD").exists():
                    git_dir.mkdir(parents=True, exist_ok=True)
                    await self._git("init", "--bare", "--quiet", git_dir=git_dir, env=env, secrets=secrets)
                if _SHA.match(wanted.lower()):
                    present = await self._git(
                        "cat-file", "-t", wanted, git_dir=git_dir, env=env, secrets=secrets, check=False
                    )
                    if present == "commit":
                        return wanted.lower()
                try:
                    await self._git(
                        "fetch", "--quiet", "--no-tags", "--depth", "1", "--force", "--", url, wanted,
                        git_dir=git_dir, env=env, secrets=secrets,
                    )  # fmt: skip
                except GitError as error:
                    if not _SHA.match(wanted.lower()):
                        raise GitError(f"cannot fetch revision {wanted!r} of {redact_url(url)}: {error}") from None
                    # Some servers refuse a bare sha in `want`: fetch everything, then look it up.
                    await self._git(
                        "fetch", "--quiet", "--force", "--", url,
                        "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*",
                        git_dir=git_dir, env=env, secrets=secrets,
                    )  # fmt: skip
                    sha = await self._git(
                        "rev-parse", "--verify", "--quiet", f"{wanted}^{{commit}}",
                        git_dir=git_dir, env=env, secrets=secrets, check=False,
                    )  # fmt: skip
                    if not sha:
                        raise GitError(f"revision {wanted!r} not found in {redact_url(url)}") from None
                    return sha
                return await self._git(
                    "rev-parse", "--verify", "FETCH_HEAD^{commit}", git_dir=git_dir, env=env, secrets=secrets
                )

    @contextlib.asynccontextmanager
    async def checkout(self, url: str, sha: str) -> AsyncIterator[Path]:
        """A private copy of commit `sha` in a fresh random directory, removed on exit."""
        url = normalise_url(url)
        git_dir = self._git_dir(url)
        work = Path(tempfile.mkdtemp(prefix="rollouts-render-"))
        tree = work / "src"
        tree.mkdir()
        env = base_env({"GIT_INDEX_FILE": str(work / "index"), "GIT_CONFIG_NOSYSTEM": "1"})
        try:
            await self._git(f"--work-tree={tree}", "read-tree", sha, git_dir=git_dir, env=env, secrets=[])
            await self._git(
                f"--work-tree={tree}", "checkout-index", "--all", "--force", git_dir=git_dir, env=env, secrets=[]
            )
            (work / "index").unlink(missing_ok=True)
            yield tree
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
