"""A value from a GitSync never reaches a tool's command line as a flag (helm, kustomize, git, plugins).

Each attack names something a flag would make the tool do (run a post-renderer
script from the repository, upload-pack a command); the test proves the value
is refused with a clear message and that the marker the attack would create
does not exist, i.e. nothing ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rollouts.api.gitsync import ApplicationSource
from rollouts.gitsync.renderers import RenderError, RenderRequest
from rollouts.gitsync.renderers.helm import helm_args
from rollouts.gitsync.repo import GitError, RepoCache
from rollouts.gitsync.source import Renderer

from .gitrepo import FIXTURES, make_repo

FLAG_REFUSED = "must not start with '-' (it would be read as a command-line flag)"


def attack_repo(tmp_path: Path, marker: Path) -> Path:
    """The Helm fixture plus an executable script that creates `marker` when anything runs it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    script = repo / "chart" / "x.sh"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n")
    script.chmod(0o755)
    return make_repo(repo, copy_from=FIXTURES / "helm")


async def render(tmp_path: Path, repo: Path, source: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
    plugins = kwargs.pop("plugins", {})
    renderer = Renderer(repos=RepoCache(tmp_path / "cache"), plugins=plugins)
    spec = ApplicationSource.model_validate({"repoURL": str(repo), **source})
    commit = await renderer.resolve(spec)
    return await renderer.render(spec, commit=commit, **kwargs)


@pytest.mark.parametrize(
    ("helm", "what"),
    [
        ({"releaseName": "--post-renderer=./x.sh"}, "helm.releaseName"),
        ({"namespace": "--post-renderer=./x.sh"}, "helm.namespace"),
        ({"valueFiles": ["--post-renderer=./x.sh"]}, "helm.valueFiles entry"),
        ({"parameters": [{"name": "--post-renderer=./x.sh", "value": "1"}]}, "helm.parameters name"),
    ],
)
async def test_helm_refuses_a_value_that_would_be_a_flag(tmp_path: Path, helm: dict[str, Any], what: str) -> None:
    marker = tmp_path / "post-renderer-ran"
    repo = attack_repo(tmp_path, marker)
    with pytest.raises(RenderError) as caught:
        await render(tmp_path, repo, {"path": "chart", "helm": helm})
    assert str(caught.value) == f"{what} '--post-renderer=./x.sh' {FLAG_REFUSED}"
    assert not marker.exists()


@pytest.mark.tools
async def test_helm_parameter_values_are_data_never_flags(tmp_path: Path) -> None:
    marker = tmp_path / "post-renderer-ran"
    repo = attack_repo(tmp_path, marker)
    value = "--post-renderer=./x.sh"
    source = {"path": "chart", "helm": {"parameters": [{"name": "extra", "value": value, "forceString": True}]}}
    objects = await render(tmp_path, repo, source)
    assert objects[0]["data"]["extra"] == value
    assert not marker.exists()


def test_helm_argv_keeps_every_option_in_one_word_and_positionals_after_the_separator(tmp_path: Path) -> None:
    source = ApplicationSource.model_validate(
        {"repoURL": "x", "helm": {"releaseName": "shop", "parameters": [{"name": "a", "value": "-b"}]}}
    )
    args = helm_args(RenderRequest(root=tmp_path, app_dir=tmp_path, source=source, namespace="prod"), tmp_path)
    assert args == ["template", "--namespace=prod", "--set=a=-b", "--include-crds", "--", "shop", "."]


@pytest.mark.tools
async def test_helm_release_name_must_be_a_valid_name(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "helm")
    with pytest.raises(RenderError, match=r"helm\.releaseName 'Shop Name' is not a valid name"):
        await render(tmp_path, repo, {"path": "chart", "helm": {"releaseName": "Shop Name"}})


async def test_kustomize_refuses_a_path_that_would_be_a_flag(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "kustomize")
    with pytest.raises(RenderError) as caught:
        await render(tmp_path, repo, {"path": "--enable-exec"})
    assert str(caught.value) == f"source.path '--enable-exec' {FLAG_REFUSED}"


@pytest.mark.tools
async def test_kustomize_options_starting_with_a_dash_are_data(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "kustomize")
    objects = await render(tmp_path, repo, {"path": "overlays/prod", "kustomize": {"nameSuffix": "--enable-exec"}})
    assert objects and all(o["metadata"]["name"].endswith("--enable-exec") for o in objects)


@pytest.mark.parametrize("field", ["repo_url", "revision"])
async def test_git_fetch_refuses_a_url_or_revision_that_would_be_a_flag(tmp_path: Path, field: str) -> None:
    marker = tmp_path / "upload-pack-ran"
    repo = make_repo(tmp_path / "repo", {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
    attack = f"--upload-pack=touch {marker};git-upload-pack"
    url, revision = (attack, None) if field == "repo_url" else (str(repo), attack)
    what = "repoURL" if field == "repo_url" else "targetRevision"
    with pytest.raises(GitError) as caught:
        await RepoCache(tmp_path / "cache").fetch(url, revision)
    assert str(caught.value) == f"{what} {attack!r} {FLAG_REFUSED}"
    assert not marker.exists()


async def test_git_fetch_refuses_a_url_into_the_cache(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
    cache = RepoCache(tmp_path / "cache")
    await cache.fetch(str(repo), None)
    (clone,) = cache.repositories()
    with pytest.raises(GitError, match="must not point into the controller's repository cache"):
        await cache.fetch(str(tmp_path / "cache" / clone), None)


async def test_plugin_refuses_an_env_value_that_would_be_a_flag(tmp_path: Path) -> None:
    marker = tmp_path / "plugin-ran"
    repo = make_repo(tmp_path / "repo", {"a.txt": "x"})
    plugins = {"echo": ["sh", "-c", f'touch {marker}; echo "$ARGOCD_ENV_FLAGS"']}
    source = {"plugin": {"name": "echo", "env": [{"name": "FLAGS", "value": "--set-file=token"}]}}
    with pytest.raises(RenderError) as caught:
        await render(tmp_path, repo, source, plugins=plugins)
    assert str(caught.value) == f"plugin.env FLAGS '--set-file=token' {FLAG_REFUSED}"
    assert not marker.exists()
