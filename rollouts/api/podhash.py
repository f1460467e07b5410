"""The pod-template hash, computed exactly as Argo Rollouts computes it.

Argo names ReplicaSets `<rollout>-<hash>` where the hash is FNV-32a over Go's
`json.Marshal` of the corev1.PodTemplateSpec (plus the collisionCount as 8
little-endian bytes when set), printed in decimal and mapped through
`rand.SafeEncodeString`. Matching it byte for byte lets a cluster move between
Argo's controller and ours without replacing pods. Python dicts do not know Go's
struct field order, omitempty/omitzero rules or quantity canonical form, so we
replay the struct layout generated from k8s.io/api by
hack/gen-podtemplate-order.sh (podtemplate_fields.json).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from rollouts.api.common import InvalidValueError, shown
from rollouts.api.constants import POD_TEMPLATE_HASH_LABEL
from rollouts.api.numbers import INT64_MAX, INT64_MIN
from rollouts.api.quantity import QuantityError, go_quantity_string

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


@cache
def _layout() -> dict[str, Any]:
    text = resources.files("rollouts.api").joinpath("podtemplate_fields.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def fnv32a(data: bytes) -> int:
    value = _FNV_OFFSET
    for byte in data:
        value ^= byte
        value = (value * _FNV_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """apimachinery's rand.SafeEncodeString: each byte to the vowel-free alphabet."""
    return "".join(_SAFE_ALPHABET[ord(ch) % len(_SAFE_ALPHABET)] for ch in text)


