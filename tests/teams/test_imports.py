"""The Teams adapter's modules import one another without a circle (imports for type checking only and
imports inside functions are not counted: they do not run when a module is loaded)."""

from __future__ import annotations

import ast
from pathlib import Path

import adapters.teams

PACKAGE = "adapters.teams"
FOLDER = Path(adapters.teams.__file__).parent


def load_time_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:  # module level only
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found.update(f"{PACKAGE}.{alias.name}" for alias in node.names)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(PACKAGE + "."))
    return found


def test_no_import_circle_in_the_teams_adapter():
    modules = {f"{PACKAGE}.{p.stem}": p for p in FOLDER.glob("*.py") if p.stem != "__init__"}
    graph = {name: {m for m in load_time_imports(path) if m in modules} for name, path in modules.items()}
    assert graph[f"{PACKAGE}.runtime"] >= {f"{PACKAGE}.conversations", f"{PACKAGE}.errors"}, "the check sees imports"

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, "import circle: " + " -> ".join(path + (name,))
        for nxt in graph[name]:
            visit(nxt, path + (name,))

    for name in graph:
        visit(name, ())
