"""``tools`` is the bottom layer: it imports nothing of ours above it, starts none of it as a
process, and our modules import each other without a cycle (read from the source, so an import
inside a function counts too; one under ``if TYPE_CHECKING:`` does not, it never runs)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "bench", "evals", "memory", "tools", "ui")
ABOVE_TOOLS = re.compile(r"(agent|evals|memory|ui)(\.\w+)*")


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = {name: path for package in PACKAGES for name, path in _modules(package).items()}


def _runtime_nodes(tree: ast.AST):
    """Every node, less the bodies of ``if TYPE_CHECKING:`` (imports for annotations only)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _imports(name: str, path: Path) -> set[str]:
    """Our modules that ``name`` imports at run time: ``from a.b import c`` is ``a.b.c`` when that
    is a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        out |= {t for t in targets if t.split(".")[0] in PACKAGES}
    return out


GRAPH = {name: {t for t in _imports(name, path) if t in MODULES and t != name} for name, path in MODULES.items()}


def test_tools_import_nothing_above_them():
    upward = {name: sorted(t for t in _imports(name, path) if not t.startswith("tools"))
              for name, path in MODULES.items() if name.startswith("tools")}
    assert not {k: v for k, v in upward.items() if v}


def test_tools_start_nothing_above_them():
    """No module path of ours above tools as a string (what `python -m X` or importlib would take)."""
    found = {}
    for name, path in MODULES.items():
        if name.startswith("tools"):
            tree = ast.parse(path.read_text())
            docstrings = {id(n.body[0].value) for n in ast.walk(tree) if isinstance(
                n, ast.Module | ast.FunctionDef | ast.ClassDef) and n.body and isinstance(n.body[0], ast.Expr)}
            names = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                     and id(n) not in docstrings and ABOVE_TOOLS.fullmatch(n.value)]
            if names:
                found[name] = names
    assert not found


def test_no_import_cycle():
    """Edges into a package's own ``__init__`` are left out: importing ``a.b`` runs ``a`` first by
    design, which is no cycle of ours unless ``a/__init__`` imports back."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles
