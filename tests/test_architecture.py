"""The shape of the genobench package, read from its source: module-level imports form no cycle,
no module reaches into another's underscore names (a shared kernel gets a public home), and no
module grows past a page or two (600 lines)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "genobench"
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _base(module: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names (``from ..x import y`` in ``module``)."""
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _targets(module: str, node) -> list[tuple[str, str | None]]:
    """(imported genobench module, name imported from it or None) for one import statement."""
    if isinstance(node, ast.Import):
        return [(alias.name, None) for alias in node.names if alias.name in MODULES]
    base = _base(module, node)
    found = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        if submodule in MODULES:
            found.append((submodule, None))
        elif base in MODULES:
            found.append((base, alias.name))
    return found


def _module_level_imports(tree: ast.Module):
    """Import statements run when the module is imported: at top level, also inside a
    top-level ``try`` or ``if`` (except ``if TYPE_CHECKING``)."""
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.Try):
            yield from (n for n in node.body if isinstance(n, (ast.Import, ast.ImportFrom)))
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            yield from (n for n in node.body + node.orelse
                        if isinstance(n, (ast.Import, ast.ImportFrom)))


TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}
GRAPH = {name: sorted({target for node in _module_level_imports(tree)
                       for target, _ in _targets(name, node) if target != name})
         for name, tree in TREES.items()}


def _cycle() -> list[str] | None:
    """One import cycle among the modules, as a path that returns to its start; else None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in GRAPH[module]:
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in GRAPH:
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_walk_sees_the_package():
    assert {"genobench", "genobench.cli", "genobench.records", "genobench.report.render",
            "genobench.executors.process", "genobench.kernels.gwas"} <= set(MODULES)
    assert "genobench.records" in GRAPH["genobench.runner"]


def test_no_import_cycle_among_genobench_modules():
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _underscore_uses(module: str, tree: ast.Module) -> list[str]:
    """``from genobench.x import _name`` and ``x._name`` (x an imported genobench module),
    anywhere in ``module``; dunder names (``__version__``, ``__all__``) are public."""
    private = lambda name: name.startswith("_") and not name.startswith("__")  # noqa: E731
    uses, aliases = [], {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        for target, name in _targets(module, node):
            if name is not None and private(name):
                uses.append(f"line {node.lineno}: {name} from {target}")
        for alias in node.names:
            bound = alias.asname or alias.name
            if isinstance(node, ast.Import):
                if alias.name in MODULES:
                    aliases[bound] = alias.name
            elif f"{_base(module, node)}.{alias.name}" in MODULES:
                aliases[bound] = f"{_base(module, node)}.{alias.name}"
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in aliases
                and aliases[node.value.id] != module):
            uses.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return uses


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_reaches_into_another_modules_underscore_names(module):
    assert _underscore_uses(module, TREES[module]) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_600_lines(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[module]}: {lines} lines; split it by topic"
