"""The shape issue 11 set for the code, checked on every run: no function is longer than 60
lines, and every services and selectors module has its own test module (tests/<app>/...).
The layers and the import graph are checked by lint-imports (make check), complexity by ruff."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 60


def _python_files(*packages: str) -> list[Path]:
    return sorted(
        p
        for package in packages
        for p in (ROOT / package).rglob("*.py")
        if "migrations" not in p.relative_to(ROOT).parts
    )


def test_no_function_is_longer_than_sixty_lines():
    long = []
    for path in _python_files("cloudmsp", "config"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "Split these functions:\n" + "\n".join(long)


def _service_and_selector_modules() -> list[Path]:
    """cloudmsp/<app>/services.py, selectors.py, and each module of a services/ package."""
    found = []
    for path in _python_files("cloudmsp"):
        rel = path.relative_to(ROOT / "cloudmsp")
        if (len(rel.parts) == 2 and rel.name in ("services.py", "selectors.py")) or (
            len(rel.parts) == 3 and rel.parts[1] == "services" and rel.name != "__init__.py"
        ):
            found.append(rel)
    return found


@pytest.mark.parametrize("module", _service_and_selector_modules(), ids=str)
def test_every_services_and_selectors_module_has_its_test_module(module):
    """cloudmsp/cloud/services/sync.py -> tests/cloud/test_sync.py; cloudmsp/users/services.py ->
    tests/users/test_services.py."""
    expected = ROOT / "tests" / module.parts[0] / f"test_{module.stem}.py"
    assert expected.is_file(), f"cloudmsp/{module} has no tests/{expected.relative_to(ROOT / 'tests')}"
