"""Decide whether two spellings of a repository URL name the same repository.

A push webhook names its repository in several forms (GitHub's clone_url,
html_url, ssh_url; GitLab's git_http_url, git_ssh_url, web_url) and a
GitSync's repoURL may use any of them, with or without `.git`, credentials
or a trailing slash. Both sides are reduced to `host/path` (lower-cased)
before comparing, so `git@github.com:org/app.git`, `https://github.com/org/app`
and `https://user:token@github.com/org/app.git/` all match.

`url_prefix_matches` decides whether credentials issued for a URL prefix (an
Argo CD repository / credential-template Secret's `url`) may be sent to a
repository URL: only on a path boundary, never to another host.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from rollouts.gitsync.repo import normalise_url

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//).*)$")


def canonical_repository(url: str) -> str:
    """`host/path` without scheme, user, port of ssh, `.git` and trailing slashes; lower case."""
    text = url.strip()
    if "://" not in text:
        match = _SCP_LIKE.match(text)
        if match and not text.startswith("/"):
            text = f"ssh://{match.group('host')}/{match.group('path')}"
        else:
            text = normalise_url(text)
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/").removesuffix(".git").rstrip("/")
    return f"{host}/{path.lstrip('/')}".lower() if host else path.lower()


def _comparable(url: str) -> str:
    """normalise_url without credentials, scheme and host lower-cased."""
    text = normalise_url(url.strip())
    if "://" in text:
        parts = urlsplit(text)
        netloc = parts.netloc.rpartition("@")[2].lower()
        return f"{parts.scheme.lower()}://{netloc}{parts.path}"
    return text.rpartition("@")[2] if re.match(r"^[\w.-]+@[\w.-]+:", text) else text


def url_prefix_matches(prefix: str, url: str) -> bool:
    """Whether `prefix` (a credentials Secret's `url`) covers repository `url`, on a path boundary.

    `https://git.example.com/org` covers `https://git.example.com/org/app.git` but not
    `https://git.example.com/org-evil/app.git` nor `https://git.example.com.evil/org/app`.
    """
    if not prefix.strip() or not url.strip():
        return False
    wanted, repo = _comparable(prefix), _comparable(url)
    bare = wanted.rstrip("/").removesuffix(".git")
    if repo.rstrip("/").removesuffix(".git") == bare:
        return True
    return repo.startswith(wanted) and (wanted.endswith(("/", ":")) or repo[len(wanted)] in "/:")


def same_repository(left: str, right: str) -> bool:
    return bool(left.strip()) and bool(right.strip()) and canonical_repository(left) == canonical_repository(right)
