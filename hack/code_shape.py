"""Reports the shape of the `rollouts` package: module and class sizes, import cycles, private imports.

Why: the reconcile and its neighbours stay legible only while no module grows
past a screenful of concerns, no class becomes a god object, and no module
reaches into another's private names. This script measures exactly those
limits (see docs/architecture.md) so anyone can check them before and after a
change; `--check` exits non-zero when a limit is broken, which the unit suite
runs.

Usage: python hack/code_shape.py [--root DIR] [--check] [--top N]
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 300
PACKAGE = "rollouts"


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    classes: dict[str, int] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)
    """Modules of the package this one imports, at load time or deferred."""
    private_imports: list[str] = field(default_factory=list)
    """`module:name` for each private (underscore) name imported from another module of the package."""


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import that can run, at load time or deferred inside a function (TYPE_CHECKING excluded).

    A deferred import that closes a cycle is still a cycle: it only hides it from the interpreter.
    """
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
            continue
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def scan(root: Path) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    trees: dict[str, ast.Module] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        name = _module_name(root, path)
        source = path.read_text()
        tree = ast.parse(source)
        module = Module(name=name, path=path.relative_to(root), lines=len(source.splitlines()))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                module.classes[node.name] = node.end_lineno - node.lineno + 1
        is_package = path.name == "__init__.py"
        for node in _runtime_imports(tree):
            if isinstance(node, ast.Import):
                module.imports.update(a.name for a in node.names if a.name.startswith(PACKAGE + "."))
                continue
            target = _resolve(name, node, is_package)
            if target != PACKAGE and not target.startswith(PACKAGE + "."):
                continue
            module.imports.add(target)
            # `from rollouts.x import y` where y is a submodule imports rollouts.x.y too (kept if it exists).
            module.imports.update(f"{target}.{alias.name}" for alias in node.names)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(name, node, is_package)
                if not target.startswith(PACKAGE):
                    continue
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        module.private_imports.append(f"{target}:{alias.name}")
        modules[name] = module
        trees[name] = tree
    for name, tree in trees.items():
        modules[name].private_imports += _private_attribute_uses(tree, name, modules)
    for module in modules.values():
        module.imports = {imp for imp in module.imports if imp in modules and imp != module.name}
    return modules


def _private_attribute_uses(tree: ast.Module, name: str, modules: dict[str, Module]) -> list[str]:
    """`module:_name` for each `alias._name` where alias is one of our modules imported under that alias."""
    aliases: dict[str, str] = {}
    is_package = modules[name].path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules and alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, node, is_package)
            for alias in node.names:
                if f"{target}.{alias.name}" in modules:
                    aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
    uses: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            uses.append(f"{aliases[node.value.id]}:{node.attr}")
    return sorted(set(uses))


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of more than one module in the import graph (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work: list[tuple[str, list[str]]] = [(start, sorted(modules[start].imports))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            if children:
                child = children.pop()
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(modules[child].imports)))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                # A package importing its own submodules is not a cycle worth reporting.
                if len(component) > 1 and not _package_and_children(component):
                    found.append(sorted(component))

    for name in sorted(modules):
        if name not in index:
            visit(name)
    return found


def _package_and_children(component: list[str]) -> bool:
    shortest = min(component, key=len)
    return all(member == shortest or member.startswith(shortest + ".") for member in component)


def report(modules: dict[str, Module], *, top: int) -> list[str]:
    problems: list[str] = []
    by_size = sorted(modules.values(), key=lambda m: m.lines, reverse=True)
    classes = sorted(
        ((lines, f"{m.name}.{cls}") for m in modules.values() for cls, lines in m.classes.items()), reverse=True
    )
    print(f"modules: {len(modules)}, lines: {sum(m.lines for m in modules.values())}")
    print(f"\nlargest modules (limit {MAX_MODULE_LINES}):")
    for module in by_size[:top]:
        flag = "  OVER" if module.lines > MAX_MODULE_LINES else ""
        print(f"  {module.lines:5d}  {module.path}{flag}")
    print(f"\nlargest classes (limit {MAX_CLASS_LINES}):")
    for lines, qualname in classes[:top]:
        flag = "  OVER" if lines > MAX_CLASS_LINES else ""
        print(f"  {lines:5d}  {qualname}{flag}")
    problems += [f"module {m.path} has {m.lines} lines" for m in by_size if m.lines > MAX_MODULE_LINES]
    problems += [f"class {q} has {n} lines" for n, q in classes if n > MAX_CLASS_LINES]
    found_cycles = cycles(modules)
    print(f"\nimport cycles (load-time and deferred imports): {len(found_cycles)}")
    for cycle in found_cycles:
        print("  " + " <-> ".join(cycle))
        problems.append("import cycle: " + ", ".join(cycle))
    private = [(m.name, imp) for m in modules.values() for imp in m.private_imports]
    print(f"\nprivate names imported across modules: {len(private)}")
    for importer, imported in private:
        print(f"  {importer} imports {imported}")
        problems.append(f"{importer} imports private {imported}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--check", action="store_true", help="exit 1 when a limit is broken")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    problems = report(scan(args.root), top=args.top)
    if args.check and problems:
        print(f"\n{len(problems)} problem(s):", *problems, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
