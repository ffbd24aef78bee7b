"""The README's Layout: imports go one way, so a reader can tell the program, the guard and the tools apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = {"components", "engine", "review", "devtools", "rules"}
# What each package may import from this repository (the pack's modules import as `rules`).
MAY_IMPORT = {
    "components": {"components"},
    "policy": {"rules"},
    "engine": {"engine"},
    "review": {"review", "engine", "components", "rules"},  # rules: only review/guard_model.py, the adapter
    "devtools": {"devtools", "review", "engine", "components"},
}


def imported(path: Path) -> set[str]:
    """Top-level packages of this repository that a module imports (relative imports stay in its package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & TOP_LEVEL


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_imports_go_one_way(package: str) -> None:
    wrong = {f"{path.relative_to(ROOT)}: {name}"
             for path in (ROOT / package).rglob("*.py") if "venv" not in path.parts
             for name in imported(path) - MAY_IMPORT[package]}
    assert not wrong, f"{package}/ imports against the README Layout (the guard and the tools would blur): {wrong}"
