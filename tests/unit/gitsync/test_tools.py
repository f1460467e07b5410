"""Helm, Kustomize, plain YAML directories and plugins, rendered from real git repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rollouts.api.gitsync import ApplicationSource
from rollouts.gitsync.renderers import RenderError
from rollouts.gitsync.renderers.kustomize import image_entry
from rollouts.gitsync.repo import RepoCache
from rollouts.gitsync.source import Renderer

from .gitrepo import FIXTURES, make_repo


async def render(tmp_path: Path, repo: Path, source: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
    plugins = kwargs.pop("plugins", {})
    renderer = Renderer(repos=RepoCache(tmp_path / "cache"), plugins=plugins)
    spec = ApplicationSource.model_validate({"repoURL": str(repo), **source})
    commit = await renderer.resolve(spec)
    return await renderer.render(spec, commit=commit, **kwargs)


def by_name(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objects}


@pytest.mark.tools
async def test_helm_values_files_inline_values_and_parameters(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "helm")
    objects = await render(
        tmp_path,
        repo,
        {
            "path": "chart",
            "helm": {
                "releaseName": "shop",
                "valueFiles": ["../envs/prod.yaml"],
                "values": "greeting: hi\nextra: from-values",
                "parameters": [
                    {"name": "image", "value": "nginx:1.27"},
                    {"name": "extra", "value": "007", "forceString": True},
                ],
            },
        },
        namespace="prod",
    )
    assert objects == [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "shop-config", "namespace": "prod"},
            "data": {"greeting": "hi", "replicas": "4", "image": "nginx:1.27", "extra": "007"},
        }
    ]


@pytest.mark.tools
async def test_helm_values_object_wins_over_values(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "helm")
    objects = await render(
        tmp_path,
        repo,
        {"path": "chart", "helm": {"values": "greeting: a", "valuesObject": {"greeting": "b"}}},
        app_name="app",
    )
    assert objects[0]["metadata"]["name"] == "app-config"
    assert objects[0]["data"]["greeting"] == "b"


@pytest.mark.tools
async def test_helm_values_file_symlink_inside_repo_works(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "envs").mkdir()
    (repo / "envs" / "staging.yaml").symlink_to("prod.yaml")
    repo = make_repo(repo, copy_from=FIXTURES / "helm")
    objects = await render(tmp_path, repo, {"path": "chart", "helm": {"valueFiles": ["../envs/staging.yaml"]}})
    assert objects[0]["data"]["replicas"] == "4"


@pytest.mark.tools
async def test_kustomize_overlay_with_options(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "kustomize")
    objects = await render(
        tmp_path,
        repo,
        {
            "path": "overlays/prod",
            "kustomize": {
                "namePrefix": "p-",
                "nameSuffix": "-s",
                "images": ["nginx=registry.example/nginx:1.27"],
                "commonLabels": {"team": "shop"},
            },
        },
    )
    found = by_name(objects)
    assert set(found) == {"ConfigMap/p-settings-s", "Deployment/p-web-s"}
    assert found["ConfigMap/p-settings-s"]["data"] == {"level": "prod"}
    assert found["ConfigMap/p-settings-s"]["metadata"]["labels"] == {"team": "shop"}
    container = found["Deployment/p-web-s"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/nginx:1.27"


@pytest.mark.tools
async def test_kustomize_without_options_runs_in_place(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "kustomize")
    objects = await render(tmp_path, repo, {"path": "overlays/prod"})
    assert by_name(objects)["ConfigMap/settings"]["data"] == {"level": "prod"}


def test_image_override_forms() -> None:
    assert image_entry("nginx:1.27") == {"name": "nginx", "newTag": "1.27"}
    assert image_entry("nginx=my/nginx:2") == {"name": "nginx", "newName": "my/nginx", "newTag": "2"}
    assert image_entry("host:5000/app@sha256:abc") == {"name": "host:5000/app", "digest": "sha256:abc"}


YAML_FILES = {
    "app/a.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
    ),
    "app/c.json": (
        '{"apiVersion": "v1", "kind": "List", '
        '"items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c"}}]}'
    ),
    "app/notes.txt": "not a manifest",
    "app/sub/d.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n",
    "app/sub/skip-e.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\n",
}


async def test_directory_plain_yaml_no_recurse(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", YAML_FILES)
    names = sorted(by_name(await render(tmp_path, repo, {"path": "app"})))
    assert names == ["ConfigMap/a", "ConfigMap/b", "Secret/c"]


async def test_directory_recurse_include_exclude(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", YAML_FILES)
    names = sorted(by_name(await render(tmp_path, repo, {"path": "app", "directory": {"recurse": True}})))
    assert names == ["ConfigMap/a", "ConfigMap/b", "ConfigMap/d", "ConfigMap/e", "Secret/c"]
    names = sorted(
        by_name(await render(tmp_path, repo, {"path": "app", "directory": {"recurse": True, "exclude": "*skip-*"}}))
    )
    assert names == ["ConfigMap/a", "ConfigMap/b", "ConfigMap/d", "Secret/c"]
    names = sorted(
        by_name(
            await render(
                tmp_path, repo, {"path": "app", "directory": {"recurse": True, "include": "{*.json,sub/d.yml}"}}
            )
        )
    )
    assert names == ["ConfigMap/d", "Secret/c"]


async def test_directory_bad_yaml_names_the_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/bad.yaml": "apiVersion: v1\nkind: [unclosed\n"})
    with pytest.raises(RenderError, match=r"app/bad\.yaml: invalid YAML"):
        await render(tmp_path, repo, {"path": "app"})


async def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", YAML_FILES)
    with pytest.raises(RenderError, match="'nope' is not a directory"):
        await render(tmp_path, repo, {"path": "nope"})


async def test_plugin_command_comes_from_controller_config(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/ignored.yaml": "x: 1\n"})
    script = (
        'printf "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: %s}\\ndata: {rev: %s}\\n"'
        ' "$ARGOCD_ENV_NAME" "$ARGOCD_APP_NAME"'
    )
    plugins = {"echo": ["/bin/sh", "-c", script]}
    source = {"path": "app", "plugin": {"name": "echo", "env": [{"name": "NAME", "value": "from-plugin"}]}}
    objects = await render(tmp_path, repo, source, plugins=plugins, app_name="myapp")
    assert objects == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-plugin"}, "data": {"rev": "myapp"}}
    ]
    with pytest.raises(RenderError, match="plugin 'other' is not configured on the controller"):
        await render(tmp_path, repo, {"path": "app", "plugin": {"name": "other"}}, plugins=plugins)
