"""The domain is pure: it imports only itself and an allow-list of standard-library
modules that compute (no I/O, no clocks, no threads, no third-party code)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ALLOWED = frozenset(
    {
        "__future__",
        "abc",
        "bisect",
        "collections",
        "collections.abc",
        "copy",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "heapq",
        "itertools",
        "math",
        "operator",
        "re",
        "types",
        "typing",
    }
)
"""Standard-library modules the domain may import."""


def imports_of(source: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_domain_imports_only_itself_and_allowed_standard_modules() -> None:
    sources = sorted((ROOT / "domain").rglob("*.py"))
    assert len(sources) > 20  # the scan finds the package
    outside = {
        f"{source.relative_to(ROOT)}: {name}"
        for source in sources
        for name in imports_of(source)
        if name != "domain" and not name.startswith("domain.") and name not in ALLOWED
    }
    assert outside == set()


def test_the_scan_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom tortoise import fields\nfrom domain import money\n")
    assert imports_of(module) == {"os", "tortoise", "domain"}
