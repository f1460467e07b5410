"""Every status key the rollout core reads with .get() is a key of the typed status.

mypy --strict rejects a misspelt key in `status["key"]` and in a TypedDict
literal, but `status.get("key")` of an unknown key only types as `object`;
this test closes that gap for the names the core uses for status values.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from rollouts.rollout import status as typed

CORE = Path(typed.__file__).parent
MODULES = sorted(
    path
    for path in CORE.glob("*.py")
    if path.stem not in {"controller", "workload", "analysis", "replicasets", "restart", "canary_math", "scaling"}
)
# How the core names a value of each typed status part.
RECEIVERS: dict[str, Any] = {
    **dict.fromkeys(
        ["old", "new", "status", "previous", "ctx.old", "ctx.base", "self.old", "canary.ctx.old", "bg.ctx.old"],
        typed.RolloutStatus,
    ),
    **dict.fromkeys(["condition", "current", "progressing", "paused_condition"], typed.Condition),
    **dict.fromkeys(["pause", "existing", "p"], typed.PauseCondition),
    **dict.fromkeys(["old_bg", "blue_green"], typed.BlueGreenStatus),
    "old_canary": typed.CanaryStatus,
}
PARTS = {"blueGreen": typed.BlueGreenStatus, "canary": typed.CanaryStatus}


def _reads(tree: ast.AST) -> list[tuple[int, str, str, Any]]:
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            continue
        receiver = node.func.value
        # (status.get("blueGreen") or {}).get("activeSelector")
        if isinstance(receiver, ast.BoolOp) and isinstance(receiver.values[0], ast.Call):
            inner = receiver.values[0]
            if (
                isinstance(inner.func, ast.Attribute)
                and inner.func.attr == "get"
                and ast.unparse(inner.func.value) in RECEIVERS
                and isinstance(inner.args[0], ast.Constant)
                and inner.args[0].value in PARTS
            ):
                found.append((node.lineno, ast.unparse(receiver), node.args[0].value, PARTS[inner.args[0].value]))
            continue
        name = ast.unparse(receiver)
        if name in RECEIVERS:
            found.append((node.lineno, name, node.args[0].value, RECEIVERS[name]))
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_status_reads_use_known_keys(path: Path) -> None:
    tree = ast.parse(path.read_text())
    unknown = [
        f"{path.name}:{line}: {name}.get({key!r})"
        for line, name, key, kind in _reads(tree)
        if key not in kind.__annotations__
    ]
    assert not unknown, unknown


def test_the_scan_sees_the_core() -> None:
    reads = [read for path in MODULES for read in _reads(ast.parse(path.read_text()))]
    assert len(reads) > 100
