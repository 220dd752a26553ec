"""No import circle between the package's files: every import statement counts.

Imports inside functions and under ``TYPE_CHECKING`` count too: a circle that only a deferred
import keeps from failing is still two modules that each need the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import aml_promotion

PACKAGE = Path(aml_promotion.__file__).parent

# None is known: every circle the adapters, the render module and the service had is gone.
KNOWN: set[frozenset[str]] = set()


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Return our modules that `module` imports, anywhere in it (a package's parents aside)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    named: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            named += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                kept = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*kept, *([node.module] if node.module else [])])
            named += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    found = set()
    for name in named:
        target = name
        while target and target not in modules:
            target = target.rpartition(".")[0]
        # Importing a submodule runs its package's __init__ first: that is no circle.
        if target and target != module and not module.startswith(target + "."):
            found.add(target)
    return found


def _circles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Return the strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = {stack.pop()}
            while node not in component:
                component.add(stack.pop())
            if len(component) > 1:
                circles.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_module_imports_one_that_imports_it_back() -> None:
    """Every import between the package's modules runs one way (the known circles aside)."""
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _circles(graph) == KNOWN


def test_the_circle_finder_finds_a_circle() -> None:
    """A two-module circle and a three-module one are found; a one-way chain is not a circle."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert _circles(graph) == {frozenset({"a", "b"}), frozenset({"c", "d", "e"})}