def _go_string(value: str) -> str:
    # Go escapes HTML-significant characters and the JS line separators.
    encoded = json.dumps(value, ensure_ascii=False)
    return (
        encoded.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


_STRUCT_LIKE = frozenset({"struct", "quantity", "intorstring", "time"})


def _is_empty(value: Any, kind: str) -> bool:
    """Go's omitempty: false, 0, "", nil pointer, empty slice/map. Never a struct (even an absent one)."""
    if kind in _STRUCT_LIKE:
        return False
    if value is None:
        return True
    if kind in ("string", "bytes", "slice", "map"):
        return len(value) == 0
    if kind == "bool":
        return value is False
    if kind in ("int", "float"):
        return bool(value == 0)
    return False


def _is_zero(value: Any, kind: str) -> bool:
    """Go's omitzero: the type's zero value (a nil/absent value, or an empty struct)."""
    if value is None:
        return True
    if kind == "struct":
        return isinstance(value, dict) and all(v is None for v in value.values())
    if kind in _STRUCT_LIKE:
        return False
    return _is_empty(value, kind)


# What Go writes for a field that is absent (or null) in the input: Go's
# json.Unmarshal leaves the field at its zero value, and Marshal writes that.
_ZERO_JSON = {
    "ptr": "null",
    "slice": "null",
    "map": "null",
    "bytes": "null",
    "string": '""',
    "int": "0",
    "float": "0",
    "bool": "false",
    "quantity": '"0"',
    "intorstring": "0",
    "time": "null",
}


class TemplateTypeError(InvalidValueError):
    """A pod template value of the wrong JSON type (Go's json.Unmarshal would refuse it)."""


_EXPECTED: dict[str, tuple[tuple[type, ...], str]] = {
    "struct": ((dict,), "an object"),
    "map": ((dict,), "an object"),
    "slice": ((list,), "a list"),
    "string": ((str,), "a string"),
    "bool": ((bool,), "a boolean"),
    "int": ((int,), "an integer"),
    "float": ((int, float), "a number"),
    "quantity": ((str, int, float), "a quantity"),
    "intorstring": ((int, str), "an integer or a string"),
    "time": ((str,), "a timestamp string"),
}


def _check(value: Any, kind: str, path: str) -> None:
    expected = _EXPECTED.get(kind)
    if expected is None:
        return
    types, what = expected
    wrong_bool = isinstance(value, bool) and bool not in types
    if wrong_bool or not isinstance(value, types):
        raise TemplateTypeError(f"{path}: expected {what}, got {shown(value)}")
    if kind in ("int", "intorstring") and isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        # Go reads these into int32/int64 and refuses the object; so do we, before str() meets 5000 digits.
        raise TemplateTypeError(f"{path}: {shown(value)} is out of range for a 64-bit integer")


def _go_time(value: str, path: str) -> str:
    """metav1.Time round trip: RFC 3339 in, UTC to the second out."""
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as error:
        raise TemplateTypeError(f"{path}: not an RFC 3339 time: {shown(value)}") from error
    if parsed.tzinfo is None:
        raise TemplateTypeError(f"{path}: not an RFC 3339 time (no zone): {shown(value)}")
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode(value: Any, type_ref: dict[str, Any], path: str) -> str:
    kind = type_ref["kind"]
    if value is None:
        if kind == "struct":
            return _encode_struct({}, type_ref["ref"], path)
        return _ZERO_JSON.get(kind, "null")
    if kind == "ptr":
        return _encode(value, type_ref["elem"], path)
    _check(value, kind, path)
    if kind == "struct":
        return _encode_struct(value, type_ref["ref"], path)
    if kind == "slice":
        return "[" + ",".join(_encode(item, type_ref["elem"], f"{path}[{i}]") for i, item in enumerate(value)) + "]"
    if kind == "map":
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_go_string(k)}:{_encode(v, type_ref['elem'], f'{path}.{k}')}" for k, v in items) + "}"
    if kind == "time":
        return _go_string(_go_time(value, path))
    if kind == "string":
        return _go_string(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "int":
        return str(value)
    if kind == "float":
        return json.dumps(value)
    if kind == "quantity":
        try:
            return _go_string(go_quantity_string(str(value)))
        except QuantityError as error:
            raise TemplateTypeError(f"{path}: {error}") from error
    if kind == "intorstring":
        return str(value) if isinstance(value, int) else _go_string(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _encode_struct(value: dict[str, Any], ref: str, path: str) -> str:
    fields = _layout()["structs"][ref]
    if fields is None:  # raw JSON types (FieldsV1): Go writes the bytes as given
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    parts = []
    for field in fields:
        name = field["name"]
        type_ref = field["type"]
        item = value.get(name)
        base_kind = type_ref["kind"]
        zero_kind = type_ref["elem"]["kind"] if base_kind == "ptr" else base_kind
        field_path = f"{path}.{name}"
        if item is not None:
            _check(item, zero_kind, field_path)
        if field.get("omitzero") and _is_zero(item, zero_kind):
            continue
        if field["omitempty"]:
            if base_kind == "ptr":
                if item is None:
                    continue
            elif _is_empty(item, base_kind):
                continue
        parts.append(f"{_go_string(name)}:{_encode(item, type_ref, field_path)}")
    return "{" + ",".join(parts) + "}"


def go_json_pod_template(template: dict[str, Any], *, path: str = "spec.template") -> bytes:
    """Go's json.Marshal of a corev1.PodTemplateSpec given as a dict.

    Raises TemplateTypeError (an InvalidValueError) naming the field, under
    `path`, when a value has a type Go's json.Unmarshal would refuse.
    """
    layout = _layout()
    _check(template if template is not None else {}, "struct", path)
    return _encode_struct(template or {}, layout["root"], path).encode()


def compute_pod_template_hash(template: dict[str, Any], collision_count: int | None = None) -> str:
    data = go_json_pod_template(template)
    if collision_count is not None:
        # Go writes uint32(collisionCount) little-endian into an 8-byte buffer.
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\0\0\0\0"
    return safe_encode(str(fnv32a(data)))


def _semantic(value: Any) -> Any:
    """apimachinery's Semantic.DeepEqual view: nil and empty slices are equal."""
    if isinstance(value, dict):
        return {k: _semantic(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_semantic(v) for v in value]
    return value


def pod_template_equal_ignore_hash(live: dict[str, Any], desired: dict[str, Any]) -> bool:
    """Argo's PodTemplateEqualIgnoreHash: same template once the hash label is ignored.

    Used to adopt a ReplicaSet whose hash label differs from ours (a hash that
    changed with a Kubernetes library upgrade) instead of replacing its pods.
    `live` comes from a ReplicaSet, so the API server has defaulted it; Argo
    defaults `desired` with the core/v1 defaulters first. Do the same before
    calling this, e.g. with a server-side dry-run create of a v1 PodTemplate
    holding `desired`. The deprecated spec.serviceAccount is ignored, as in Argo.
    Both are compared as Go would see them (field set, quantity canonical form).
    """
    views = []
    for template in (live, desired):
        data = json.loads(go_json_pod_template(template))
        (data.get("metadata") or {}).get("labels", {}).pop(POD_TEMPLATE_HASH_LABEL, None)
        if not (data.get("metadata") or {}).get("labels"):
            (data.get("metadata") or {}).pop("labels", None)
        (data.get("spec") or {}).pop("serviceAccount", None)
        views.append(_semantic(data))
    return bool(views[0] == views[1])
