"""The house a newcomer reads: no import circles in ``ui/`` and ``denoise_core/``, and no module too long to read.

Both are read from the source (AST), not by importing it, so an import made
inside a function counts as much as one at the top of a module: a circle that
only closes when a function runs is still a circle to whoever reads the code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ui", "denoise_core")

#: Longest module, in lines, that reads in one sitting.
MAX_LINES = 450
#: Modules allowed over :data:`MAX_LINES`, each with its reason. Remove an entry once its module is split.
LONG_MODULES = {
    "denoise_core/cli/batch.py": "the batch runner: planning, a local pool and Dask, with their progress and summary",
    "denoise_core/gain.py": "the OM-LSA gain: E1 table, decision-directed SNR, frame presence and the pause floor",
    "denoise_core/hum.py": "mains hum: detection, the phase-locked remover and the de-hummed source, one subject",
    "denoise_core/loudness.py": "ITU-R BS.1770: the loudness meter, the true-peak meter and the limiter",
    "denoise_core/noise.py": "all of noise estimation in one place: profile, survey, tracker and minimum statistics",
}


def _modules() -> dict[str, Path]:
    """Every module of the packages by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The packages' modules one import statement in ``module`` names (``from pkg import mod`` names ``pkg.mod``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return {_nearest(name, known) for name in names} - {None}
    if node.level:  # relative: from the module's package (a package's own __init__ is its package)
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    found = set()
    for alias in node.names:
        candidate = f"{target}.{alias.name}"
        found.add(candidate if candidate in known else _nearest(target, known))
    return found - {None}


def _nearest(name: str, known: set[str]) -> str | None:
    """``name`` or its closest enclosing module among ``known`` (``None`` outside the packages)."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in known:
            return ".".join(parts)
        parts.pop()
    return None


def import_graph() -> dict[str, set[str]]:
    """Which of the packages' modules each one imports, at module level or inside any function."""
    modules = _modules()
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _imported(node, name, is_package, known)
        graph[name] = edges - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as ``[a, b, ..., a]``, or ``None`` (depth-first search)."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_sees_relative_absolute_and_function_level_imports():
    graph = import_graph()
    assert "ui.budget" in graph["ui.loading"]  # ``from . import budget, limits``
    assert "ui.limits" in graph["ui.budget"]  # ``from .limits import ...``
    assert "denoise_core" in graph["ui.page"]  # ``from denoise_core import DenoiseError``
    assert "ui.pooling" in graph["ui.preview"] and "ui.plots" not in graph["ui.preview"]
    # A circle only a function closes is found too.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_there_is_no_import_circle_in_the_app_or_the_engine():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def _lengths() -> dict[str, int]:
    return {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def test_no_module_is_longer_than_one_sitting_unless_listed_with_a_reason():
    too_long = {path: n for path, n in _lengths().items() if n > MAX_LINES and path not in LONG_MODULES}
    assert not too_long, f"over {MAX_LINES} lines: {too_long}; split them, or list them in LONG_MODULES with a reason"


@pytest.mark.parametrize("path", sorted(LONG_MODULES))
def test_each_listed_long_module_is_still_long(path):
    """An entry outlives its reason once the module is split or gone: remove it then."""
    assert _lengths().get(path, 0) > MAX_LINES, f"{path} is now short enough: remove it from LONG_MODULES"
