"""Run-time code imports only what requirements/prod.txt installs (GUIDE.md, "Code").

The fresh-install check (`make check-install`, .ci/fresh_install.py) proves it by installing;
this is the same rule read from the source in a fraction of a second, so a dev-only import
fails `make unit` at once, with the file and line. Imports under ``if TYPE_CHECKING:`` are
for mypy only, and an import in a ``try`` that handles ImportError is optional by design
(the benchmark's chart).
"""

from __future__ import annotations

import ast
import re
from importlib.metadata import packages_distributions
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# Development tools that live beside the app: their make targets install requirements/dev.txt.
DEV_TOOLS = {
    "project/serve_https.py": "make serve-https (trustme makes its certificates)",
    "project/bench.py": "make bench",
}
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(lock_file: str) -> set[str]:
    return {
        normalise(name) for name in PINNED.findall((ROOT / "requirements" / lock_file).read_text())
    }


def dev_only_modules() -> dict[str, str]:
    """Top-level import name -> the dev-only distribution that provides it."""
    dev_only = pinned("dev.txt") - pinned("prod.txt")
    return {
        module: normalise(distribution)
        for module, distributions in packages_distributions().items()
        for distribution in distributions
        if normalise(distribution) in dev_only
    }


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def handles_import_error(node: ast.Try) -> bool:
    names = []
    for handler in node.handlers:
        caught = handler.type
        parts = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        names += [part.id for part in parts if isinstance(part, ast.Name)]
    return bool({"ImportError", "ModuleNotFoundError"} & set(names))


def run_time_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level module) of every import that runs, skipping TYPE_CHECKING blocks and
    optional imports."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Try) and handles_import_error(node):
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module.split(".")[0]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def run_time_files() -> list[Path]:
    return [
        path
        for folder in ("apps", "project")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "tests" not in path.relative_to(ROOT).parts
        and path.relative_to(ROOT).as_posix() not in DEV_TOOLS
    ]


def test_run_time_code_imports_no_dev_only_package():
    dev_only = dev_only_modules()
    assert "django_stubs_ext" in dev_only  # the check knows the package that once slipped in
    found = [
        f"{path.relative_to(ROOT)}:{line}: {module} ({dev_only[module]}, requirements/dev.in)"
        for path in run_time_files()
        for line, module in run_time_imports(ast.parse(path.read_text(), str(path)))
        if module in dev_only
    ]
    assert not found, "run-time code imports dev-only packages:\n" + "\n".join(found)


def test_the_reader_sees_an_import_outside_type_checking_and_skips_one_inside():
    source = (
        "from typing import TYPE_CHECKING\n"
        "import django_stubs_ext\n"
        "if TYPE_CHECKING:\n    from pytest import fixture\n"
        "try:\n    import matplotlib\nexcept ImportError:\n    pass\n"
        "def later():\n    import factory\n"
    )
    assert [m for _, m in run_time_imports(ast.parse(source))] == [
        "typing",
        "django_stubs_ext",
        "factory",
    ]
