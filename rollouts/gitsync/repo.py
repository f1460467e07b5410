"""Fetch Git repositories into a cache and hand each render a private checkout.

One bare clone per repository URL *and credentials* lives under the cache
root (named by a hash of both), so a clone's content is only served to a
GitSync that could fetch it itself: one without credentials cannot name a
commit id that another GitSync's credentials fetched and get it without
asking the remote. An asyncio lock per clone serialises fetches into it. A
fetch is shallow (`--depth 1`) of exactly the wanted revision (branch, tag,
commit, default HEAD) and resolves to a commit sha; a commit the clone already
holds is not fetched again. The URL and revision are refused when they start
with `-` and reach git after `--` anyway; only the file, git, http(s) and ssh
transports are allowed, and a file URL into the cache itself is refused.

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
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from rollouts.gitsync.arguments import UnsafeArgumentError, check_argument
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

    def identity(self) -> str:
        """A digest of everything that authenticates: two clones share content only when it is equal."""
        material = "\0".join(
            value or "" for value in (self.username, self.password, self.ssh_private_key, self.ssh_known_hosts)
        )
        return hashlib.sha256(material.encode()).hexdigest()

    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.ssh_private_key) if s]


def normalise_url(url: str) -> str:
    """A local directory becomes an absolute file:// URL; other URLs stay as written."""
    if "://" in url or re.match(r"^[\w.-]+@[\w.-]+:", url):
        return url
    return Path(url).expanduser().resolve().as_uri()


def cache_name(url: str, credentials: Credentials | None) -> str:
    """The clone's directory name: a hash of the full URL and of who fetches it (never readable back)."""
    return hashlib.sha256(f"{url}\0{credentials.identity() if credentials else 'anonymous'}".encode()).hexdigest()[:32]


def check_git_argument(value: str, *, what: str) -> str:
    try:
        return check_argument(value, what=what)
    except UnsafeArgumentError as error:
        raise GitError(redact_url(str(error))) from None


@contextlib.contextmanager
def _credential_env(credentials: Credentials | None) -> Iterator[dict[str, str]]:
    """Environment for a git call; temp askpass script / key file removed afterwards."""
    env = base_env(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            # No ext:: (runs a command), fd:: or other transports a repoURL could name.
            "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
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
    """Bare clones under `root`, one per (URL, credentials); fetch(), then checkout() per render.

    A clone is only ever read for the credentials it was fetched with, so a
    GitSync without (or with other) credentials never gets content another
    GitSync's credentials brought in: it fetches into its own clone and the
    remote decides. `owner` (the GitSync's namespace/name) records who uses a
    clone; `forget(owner)` deletes the clones nobody uses any more, and at most
    `max_repositories` clones are kept (least recently used go first).
    """

    def __init__(
        self, root: Path | None = None, *, timeout: float = GIT_TIMEOUT_SECONDS, max_repositories: int = 256
    ) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="rollouts-repos-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self.max_repositories = max_repositories
        self._locks: dict[str, asyncio.Lock] = {}
        self._owners: dict[str, set[str]] = {}
        self._used: OrderedDict[str, None] = OrderedDict()

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    def _check_url(self, url: str) -> str:
        url = normalise_url(check_git_argument(url, what="repoURL"))
        if url.startswith("file:"):
            path = Path(urlsplit(url).path).resolve()
            cache = self.root.resolve()
            if path == cache or cache in path.parents:
                raise GitError("repoURL must not point into the controller's repository cache")
        return url

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

    async def fetch(
        self, url: str, revision: str | None, credentials: Credentials | None = None, *, owner: str = ""
    ) -> str:
        """Fetch `revision` (branch, tag, sha; default HEAD) of `url` and return its commit sha."""
        wanted = check_git_argument((revision or "").strip() or "HEAD", what="targetRevision")
        url = self._check_url(url)
        secrets = credentials.secrets() if credentials else []
        name = cache_name(url, credentials)
        git_dir = self.root / name
        self._touch(name, owner)
        async with self._lock(name):
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
                    try:
                        await self._git(
                            "fetch", "--quiet", "--force", "--", url,
                            "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*",
                            git_dir=git_dir, env=env, secrets=secrets,
                        )  # fmt: skip
                    except GitError as again:
                        raise GitError(f"cannot fetch revision {wanted!r} of {redact_url(url)}: {again}") from None
                    sha = await self._git(
                        "rev-parse", "--verify", "--quiet", "--end-of-options", f"{wanted}^{{commit}}",
                        git_dir=git_dir, env=env, secrets=secrets, check=False,
                    )  # fmt: skip
                    if not sha:
                        raise GitError(f"revision {wanted!r} not found in {redact_url(url)}") from None
                    return sha
                return await self._git(
                    "rev-parse", "--verify", "FETCH_HEAD^{commit}", git_dir=git_dir, env=env, secrets=secrets
                )

    @contextlib.asynccontextmanager
    async def checkout(self, url: str, sha: str, credentials: Credentials | None = None) -> AsyncIterator[Path]:
        """A private copy of commit `sha` (fetched with these credentials) in a fresh random directory."""
        if not _SHA.match(sha):
            raise GitError(f"not a commit id: {sha!r}")
        git_dir = self.root / cache_name(self._check_url(url), credentials)
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

    def _touch(self, name: str, owner: str) -> None:
        """Record a use of clone `name` by `owner`; drop the least recently used clones over the limit."""
        if owner:
            for other, owners in list(self._owners.items()):
                if other != name and owner in owners:
                    owners.discard(owner)  # a GitSync uses one clone at a time
                    if not owners:
                        self._remove(other)  # its URL or credentials changed: the old clone is nobody's
            self._owners.setdefault(name, set()).add(owner)
        self._used[name] = None
        self._used.move_to_end(name)
        while len(self._used) > self.max_repositories:
            oldest = next(iter(self._used))
            self._remove(oldest)

    def _remove(self, name: str) -> None:
        lock = self._locks.get(name)
        if lock is not None and lock.locked():
            self._used.move_to_end(name)  # in use right now: keep it, try again later
            return
        self._used.pop(name, None)
        self._owners.pop(name, None)
        self._locks.pop(name, None)
        shutil.rmtree(self.root / name, ignore_errors=True)

    def forget(self, owner: str) -> None:
        """`owner` (a deleted GitSync) no longer uses any clone: delete the clones nobody else uses."""
        for name, owners in list(self._owners.items()):
            owners.discard(owner)
            if not owners:
                self._remove(name)

    def repositories(self) -> list[str]:
        """Names of the clones on disk (for tests and metrics)."""
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
