"""The UI talks to use-case services, not to storage (issue 16): no module of gptbuilder/ui
imports the storage or search layers or reaches into the parts the use cases are made of, and
the use cases know nothing of the UI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gptbuilder"

# What the use cases are made of: the UI reaches none of it.
BELOW_USE_CASES = (
    "gptbuilder.db",
    "gptbuilder.library",
    "gptbuilder.adding",
    "gptbuilder.upkeep",
    "gptbuilder.filestore",
    "gptbuilder.search",
    "gptbuilder.retrieval",
    "gptbuilder.bundle",
)
# Parts of Services (and of the use cases) that are storage or engines, not use cases.
PARTS = {
    "repo",
    "library",
    "engine",
    "answers",
    "bundles",
    "indexes",
    "keywords",
    "embedder",
    "models",
    "llm",
}
# What the UI may take from Services: the use cases, and the settings (for display).
SERVICES_FOR_UI = {"settings", "assistants", "knowledge", "chat", "sharing"}


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).glob("*.py"))


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def _inside(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("path", _modules("ui"), ids=lambda p: p.name)
def test_the_ui_does_not_import_storage_or_search(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [f"line {n}: {m}" for n, m in _imports(tree) if _inside(m, BELOW_USE_CASES)]
    assert not bad, f"{path.name} imports below the use cases: {bad}"


@pytest.mark.parametrize("path", _modules("ui"), ids=lambda p: p.name)
def test_the_ui_reaches_no_storage_part(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if node.attr in PARTS:
            bad.append(f"line {node.lineno}: .{node.attr}")
        owner = node.value
        named_services = isinstance(owner, ast.Name) and owner.id == "services"
        if named_services and node.attr not in SERVICES_FOR_UI:
            bad.append(f"line {node.lineno}: services.{node.attr}")
    assert not bad, f"{path.name} goes around the use cases: {bad}"


@pytest.mark.parametrize("path", _modules("usecases"), ids=lambda p: p.name)
def test_the_use_cases_know_nothing_of_the_ui(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [
        f"line {n}: {m}"
        for n, m in _imports(tree)
        if _inside(m, ("gradio", "fastapi", "gptbuilder.ui", "gptbuilder.services"))
    ]
    assert not bad, f"{path.name} imports upward: {bad}"


def test_the_checks_see_a_violation(tmp_path):
    """The checks above are not vacuous: the patterns they look for are found."""
    tree = ast.parse(
        "from gptbuilder.db import Repository\nimport gptbuilder.search.hybrid\n"
        "services.repo.list_assistants()\nself.s.library.add_file()\n"
    )
    assert [m for _, m in _imports(tree) if _inside(m, BELOW_USE_CASES)] == [
        "gptbuilder.db",
        "gptbuilder.db.Repository",
        "gptbuilder.search.hybrid",
    ]
    attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert {"repo", "library"} <= attrs & PARTS
