"""The house shows its rooms: the apps are layered core → petitions → intake → clocks → routing →
supervision → closure → appeals → reports → campaigns → outreach (demo above all), and an app's
code imports only apps at or below its own layer, lazily inside a function or not. A lower app
reaches an upper one through the hook registries (petitions.hooks, supervision.hooks,
reports.hooks), never by import. Tests are left out (a test may build a world with any app)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = (
    "core",
    "petitions",
    "intake",
    "clocks",
    "routing",
    "supervision",
    "closure",
    "appeals",
    "reports",
    "campaigns",
    "outreach",
    "demo",
)
RANK = {app: i for i, app in enumerate(LAYERS)}


def _imported_apps(path: Path) -> set[tuple[str, int]]:
    """(app, line) of every import of one of the project's apps in ``path``."""
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in RANK:
                found.add((top, node.lineno))
    return found


def _source_files(app: str) -> list[Path]:
    return [
        p
        for p in (ROOT / app).rglob("*.py")
        if "tests" not in p.relative_to(ROOT).parts and p.name != "testing.py"
    ]


def test_imports_point_down():
    upward = []
    for app in LAYERS:
        for path in _source_files(app):
            for imported, line in _imported_apps(path):
                if RANK[imported] > RANK[app]:
                    upward.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert sorted(upward) == []


def test_the_check_sees_an_upward_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from routing.models import Assignment\n", encoding="utf-8")
    assert _imported_apps(sample) == {("routing", 2)}
