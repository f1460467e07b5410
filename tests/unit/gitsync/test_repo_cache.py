"""The shared repository cache never serves content to a GitSync that could not fetch it itself.

A real Git server on the loopback interface checks Basic credentials. One
fetch with credentials brings a commit into the cache; a fetch of that very
commit id without credentials (or with wrong ones) must ask the server and be
refused, instead of being answered from the clone the credentials filled.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rollouts.api.gitsync import ApplicationSource
from rollouts.gitsync.repo import Credentials, GitError, RepoCache
from rollouts.gitsync.source import Renderer

from .gitrepo import git, make_repo
from .gitserver import GitServer, git_http_server

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: private}\ndata: {plan: world-domination}\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GitServer]:
    work = make_repo(tmp_path / "work", {"cm.yaml": CONFIGMAP})
    git(tmp_path, "clone", "--quiet", "--bare", str(work), str(tmp_path / "served" / "private.git"))
    with git_http_server(tmp_path / "served", username="alice", password="pw-" + os.urandom(6).hex()) as served:
        yield served


async def test_a_commit_fetched_with_credentials_is_not_served_without_them(tmp_path: Path, server: GitServer) -> None:
    url = server.url + "private.git"
    cache = RepoCache(tmp_path / "cache")
    sha = await cache.fetch(url, None, Credentials(username="alice", password=server.password), owner="a/with")
    assert len(sha) == 40
    refused_before = len(server.refused)
    with pytest.raises(GitError) as caught:
        await cache.fetch(url, sha, None, owner="b/without")
    assert "Authentication failed" in str(caught.value) or "could not read Username" in str(caught.value)
    assert len(server.refused) > refused_before  # the server was asked, and said no
    with pytest.raises(GitError):
        await cache.fetch(url, sha, Credentials(username="alice", password="wrong-password"), owner="c/wrong")


async def test_a_render_without_credentials_never_reads_the_credentialed_clone(
    tmp_path: Path, server: GitServer
) -> None:
    source = ApplicationSource.model_validate({"repoURL": server.url + "private.git"})
    renderer = Renderer(repos=RepoCache(tmp_path / "cache"))
    credentials = Credentials(username="alice", password=server.password)
    sha = await renderer.resolve(source, credentials)
    objects = await renderer.render(source, commit=sha, credentials=credentials)
    assert objects[0]["data"] == {"plan": "world-domination"}
    with pytest.raises(GitError):
        await renderer.render(source, commit=sha)  # neither the render cache nor the clone answers


async def test_clones_of_a_deleted_gitsync_are_removed_and_their_number_is_bounded(tmp_path: Path) -> None:
    repos = [make_repo(tmp_path / f"repo{i}", {"a.yaml": CONFIGMAP}) for i in range(3)]
    cache = RepoCache(tmp_path / "cache", max_repositories=2)
    await cache.fetch(str(repos[0]), None, owner="ns/one")
    await cache.fetch(str(repos[0]), None, owner="ns/two")
    await cache.fetch(str(repos[1]), None, owner="ns/three")
    assert len(cache.repositories()) == 2
    cache.forget("ns/one")
    assert len(cache.repositories()) == 2  # ns/two still uses repo0's clone
    cache.forget("ns/two")
    assert len(cache.repositories()) == 1
    await cache.fetch(str(repos[0]), None, owner="ns/one")
    await cache.fetch(str(repos[2]), None, owner="ns/four")
    assert len(cache.repositories()) == 2  # the least recently used clone (repo1) went


async def test_a_clone_left_behind_by_a_changed_repo_url_is_removed(tmp_path: Path) -> None:
    first = make_repo(tmp_path / "first", {"a.yaml": CONFIGMAP})
    second = make_repo(tmp_path / "second", {"a.yaml": CONFIGMAP})
    cache = RepoCache(tmp_path / "cache")
    await cache.fetch(str(first), None, owner="ns/app")
    (old,) = cache.repositories()
    await cache.fetch(str(second), None, owner="ns/app")
    assert old not in cache.repositories() and len(cache.repositories()) == 1
