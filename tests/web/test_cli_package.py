"""The `benchwarden` command as one package, and what a wheel install needs from it.

``demo --prepare-only`` is the demo's first step alone: the repository built from
the packaged template (importlib.resources, not a path beside the checkout) and
its project registered in a fresh database; scripts/check-wheel runs it from an
installed wheel.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from web.cli.main import main
from web.demo_repo import TEMPLATE, copy_template
from web.migrations import heads, script_location


def test_demo_prepare_only_builds_the_repository_and_registers_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("BENCHWARDEN_DATA_DIR", str(data))
    monkeypatch.delenv("BENCHWARDEN_DATABASE_URL", raising=False)
    assert main(["demo", "--prepare-only", "--commits", "6"]) == 0
    repo = data / "demo" / "repo"
    assert (repo / "benchwarden.toml").is_file()
    assert (repo / "demo_pkg" / "work.py").is_file()
    assert not list(repo.rglob("__pycache__"))
    count = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--count", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert count.stdout.strip() == "6"
    database = sqlite3.connect(data / "benchwarden.db")
    try:
        projects = database.execute("SELECT name, repo_url FROM project").fetchall()
        version = database.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        database.close()
    assert projects == [("demo", str(repo))]
    assert [v for (v,) in version] == heads()
    assert "project 'demo' is ready" in capsys.readouterr().out


def test_package_data_is_found_inside_the_package() -> None:
    package = Path(sys.modules["web"].__file__ or "").parent
    assert script_location() == package / "migrations"
    assert (script_location() / "env.py").is_file()
    assert TEMPLATE.is_dir()
    assert (TEMPLATE / "benchwarden.toml").is_file()


def test_a_missing_template_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="demo template is missing"):
        copy_template(TEMPLATE / "no-such-directory", tmp_path / "repo")


def test_python_m_web_cli_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", "demo", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--prepare-only" in done.stdout
