"""House-style rules the formatter and linters cannot see (issue 17, items 5 and 7).

- no ``# fmt: skip``: keyword arguments are not packed by hand, the formatter lays
  out every statement;
- an import inside a function says why it is there (a cycle, a heavy or optional
  dependency) in a comment on its line or just above its block;
- the JSON error envelope ``{"error": {...}}`` is written in one place,
  `web.api.errors.error_response`;
- the import contracts hold, among them: only ``web.cli`` reads command lines, and
  its modules import each other without cycles.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("web", "runner", "detector")
# Not the service's code: the demo project's template and applied migration scripts.
SKIPPED = ("web/demo_template/", "web/migrations/versions/")
ENVELOPE = re.compile(r"""["']error["']\s*:\s*\{""")


def _sources() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if not name.startswith(SKIPPED):
                files.append(path)
    return files


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_fmt_skip() -> None:
    found = [
        f"{_name(path)}:{number}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "fmt: skip" in line or "fmt: off" in line
    ]
    assert found == []


def _unexplained_imports(path: Path) -> list[int]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    bad = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import | ast.ImportFrom) and not _explained(
                lines, inner.lineno
            ):
                bad.append(inner.lineno)
    return sorted(set(bad))


def _explained(lines: list[str], lineno: int) -> bool:
    """A comment on the import's line, or on the line above its block of imports."""
    if "#" in lines[lineno - 1]:
        return True
    index = lineno - 2
    while index >= 0:
        stripped = lines[index].strip()
        if stripped.startswith("#"):
            return True
        if stripped and not stripped.startswith(("import ", "from ")):
            return False
        index -= 1
    return False


def test_imports_inside_functions_say_why() -> None:
    found = [
        f"{_name(path)}:{number}" for path in _sources() for number in _unexplained_imports(path)
    ]
    assert found == []


def test_the_error_envelope_is_written_in_one_place() -> None:
    writers = sorted(
        _name(path) for path in _sources() if ENVELOPE.search(path.read_text(encoding="utf-8"))
    )
    assert writers == ["web/api/errors.py"]


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter not installed")
def test_import_contracts_hold() -> None:
    done = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "only web.cli reads command lines" in done.stdout
    assert "the command modules import each other without cycles" in done.stdout


def test_the_command_line_contract_covers_every_module_of_web() -> None:
    """A new module of web/ must be named in the contract, or it could read argparse."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c["name"].startswith("only web.cli reads command lines")
    )
    modules = {
        f"web.{path.stem if path.is_file() else path.name}"
        for path in (ROOT / "web").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").is_file()
    }
    assert modules - {"web.cli"} == set(contract["source_modules"])
