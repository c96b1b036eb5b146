"""The package's layering: a module imports only from its own layer or the layers below it.

Read from the source with ``ast`` (every import, those inside functions and under
TYPE_CHECKING too), so a new upward import fails here before it tangles the parts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gptbuilder"

# Lowest first. A module may import its own layer and any layer listed before it.
LAYERS: list[tuple[str, ...]] = [
    ("types", "errors", "language", "datalock"),  # values, errors, text basics
    ("config",),  # settings
    ("filestore", "personas", "backends", "db"),  # storage and models
    ("safety",),  # documents are data: used by ingestion and answering
    ("ingest", "search"),  # reading files; the indexes and searching them
    ("adding", "upkeep", "library", "retrieval", "bundle", "tasks"),  # knowledge, answers, sharing
    ("usecases",),  # what a user can do, for the UI and a later HTTP API
    ("services",),  # the composition root
    ("ui",),  # the Gradio app
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def _part(module: str) -> str | None:
    """The layer part of a ``gptbuilder.x.y`` module name (``x``), None outside the package."""
    pieces = module.split(".")
    if pieces[0] != "gptbuilder" or len(pieces) < 2:
        return None
    return pieces[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "gptbuilder":  # from gptbuilder import x
                found += [(node.lineno, f"gptbuilder.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_every_part_of_the_package_has_a_layer():
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in _modules()}
    assert parts - {"__init__"} <= set(RANK), f"add to LAYERS: {parts - set(RANK)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_upward_import(path):
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    if own == "__init__":
        return
    upward = []
    for line, module in _imports(path):
        part = _part(module)
        if part is not None and part in RANK and RANK[part] > RANK[own]:
            upward.append(f"line {line}: {module} ({part} is above {own})")
    assert not upward, "\n".join(upward)


def test_the_layering_check_finds_an_upward_import(tmp_path):
    """The check itself can fail: a storage module importing the UI is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from gptbuilder.ui import layout\n", encoding="utf-8")
    [(line, module)] = _imports(bad)
    assert RANK[_part(module)] > RANK["db"] and line == 2


def _class_bases() -> dict[str, set[str]]:
    """Every class of the package by name, with the names of its base classes."""
    bases: dict[str, set[str]] = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                bases.setdefault(node.name, set()).update(names)
    return bases


def _derives_from(name: str, roots: set[str], bases: dict[str, set[str]]) -> bool:
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in roots:
            return True
        if current not in seen:
            seen.add(current)
            todo.extend(bases.get(current, ()))
    return False


def _mixins(bases: dict[str, set[str]]) -> list[str]:
    allowed = {"Exception", "BaseModel", "DeclarativeBase"}
    return [
        f"{name}({base})"
        for name, own in bases.items()
        for base in sorted(own)
        if base in bases and not _derives_from(base, allowed, bases)
    ]


def test_no_mixins():
    """No class of the package inherits from another class of the package (its parts are
    held and given in constructors), except the exception tree and the manifest's strict
    pydantic base."""
    found = _mixins(_class_bases())
    assert not found, "\n".join(found)


def test_the_mixin_check_finds_one():
    bases = {
        "Adding": {"object"},
        "Library": {"Adding"},
        "GPTBuilderError": {"Exception"},
        "NotFound": {"GPTBuilderError"},
        "_Strict": {"BaseModel"},
        "Manifest": {"_Strict"},
    }
    assert _mixins(bases) == ["Library(Adding)"]
