"""Every third-party package the app imports is declared in pyproject.toml (not merely
installed because something else pulls it in), and none is declared twice."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def declared() -> tuple[list[str], list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [_name(r) for r in project["dependencies"]]
    dev = [_name(r) for r in project["optional-dependencies"]["dev"]]
    return runtime, dev


def imported(folder: str) -> set[str]:
    names: set[str] = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names} - {"gptbuilder", "bench"}


def distributions(modules: set[str]) -> dict[str, set[str]]:
    known = packages_distributions()
    return {m: {d.lower().replace("_", "-") for d in known.get(m, [])} for m in modules}


def test_every_package_the_app_imports_is_a_declared_dependency():
    runtime, _ = declared()
    missing = {
        module: dists
        for module, dists in distributions(imported("gptbuilder")).items()
        if not dists & set(runtime)
    }
    assert missing == {}, f"imported by gptbuilder/ but not in [project] dependencies: {missing}"


def test_every_package_tests_and_benchmarks_import_is_declared():
    runtime, dev = declared()
    local = {p.stem for p in (ROOT / "tests").rglob("*.py")} | {"tests"}
    modules = (imported("tests") | imported("bench")) - local
    missing = {m: d for m, d in distributions(modules).items() if not d & set(runtime + dev)}
    assert missing == {}, f"imported by tests/ or bench/ but not declared: {missing}"


def test_no_package_is_declared_twice():
    runtime, dev = declared()
    names = runtime + dev
    # llama-cpp-python[server] in dev adds an extra to the runtime pin, on purpose
    twice = {n for n in names if names.count(n) > 1} - {"llama-cpp-python"}
    assert twice == set()
