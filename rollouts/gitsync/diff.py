"""Drift detection: do the fields Git sets still hold in the live object?

We compare what we applied (the desired object) with the live object, field by
field, looking only at the fields the desired object sets: the API server's
defaults, status, and fields other managers own (an HPA's replicas, a
controller's annotations) are not drift. A `kubectl edit` of a field Git sets
is. Lists of objects are matched by `name` when every item has one
(containers, env, ports with names, volumes), else by position, so a
defaulted field inside a container is ignored but a changed image is not.
A Secret's `stringData` is compared as the base64 `data` the server turns it
into (it never stores stringData). Resource quantities are compared by value, because the API server stores
them canonically ("0.5" comes back as "500m", "1024Mi" as "1Gi"): comparing
the text would show every such manifest OutOfSync and re-apply it forever.

`project()` gives the live object restricted to the desired object's shape,
which is what `rollouts gitsync diff` prints against the desired manifest.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from rollouts.api.quantity import QuantityError, parse_quantity

# Never compared: the server owns these, or they do not round-trip.
_IGNORED_METADATA = ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields", "selfLink")


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "name" in item for item in items)


# Maps whose values are resource.Quantity (container resources, PVC capacity, ResourceQuota, ...).
_QUANTITY_MAPS = frozenset({"limits", "requests", "capacity", "hard", "allocatable", "overhead"})
_QUANTITY_FIELDS = frozenset({"sizeLimit"})


def _is_quantity_path(path: str) -> bool:
    parts = path.split(".")
    return parts[-1] in _QUANTITY_FIELDS or (len(parts) >= 2 and parts[-2] in _QUANTITY_MAPS)


def _same_quantity(desired: Any, live: Any) -> bool:
    if isinstance(desired, bool) or isinstance(live, bool):
        return False
    try:
        return parse_quantity(str(desired))[0] == parse_quantity(str(live))[0]
    except QuantityError:
        return False


def _scalar_equal(desired: Any, live: Any, path: str = "") -> bool:
    if desired == live:
        return True
    if _is_quantity_path(path) and _same_quantity(desired, live):
        return True
    # YAML may say 80 where the server keeps "80" (or the reverse) for int-or-string fields.
    if isinstance(desired, (int, float, str)) and isinstance(live, (int, float, str)):
        return not isinstance(desired, bool) and not isinstance(live, bool) and str(desired) == str(live)
    return False


def as_stored(desired: dict[str, Any]) -> dict[str, Any]:
    """`desired` as the API server stores it, where it rewrites what it is given: Secret stringData -> data."""
    string_data = desired.get("stringData")
    if desired.get("kind") != "Secret" or not isinstance(string_data, dict):
        return desired
    stored = copy.deepcopy(desired)
    data = dict(stored.get("data") or {})
    for key, value in stored.pop("stringData").items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    stored["data"] = data
    return stored


def differences(desired: Any, live: Any, path: str = "") -> list[str]:
    """Paths (like `.spec.template.spec.containers[app].image`) where `live` differs from `desired`."""
    if path == "" and isinstance(desired, dict):
        desired = as_stored(desired)
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return [path or "."]
        found: list[str] = []
        for key, value in desired.items():
            if path == ".metadata" and key in _IGNORED_METADATA:
                continue
            if key == "status" and path == "":
                continue
            if value is None:  # an explicit null in YAML sets nothing
                continue
            if key not in live:
                if value in ({}, []):
                    continue  # the server drops empty maps and lists
                found.append(f"{path}.{key}")
                continue
            found.extend(differences(value, live[key], f"{path}.{key}"))
        return found
    if isinstance(desired, list):
        if not isinstance(live, list):
            return [path]
        if _named(desired) and _named(live):
            by_name = {item["name"]: item for item in live}
            found = []
            for item in desired:
                match = by_name.get(item["name"])
                if match is None:
                    found.append(f"{path}[{item['name']}]")
                else:
                    found.extend(differences(item, match, f"{path}[{item['name']}]"))
            return found
        if len(desired) != len(live):
            return [path]
        return [
            diff for index, item in enumerate(desired) for diff in differences(item, live[index], f"{path}[{index}]")
        ]
    return [] if _scalar_equal(desired, live, path) else [path]


def project(desired: Any, live: Any) -> Any:
    """`live` cut down to the fields `desired` sets (missing ones left out), for display."""
    if isinstance(desired, dict) and isinstance(live, dict):
        return {key: project(desired[key], live[key]) for key in desired if key in live and key != "status"}
    if isinstance(desired, list) and isinstance(live, list):
        if _named(desired) and _named(live):
            by_name = {item["name"]: item for item in live}
            order = [item["name"] for item in desired if item["name"] in by_name]
            extra = [item["name"] for item in live if item["name"] not in set(order)]
            desired_by_name = {item["name"]: item for item in desired}
            return [project(desired_by_name.get(name, by_name[name]), by_name[name]) for name in order + extra]
        return [project(desired[i], item) if i < len(desired) else item for i, item in enumerate(live)]
    return live


def comparable(desired: dict[str, Any]) -> dict[str, Any]:
    """The desired object without what the server rewrites on its own (for display)."""
    result = {key: value for key, value in as_stored(desired).items() if key != "status"}
    metadata = dict(result.get("metadata") or {})
    for key in _IGNORED_METADATA:
        metadata.pop(key, None)
    result["metadata"] = metadata
    return result
