"""The informer cache hands out read-only objects: a write into a shared object raises at the writer."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import orjson
import pytest

from rollouts.kube.informer import Informer
from rollouts.kube.readonly import FrozenDict, FrozenList, freeze, thaw
from rollouts.kube.resources import CONFIGMAPS


def sample() -> dict[str, Any]:
    return {
        "metadata": {"name": "a", "namespace": "ns", "resourceVersion": "5", "labels": {"x": "1"}},
        "spec": {"items": [{"k": [1, 2, {"deep": True}]}], "empty": {}},
    }


def test_every_write_to_a_frozen_object_or_anything_inside_raises() -> None:
    frozen = freeze(sample())
    meta = frozen["metadata"]
    items = frozen["spec"]["items"]
    writes = [
        lambda: frozen.__setitem__("status", {}),
        lambda: meta.__setitem__("resourceVersion", "6"),
        lambda: meta.setdefault("annotations", {}),
        lambda: meta.pop("labels"),
        lambda: meta.update(name="b"),
        meta.clear,
        meta.popitem,
        lambda: meta["labels"].__delitem__("x"),
        lambda: meta.__ior__({"a": 1}),
        lambda: items.append({}),
        lambda: items.extend([1]),
        lambda: items.insert(0, 1),
        lambda: items.__setitem__(0, {}),
        lambda: items.__delitem__(0),
        items.pop,
        lambda: items.remove(items[0]),
        items.sort,
        items.reverse,
        items.clear,
        lambda: items[0]["k"].__iadd__([3]),
        lambda: items[0]["k"][2].__setitem__("deep", False),
    ]
    for write in writes:
        with pytest.raises(TypeError, match="read-only"):
            write()
    assert frozen == sample(), "nothing changed"


def test_frozen_objects_read_compare_and_serialise_like_plain_ones() -> None:
    frozen = freeze(sample())
    assert isinstance(frozen, dict) and isinstance(frozen["spec"]["items"], list)
    assert type(frozen) is FrozenDict and type(frozen["spec"]["items"]) is FrozenList
    assert frozen == sample()
    assert orjson.loads(orjson.dumps(frozen)) == sample()
    assert json.loads(json.dumps(frozen)) == sample()
    assert pickle.loads(pickle.dumps(frozen)) == sample()
    merged = {**frozen, "status": {"phase": "x"}}
    assert merged["status"] == {"phase": "x"}
    assert freeze(frozen) is frozen


def test_thaw_and_deepcopy_give_a_plain_writable_copy_and_shallow_copies_keep_children_frozen() -> None:
    frozen = freeze(sample())
    for copied in (thaw(frozen), copy.deepcopy(frozen)):
        assert type(copied) is dict and type(copied["spec"]["items"][0]["k"]) is list
        copied["metadata"]["resourceVersion"] = "6"
        copied["spec"]["items"][0]["k"].append(3)
        assert copied != sample()
    assert frozen == sample()
    shallow = copy.copy(frozen)
    assert type(shallow) is dict
    shallow["status"] = {}
    with pytest.raises(TypeError):
        shallow["metadata"]["name"] = "b"


def test_freezing_and_thawing_do_not_recurse() -> None:
    deep: dict[str, Any] = {}
    current = deep
    for _ in range(5000):
        current["a"] = [{}]
        current = current["a"][0]
    frozen = freeze(deep)
    assert type(thaw(frozen)) is dict
    node: Any = frozen
    for _ in range(5000):
        node = node["a"][0]
        assert type(node) is FrozenDict


def test_the_informer_cache_hands_out_frozen_objects() -> None:
    informer = Informer(client=None, resource=CONFIGMAPS)  # type: ignore[arg-type]
    seen: list[Any] = []
    informer.add_handler(lambda event, obj, old: seen.append(obj))
    written = sample()
    informer.upsert_local(written)
    cached = informer.get("ns", "a")
    assert cached is not None and cached == sample()
    assert seen == [cached]
    with pytest.raises(TypeError):
        cached["metadata"]["resourceVersion"] = "6"
    with pytest.raises(TypeError):
        written["metadata"]["resourceVersion"] = "6"  # shared with the cache, so read-only too
    written["status"] = {}  # the caller's own top level stays writable
    assert informer.get("ns", "a") == sample()
    assert all(type(obj) is FrozenDict for obj in informer.items())
