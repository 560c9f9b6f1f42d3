"""The package layers: faces → handlers, jobs → storage, nlp → ledger, settings. Every import runs downward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYER = {
    "bot": 3, "board": 3, "gateway": 3,
    "handlers": 2, "jobs": 2,
    "storage": 1, "nlp": 1,
    "ledger": 0, "settings": 0,
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    """Top-level packages of ours that `path` imports, lazily or not (TYPE_CHECKING imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found & LAYER.keys()


def _package_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {package: set() for package in LAYER}
    for package in LAYER:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" not in path.parts:
                graph[package] |= _imports(path) - {package}
    return graph


@pytest.mark.parametrize("package", sorted(LAYER))
def test_no_package_imports_a_layer_above_it(package: str) -> None:
    upward = {other for other in _package_imports()[package] if LAYER[other] > LAYER[package]}
    assert upward == set(), f"{package}/ imports {sorted(upward)} from a layer above it"


def test_packages_below_the_faces_do_not_import_each_other_both_ways() -> None:
    graph = {package: imported for package, imported in _package_imports().items() if LAYER[package] < 3}
    mutual = {tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph.get(b, ())}
    assert mutual == set()


def _modules_imported(relative: str) -> set[str]:
    tree = ast.parse((REPO / relative).read_text(encoding="utf-8"))
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_cli_modules_do_not_import_each_other_in_a_circle() -> None:
    assert "bot.cli" not in _modules_imported("board/cli.py")
    assert "board.cli" in _modules_imported("bot/cli.py")  # the one composition point of the subcommands
