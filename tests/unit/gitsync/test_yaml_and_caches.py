"""Bounded YAML (alias bombs refused, big inputs parsed off the event loop) and bounded render caches."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from rollouts.api.gitsync import ApplicationSource
from rollouts.gitsync.renderers import RenderCache, RenderError
from rollouts.gitsync.renderers import base as renderer_base
from rollouts.gitsync.renderers.base import OFF_LOOP_BYTES, parse_manifests, parse_yaml_stream
from rollouts.gitsync.repo import RepoCache
from rollouts.gitsync.source import Renderer

from .gitrepo import make_repo


def alias_bomb(levels: int = 9) -> str:
    """The 'billion laughs' of YAML: a few hundred bytes, 9**levels strings once expanded."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb}", "data:", '  a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        previous = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"  a{level}: &a{level} [{previous}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    with pytest.raises(RenderError, match=r"bomb\.yaml: invalid YAML: aliases expand the document by"):
        parse_yaml_stream(alias_bomb(), "bomb.yaml")


def test_a_recursive_alias_is_refused() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loop}\ndata: &d {self: *d}\n"
    with pytest.raises(RenderError, match="recursive alias"):
        parse_yaml_stream(text, "loop.yaml")


def test_ordinary_anchors_and_merge_keys_still_work() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok, labels: &l {app: shop}}\n"
        "data:\n  base: &b {a: '1', b: '2'}\n  merged: {<<: *b, c: '3'}\n  labels: *l\n"
    )
    (obj,) = parse_yaml_stream(text, "ok.yaml")
    assert obj["data"]["merged"] == {"a": "1", "b": "2", "c": "3"}


async def test_an_alias_bomb_in_a_repository_fails_the_render(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"bomb.yaml": alias_bomb()})
    renderer = Renderer(repos=RepoCache(tmp_path / "cache"))
    source = ApplicationSource.model_validate({"repoURL": str(repo)})
    commit = await renderer.resolve(source)
    with pytest.raises(RenderError, match=r"bomb\.yaml: invalid YAML: aliases expand"):
        await renderer.render(source, commit=commit)


async def test_big_inputs_are_parsed_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: dict[str, str] = {}
    parse = renderer_base.parse_yaml_stream

    def spy(text: str | bytes, source: str) -> list[dict[str, Any]]:
        threads[source] = threading.current_thread().name
        return parse(text, source)

    monkeypatch.setattr(renderer_base, "parse_yaml_stream", spy)
    padding = "x" * OFF_LOOP_BYTES
    big = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata: {{pad: {padding}}}\n"
    small = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n"
    results = await asyncio.gather(parse_manifests(big, "big.yaml"), parse_manifests(small, "small.yaml"))
    assert [r[0]["metadata"]["name"] for r in results] == ["big", "small"]
    assert threads["big.yaml"] != threading.main_thread().name
    assert threads["small.yaml"] == threading.main_thread().name


def test_the_render_cache_is_bounded_by_bytes_and_forgets_deleted_gitsyncs() -> None:
    cache = RenderCache(size=10, max_bytes=300)
    objects = [{"kind": "ConfigMap", "data": {"pad": "x" * 100}}]
    cache.put("a", objects, owner="ns/one")
    cache.put("b", objects, owner="ns/two")
    cache.put("c", objects, owner="ns/two")
    assert cache.bytes <= 300
    assert cache.get("a") is None  # the oldest went to keep within the byte bound
    assert cache.get("c") == objects
    cache.put("huge", [{"pad": "x" * 1000}], owner="ns/two")
    assert cache.get("huge") is None  # bigger than the whole cache: never kept
    cache.forget("ns/two")
    assert len(cache) == 0 and cache.bytes == 0
