"""The shape of the code: no import circles anywhere (type-checking imports count too), nothing in bot/
imports dialogs/ or adapters/ except the composition points, and dialogs/ is conversation only."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "dialogs", "adapters")
# where the coach is put together: the server, the command line and the terminal chat
COMPOSITION = {"bot.server", "bot.cli", "bot.console"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def imports_of(path: Path, known: set[str], *, in_functions: bool = True) -> set[str]:
    """The project modules a file imports: at module level, under TYPE_CHECKING, and (optionally) inside
    functions."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = ast.walk(tree) if in_functions else iter(tree.body)
    for node in nodes:
        if isinstance(node, ast.If) and not in_functions:
            nodes_inside = node.body
        else:
            nodes_inside = [node]
        for inner in nodes_inside:
            names: list[str] = []
            if isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                # `from bot import messages` imports the module bot.messages; `from bot.x import y`, bot.x
                names = [f"{inner.module}.{a.name}" if f"{inner.module}.{a.name}" in known else inner.module
                         for a in inner.names]
            elif isinstance(inner, ast.Import):
                names = [a.name for a in inner.names]
            for name in names:
                while name and name not in known:
                    name = name.rpartition(".")[0]
                if name:
                    found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(path, known) - {name} for name, path in mods.items()}


def test_no_import_circles():
    g = graph()
    assert g["bot.turn"] >= {"bot.context", "bot.store"}, "the check sees imports"
    # a package's __init__ importing its own submodules is how packages work, not a circle
    edges = {a: {b for b in targets if not (a and b.startswith(a + "."))} for a, targets in g.items()}
    state: dict[str, int] = {}
    circles: list[str] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(edges.get(name, ())):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(path[path.index(nxt):] + [name, nxt]) if nxt in path else f"{name} -> {nxt}")
            elif nxt not in state:
                visit(nxt, path + [name])
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [])
    assert circles == []


def test_bot_reaches_dialogs_and_adapters_only_where_the_coach_is_built():
    for name, targets in graph().items():
        if name.startswith("bot") and name not in COMPOSITION:
            outside = {t for t in targets if t.startswith(("dialogs", "adapters"))}
            assert outside == set(), name


def test_dialogs_are_conversation_only():
    """Steps read and change a context: no store, no core, no platform, no feature module."""
    allowed = {"bot.context", "bot.messages", "bot.matching", "bot.plans", "bot.recommend", "bot.types"}
    for name, targets in graph().items():
        if name.startswith("dialogs"):
            project = {t for t in targets if not t.startswith("dialogs")}
            assert project <= allowed, (name, project - allowed)


# Imports inside a function are kept for two reasons only: where the coach is put together (the server,
# the command line and its commands, the terminal chat, serving), and optional or heavy parts loaded only
# when used (a store backend, a platform's SDK when that platform is mounted).
LAZY_ALLOWED = COMPOSITION | {"bot.lifecycle", "bot.store", "bot.store.admin", "adapters.slack", "adapters.teams",
                              "bot.taxonomy"}


def in_function_imports(path: Path, known: set[str]) -> set[str]:
    inside: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                    name = inner.module
                elif isinstance(inner, ast.Import):
                    name = inner.names[0].name
                else:
                    continue
                while name and name not in known:
                    name = name.rpartition(".")[0]
                if name:
                    inside.add(name)
    return inside


def test_no_project_import_inside_a_function_outside_composition_and_optional_parts():
    mods = modules()
    found = {name: in_function_imports(path, set(mods)) for name, path in mods.items() if name not in LAZY_ALLOWED}
    assert {name: sorted(i) for name, i in found.items() if i} == {}


def test_every_module_is_small_enough_to_read():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > 500} == {}
