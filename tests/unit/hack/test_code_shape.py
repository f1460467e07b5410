"""The legibility limits of docs/architecture.md §2 hold for the package, and the checker finds what it should."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]


def _load_code_shape() -> ModuleType:
    spec = importlib.util.spec_from_file_location("code_shape", REPO / "hack" / "code_shape.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["code_shape"] = module
    spec.loader.exec_module(module)
    return module


code_shape = _load_code_shape()


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "rollouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_package_meets_every_limit(capsys: pytest.CaptureFixture[str]) -> None:
    problems = code_shape.report(code_shape.scan(REPO), top=0)
    capsys.readouterr()
    assert problems == []


def test_a_deferred_import_that_closes_a_cycle_is_a_cycle(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from rollouts import b\n",
            "b.py": "def f() -> None:\n    from rollouts.a import g\n",
            "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rollouts import a\n",
        },
    )
    assert code_shape.cycles(code_shape.scan(root)) == [["rollouts.a", "rollouts.b"]]


def test_private_names_used_across_modules_are_found(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "_hidden = 1\n__version__ = '1'\n",
            "b.py": "from rollouts.a import _hidden, __version__\n",
            "c.py": "from rollouts import a\nx = a._hidden\n",
            "d.py": "import rollouts.a as alias\ny = alias._hidden\n",
        },
    )
    modules = code_shape.scan(root)
    assert modules["rollouts.b"].private_imports == ["rollouts.a:_hidden"]
    assert modules["rollouts.c"].private_imports == ["rollouts.a:_hidden"]
    assert modules["rollouts.d"].private_imports == ["rollouts.a:_hidden"]


def test_oversized_modules_and_classes_are_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big_class = "class Big:\n" + "    x = 1\n" * (code_shape.MAX_CLASS_LINES + 1)
    filler = "y = 2\n" * (code_shape.MAX_MODULE_LINES + 1)
    root = _package(tmp_path, {"__init__.py": "", "big.py": big_class + filler})
    problems = code_shape.report(code_shape.scan(root), top=5)
    capsys.readouterr()
    assert any(p.startswith("module rollouts/big.py has") for p in problems)
    assert any(p.startswith("class rollouts.big.Big has") for p in problems)
