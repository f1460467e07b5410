"""Decoding never lets one undecodable object fail a list page or a watch, and names the object it skips."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from rollouts.kube import decode
from rollouts.kube.decode import UNDECODABLE, Skipped, decode_event, decode_list, identify

TOO_DEEP = 1100  # orjson refuses more than 1024 levels


def deep_json(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def poisoned(name: str, *, namespace: str = "ns") -> bytes:
    """An object orjson cannot decode; its metadata has decoys (an annotation named "name", escapes)."""
    return (
        b'{"apiVersion":"v1","kind":"X","metadata":{"annotations":{"name":"decoy","q":"a \\"name\\": \\"x\\""},'
        b'"managedFields":[{"manager":"m","fieldsV1":' + deep_json(3) + b"}],"
        b'"name":"' + name.encode() + b'","namespace":"' + namespace.encode() + b'",'
        b'"resourceVersion":"42","uid":"u-1"},"spec":' + deep_json(TOO_DEEP) + b"}"
    )


def item(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": "7"}, "spec": {"x": [1, {"y": 2}]}}


def test_orjson_refuses_what_the_api_server_accepts() -> None:
    orjson.loads(deep_json(1024))
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(deep_json(TOO_DEEP))


def test_a_list_page_keeps_every_decodable_item_and_names_the_one_it_skips() -> None:
    good = [orjson.dumps(item("a")), orjson.dumps(item("c"))]
    data = (
        b'{"kind":"XList","metadata":{"resourceVersion":"99","continue":"tok"},"items":['
        + b",".join([good[0], poisoned("b"), good[1]])
        + b'],"apiVersion":"v1"}'
    )
    page, skipped = decode_list(data)
    assert [i["metadata"]["name"] for i in page["items"]] == ["a", "c"]
    assert page["items"][0] == item("a")
    assert page["metadata"] == {"resourceVersion": "99", "continue": "tok"}
    assert page["apiVersion"] == "v1"
    assert len(skipped) == 1
    one = skipped[0]
    assert (one.namespace, one.name, one.resource_version, one.uid) == ("ns", "b", "42", "u-1")
    assert one.key == "ns/b" and "depth" in one.error


def test_a_good_page_decodes_as_is_and_garbage_still_raises() -> None:
    assert decode_list(b'{"items":[{"metadata":{"name":"a"}}]}') == ({"items": [{"metadata": {"name": "a"}}]}, [])
    with pytest.raises(orjson.JSONDecodeError):
        decode_list(b"not json")


def test_an_undecodable_watch_event_names_its_object_and_version() -> None:
    event = decode_event(b'{"type":"MODIFIED","object":' + poisoned("b", namespace="") + b"}")
    assert event["type"] == UNDECODABLE
    skipped: Skipped = event["skipped"]
    assert (skipped.name, skipped.namespace, skipped.resource_version, skipped.key) == ("b", "", "42", "b")
    assert decode_event(b'{"type":"ADDED","object":{"metadata":{"name":"a"}}}')["type"] == "ADDED"


def test_identify_without_metadata_is_empty_and_does_not_recurse() -> None:
    skipped = identify(b"[" * 200_000, "bad")
    assert skipped == Skipped("", "", "", "", "bad") and skipped.describe() == "an object of unknown name"


def test_large_documents_and_fallbacks_are_decoded_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real_to_thread = asyncio.to_thread

    async def to_thread(func: Any, /, *args: Any) -> Any:
        threads.append(func.__name__)
        return await real_to_thread(func, *args)

    monkeypatch.setattr(decode.asyncio, "to_thread", to_thread)
    monkeypatch.setattr(decode, "OFF_LOOP_BYTES", 100)
    small = orjson.dumps(item("a"))
    large = orjson.dumps({"items": [item(str(n)) for n in range(10)]})

    async def main() -> None:
        assert await decode.decode_async(b'{"a":1}') == {"a": 1}
        assert threads == []
        assert (await decode.decode_async(large))["items"][0] == item("0")
        assert (await decode.decode_list_async(b'{"items":[]}')) == ({"items": []}, [])
        assert len((await decode.decode_list_async(large))[0]["items"]) == 10
        assert (await decode.decode_event_async(b'{"type":"ADDED","object":{}}'))["type"] == "ADDED"
        assert (await decode.decode_event_async(b'{"type":"ADDED","object":' + small + b"}"))["type"] == "ADDED"
        bad = await decode.decode_event_async(b'{"type":"ADDED","object":' + poisoned("b") + b"}")
        assert bad["type"] == UNDECODABLE

    asyncio.run(main())
    assert threads == ["loads", "decode_list", "decode_event", "decode_event"]
