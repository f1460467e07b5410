"""Escape attempts from an untrusted repository, each rejected with a message naming the path
and never quoting the refused file (classes of CVE-2022-24348, CVE-2022-24731,
CVE-2022-31036, CVE-2023-40026), plus render time and output limits."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from rollouts.api.gitsync import ApplicationSource
from rollouts.gitsync.renderers import RenderError, RenderLimits
from rollouts.gitsync.repo import RepoCache
from rollouts.gitsync.source import Renderer

from .gitrepo import FIXTURES, make_repo

SECRET = "TOPSECRET-CONTENT-4242"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside every repository, holding a 'secret' the repo must not read."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.yaml").write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {SECRET}}}\n")
    (directory / "secret.txt").write_text(SECRET)
    (directory / "kustomization.yaml").write_text("resources: [secret.yaml]\n")
    return directory


async def render_error(tmp_path: Path, repo: Path, source: dict[str, Any], **limits: Any) -> str:
    renderer = Renderer(repos=RepoCache(tmp_path / "cache"), limits=RenderLimits(**limits))
    spec = ApplicationSource.model_validate({"repoURL": str(repo), **source})
    commit = await renderer.resolve(spec)
    with pytest.raises(RenderError) as caught:
        await renderer.render(spec, commit=commit)
    message = str(caught.value)
    assert SECRET not in message
    assert str(tmp_path) not in message
    return message


def symlink(repo: Path, name: str, target: Path | str) -> None:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).symlink_to(target)


def repo_with(
    tmp_path: Path, links: dict[str, Path | str], files: dict[str, str] | None = None, copy_from: Path | None = None
) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name, target in links.items():
        symlink(repo, name, target)
    return make_repo(repo, files or {}, copy_from=copy_from)


# --- CVE-2022-24348: Helm valueFiles traversal -------------------------------------------


@pytest.mark.tools
@pytest.mark.parametrize(
    ("value_file", "expected"),
    [
        ("../../outside/secret.yaml", "resolves outside the repository"),
        ("../../../../../../../../etc/passwd", "resolves outside the repository"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("https://127.0.0.1:1/values.yaml", "remote locations are not allowed"),
    ],
)
async def test_helm_value_file_escape(tmp_path: Path, outside: Path, value_file: str, expected: str) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "helm")
    message = await render_error(tmp_path, repo, {"path": "chart", "helm": {"valueFiles": [value_file]}})
    assert f"helm valueFile {value_file!r}" in message
    assert expected in message


# --- CVE-2022-24731: a chart leaking a file through output or an error message -----------


@pytest.mark.parametrize(
    "template",
    [
        'data: {leak: {{ .Files.Get "leak.txt" | quote }}}',
        '{{ required (.Files.Get "leak.txt") .Values.missing }}',
        '{{ fail (.Files.Get "leak.txt") }}',
    ],
)
async def test_chart_cannot_leak_outside_file(tmp_path: Path, outside: Path, template: str) -> None:
    repo = repo_with(
        tmp_path,
        {"chart/leak.txt": outside / "secret.txt"},
        {"chart/templates/leak.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" + template},
        copy_from=FIXTURES / "helm",
    )
    message = await render_error(tmp_path, repo, {"path": "chart"})
    assert "symlink chart/leak.txt points outside the repository" in message


# --- CVE-2022-31036: symlink to an out-of-bounds YAML file -------------------------------


async def test_symlinked_yaml_outside_is_rejected(tmp_path: Path, outside: Path) -> None:
    repo = repo_with(tmp_path, {"app/evil.yaml": outside / "secret.yaml"}, {"app/ok.yaml": ""})
    message = await render_error(tmp_path, repo, {"path": "app"})
    assert message == "symlink app/evil.yaml points outside the repository"


async def test_relative_symlink_escape_and_symlinked_dir(tmp_path: Path, outside: Path) -> None:
    repo = repo_with(tmp_path, {"app/dir": "../../outside"}, {"app/ok.yaml": ""})
    message = await render_error(tmp_path, repo, {"path": "app", "directory": {"recurse": True}})
    assert "symlink app/dir points outside the repository" in message


async def test_symlinks_inside_the_repository_keep_working(tmp_path: Path) -> None:
    repo = repo_with(
        tmp_path,
        {"app/linked.yaml": "../shared/cm.yaml"},
        {"shared/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n"},
    )
    renderer = Renderer(repos=RepoCache(tmp_path / "cache"))
    spec = ApplicationSource.model_validate({"repoURL": str(repo), "path": "app"})
    objects = await renderer.render(spec, commit=await renderer.resolve(spec))
    assert [o["metadata"]["name"] for o in objects] == ["shared"]


async def test_app_path_outside_is_rejected(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": ""})
    message = await render_error(tmp_path, repo, {"path": "../outside"})
    assert "path '../outside' resolves outside the repository" in message


# --- Jsonnet imports --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import '../../outside/secret.txt'", "import '../../outside/secret.txt' resolves outside the repository"),
        ("importstr '/etc/passwd'", "import '/etc/passwd': absolute paths are not allowed"),
        ("importstr 'link.txt'", "symlink app/link.txt points outside the repository"),
    ],
)
async def test_jsonnet_import_escape(tmp_path: Path, outside: Path, code: str, expected: str) -> None:
    repo = repo_with(
        tmp_path,
        {"app/link.txt": outside / "secret.txt"} if "link" in code else {},
        {"app/main.jsonnet": f"{{apiVersion: 'v1', kind: 'ConfigMap', metadata: {{name: {code}}}}}"},
    )
    message = await render_error(tmp_path, repo, {"path": "app"})
    assert expected in message


async def test_jsonnet_lib_outside_is_rejected(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"main.jsonnet": "{}"})
    message = await render_error(tmp_path, repo, {"directory": {"jsonnet": {"libs": ["../outside"]}}})
    assert "jsonnet lib '../outside' resolves outside the repository" in message


# --- Kustomize bases and resources ------------------------------------------------------


@pytest.mark.parametrize(
    ("kustomization", "expected"),
    [
        ("resources: [../../outside]", "'../../outside' resolves outside the repository"),
        ("resources: [../../outside/secret.yaml]", "'../../outside/secret.yaml' resolves outside the repository"),
        ("resources: ['https://github.com/org/repo//base?ref=v1']", "remote bases are not allowed"),
        ("resources: ['github.com/org/repo/base?ref=v1']", "remote bases are not allowed"),
        ("resources: ['github.com/org/repo/base']", "is not a file or directory of the repository"),
        ("patches: [{path: ../../outside/secret.yaml}]", "resolves outside the repository"),
        ("configMapGenerator: [{name: x, files: [k=../../outside/secret.txt]}]", "resolves outside the repository"),
        ("helmCharts: [{name: x}]", "helm chart inflation is not allowed"),
    ],
)
async def test_kustomize_escape(tmp_path: Path, outside: Path, kustomization: str, expected: str) -> None:
    repo = make_repo(tmp_path / "repo", {"app/kustomization.yaml": kustomization + "\n"})
    message = await render_error(tmp_path, repo, {"path": "app"})
    assert message.startswith("app/kustomization.yaml: ")
    assert expected in message


async def test_kustomize_base_escaping_through_nested_kustomization(tmp_path: Path, outside: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"app/kustomization.yaml": "resources: [../base]\n", "base/kustomization.yaml": "resources: [../../outside]\n"},
    )
    message = await render_error(tmp_path, repo, {"path": "app"})
    assert message.startswith("base/kustomization.yaml: kustomize resources entry '../../outside'")


# --- CVE-2023-40026: every render has its own unpredictable directory --------------------


async def test_each_render_gets_a_private_unpredictable_checkout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
    cache = RepoCache(tmp_path / "cache")
    sha = await cache.fetch(str(repo), None)
    seen: list[Path] = []
    all_checked_out = asyncio.Barrier(3)

    async def hold() -> None:
        async with cache.checkout(str(repo), sha) as root:
            seen.append(root)
            assert (root / "a.yaml").is_file()
            assert os.stat(root.parent).st_mode & 0o077 == 0  # nobody else can list or read it
            await asyncio.wait_for(all_checked_out.wait(), 60)  # the three checkouts exist at the same time

    await asyncio.gather(hold(), hold(), hold())
    assert len({p.parent for p in seen}) == 3
    assert not any(p.exists() for p in seen)
    assert all(str(p.parent) != str(tmp_path / "cache") for p in seen)


# --- limits -----------------------------------------------------------------------------


async def test_render_time_limit(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "main.jsonnet": (
                # 10^10 additions: no machine finishes this within the limit, so the limit is what ends it
                "std.foldl(function(a, i) a + std.foldl(function(b, j) b + j, std.range(1, 100000), 0),"
                " std.range(1, 100000), 0)"
            )
        },
    )
    message = await render_error(tmp_path, repo, {}, timeout=1.0)
    assert "timed out after 1s" in message


async def test_render_output_limit(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "main.jsonnet": (
                "[{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'c' + i}} for i in std.range(1, 5000)]"
            )
        },
    )
    message = await render_error(tmp_path, repo, {}, output_bytes=10_000)
    assert "output larger than 10000 bytes" in message
