"""Each Jsonnet fixture (objects, merges, comprehensions, functions, self, hidden fields,
ext vars, TLAs, jpath libs, top-level arrays, objects of objects, assertions) rendered
from a real git repository and compared with its expected output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rollouts.api.gitsync import ApplicationSource
from rollouts.gitsync.renderers import RenderError
from rollouts.gitsync.repo import RepoCache
from rollouts.gitsync.source import Renderer

from .gitrepo import FIXTURES, make_repo

CASES = sorted(p.name for p in (FIXTURES / "jsonnet").iterdir() if p.is_dir())


def _source(repo: Path, case_dir: Path) -> ApplicationSource:
    params_file = case_dir / "params.json"
    params = json.loads(params_file.read_text()) if params_file.exists() else {}
    jsonnet = {key: params[key] for key in ("extVars", "tlas", "libs") if key in params}
    return ApplicationSource.model_validate(
        {"repoURL": str(repo), "path": params.get("path", "."), "directory": {"jsonnet": jsonnet}}
    )


@pytest.mark.parametrize("case", CASES)
async def test_jsonnet_fixture(case: str, tmp_path: Path) -> None:
    case_dir = FIXTURES / "jsonnet" / case
    repo = make_repo(tmp_path / "repo", copy_from=case_dir)
    expected = json.loads((case_dir / "expected.json").read_text())
    renderer = Renderer(repos=RepoCache(tmp_path / "cache"))
    source = _source(repo, case_dir)
    commit = await renderer.resolve(source)
    if isinstance(expected, dict) and "error" in expected:
        with pytest.raises(RenderError) as caught:
            await renderer.render(source, commit=commit)
        assert expected["error"] in str(caught.value)
        assert str(tmp_path) not in str(caught.value)
        return
    assert await renderer.render(source, commit=commit) == expected


async def test_render_cache_hit_for_same_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", copy_from=FIXTURES / "jsonnet" / "objects")
    renderer = Renderer(repos=RepoCache(tmp_path / "cache"))
    source = ApplicationSource.model_validate({"repoURL": str(repo), "path": "."})
    commit = await renderer.resolve(source)
    first = await renderer.render(source, commit=commit)
    first[0]["metadata"]["name"] = "mutated by caller"
    second = await renderer.render(source, commit=commit)
    assert renderer.cache.hits == 1
    assert second[0]["metadata"]["name"] == "plain"
    other = source.model_copy(update={"path": "./"})
    await renderer.render(other, commit=commit)
    assert renderer.cache.hits == 1
