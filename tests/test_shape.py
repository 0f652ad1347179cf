"""The package's shape, checked rather than described (docs/development.md): no import cycle (imports
inside functions and under `TYPE_CHECKING` count), no class built of mixins or of other classes of
the package (an error or an event type under its one base is fine), no function over 60 lines, no
two modules of one file name."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "motion_studio"
MAX_LINES = 60


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()
TREES = {name: ast.parse(path.read_text()) for name, path in MODULES.items()}


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The package's modules an import statement loads, its parent packages included."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            here = module.split(".")
            if MODULES[module].name != "__init__.py":
                here = here[:-1]
            here = here[: len(here) - (node.level - 1)]
            base = ".".join([*here, *([node.module] if node.module else [])])
        names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
    for name in names:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            candidate = ".".join(parts[:end])
            if candidate in MODULES and candidate != module and not module.startswith(candidate + "."):
                yield candidate


def _graph() -> dict[str, set[str]]:
    return {
        module: {
            target
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for target in _imported(module, node)
        }
        for module, tree in TREES.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_no_function_over_sixty_lines() -> None:
    long = [
        f"{MODULES[module].relative_to(PACKAGE.parent)}:{node.lineno} {node.name} ({lines} lines)"
        for module, tree in TREES.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (lines := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_LINES
    ]
    assert long == []


def test_no_class_is_built_of_the_packages_own_classes() -> None:
    """A class may have one base of the package only when both are of one family of types (errors
    under `StudioError`, events under `JobEvent`): behaviour comes from objects a class holds."""
    own = {node.name for tree in TREES.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    families = {"StudioError", "JobEvent"}
    errors = {"InputError"}  # itself a StudioError, with errors under it
    built = []
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = [ast.unparse(base).split(".")[-1] for base in node.bases]
            mine = [base for base in bases if base in own]
            if (
                len(mine) > 1
                or (mine and mine[0] not in families | errors)
                or any("Mixin" in b for b in bases)
            ):
                built.append(
                    f"{MODULES[module].relative_to(PACKAGE.parent)}: {node.name}({', '.join(bases)})"
                )
    assert built == []


def test_no_two_modules_share_a_file_name() -> None:
    """A file name says which module it is (in a traceback, an editor's tab, a search): no two modules
    of the package share one, `__init__.py` aside."""
    paths: dict[str, list[str]] = {}
    for path in MODULES.values():
        if path.name != "__init__.py":
            paths.setdefault(path.name, []).append(str(path.relative_to(PACKAGE.parent)))
    assert {name: sorted(found) for name, found in paths.items() if len(found) > 1} == {}
