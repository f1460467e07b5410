"""Random pod templates shaped by rollouts/api/podtemplate_fields.json, for hash vectors.

Every struct type reachable from PodTemplateSpec can appear, with awkward
values on purpose: HTML characters, control characters, non-ASCII, quantities
in non-canonical form, int-or-string ports, absent non-omitempty fields.
With --quantities, templates that differ only in one quantity, spelled in
every way Go's ParseQuantity accepts (signs, leading zeros, "5.", exponents,
values past int64 and past the "E" suffix).
Usage: random_templates.py [--quantities] COUNT SEED > templates.json
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

LAYOUT = json.loads((Path(__file__).resolve().parents[3] / "rollouts/api/podtemplate_fields.json").read_text())
STRINGS = [
    "",
    "a",
    "nginx:1.19-alpine",
    "<b>&amp;</b>",
    "héllo wörld",
    "line\nbreak\ttab",
    'q"uote\\back',
    "\u2028sep\u2029",
    "ctl\x01\x1f",
    "bf\b\f",
    "del\x7f",
    "emoji \U0001f600",
    "/path?x=1&y=2",
]
QUANTITIES = ["0", "1", "5m", "0.5", "1.5", "100m", "1000m", "1Gi", "1024Mi", "1536Mi", "0.5Gi", "16Mi"]
QUANTITIES += ["128974848", "129e6", "1000", "2G", "1k", "0.1m", "1e3", "12Ki", "3.25"]
MAP_KEYS = ["b", "a", "Z", "z-1", "é", "cpu", "memory", "a/b"]


def value(type_ref: dict[str, Any], depth: int, rnd: random.Random) -> Any:
    kind = type_ref["kind"]
    if kind == "ptr":
        return value(type_ref["elem"], depth, rnd)
    if kind == "struct":
        return struct(type_ref["ref"], depth + 1, rnd)
    if kind == "slice":
        count = rnd.choice([0, 1, 1, 2, 3]) if depth < 6 else rnd.choice([0, 1])
        return [value(type_ref["elem"], depth, rnd) for _ in range(count)]
    if kind == "map":
        count = rnd.choice([0, 1, 2, 3])
        return {rnd.choice(MAP_KEYS) + str(i % 2): value(type_ref["elem"], depth, rnd) for i in range(count)}
    choices: dict[str, list[Any]] = {
        "string": STRINGS,
        "bool": [True, False],
        "int": [0, 1, 80, -3, 65535, 2147483647],
        "quantity": QUANTITIES,
        "intorstring": [0, 8080, "http", "25%", "80", ""],
        "time": ["2024-05-06T07:08:09Z", "2001-01-01T00:00:00Z"],
    }
    return rnd.choice(choices[kind])


def struct(ref: str, depth: int, rnd: random.Random) -> dict[str, Any]:
    fields = LAYOUT["structs"][ref]
    if fields is None:
        return {}
    chance = 0.6 if depth <= 2 else 0.3 if depth <= 4 else 0.12
    return {
        field["name"]: value(field["type"], depth, rnd)
        for field in fields
        if field["name"] != "managedFields" and rnd.random() < chance
    }


def quantities(count: int, rnd: random.Random) -> list[dict[str, Any]]:
    suffixes = ["", "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
    suffixes += ["e3", "E-2", "e+4", "e0", "e-9", "e12", "e-12"]
    numbers = ["0", "00", "1", "5", "10", "12", "100", "1000", "1024", "3000", "999", "123456", "007", ""]
    numbers += ["18446744073709551616", "9223372036854775807", "999999999999999999"]
    fractions = ["", "", "", ".", ".5", ".25", ".000", ".001", ".1234567890123", ".0000000001"]
    found: set[str] = set()
    while len(found) < count:
        number, fraction = rnd.choice(numbers), rnd.choice(fractions)
        if not number and not fraction.strip("."):
            number = "1"
        found.add(rnd.choice(["", "", "", "-", "+"]) + number + fraction + rnd.choice(suffixes))
    return [{"template": {"spec": {"overhead": {"cpu": q}}}} for q in sorted(found)]


def main() -> None:
    if sys.argv[1] == "--quantities":
        json.dump(quantities(int(sys.argv[2]), random.Random(int(sys.argv[3]))), sys.stdout)
        return
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rnd = random.Random(seed)
    items = []
    for _ in range(count):
        item: dict[str, Any] = {"template": struct(LAYOUT["root"], 0, rnd)}
        if rnd.random() < 0.2:
            item["collisionCount"] = rnd.choice([0, 1, 7, 2147483647, -1])
        items.append(item)
    json.dump(items, sys.stdout)


if __name__ == "__main__":
    main()
