"""``benchwarden backtest``: the table per setting, JSON rows, and refused input (exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from tests.web.backtest_history import seed_planted
from web.migrations import upgrade
from web.models import AuditEntry, Project


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    where = tmp_path_factory.mktemp("backtest-cli")
    url = f"sqlite:///{where / 'bw.db'}"
    upgrade(url)
    seed_planted(url, where)
    return url


def _run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["benchwarden", "backtest", "--project", "proj", *args],
        env=os.environ | {"BENCHWARDEN_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_table_per_setting(database: str) -> None:
    done = _run(database, "--grid", "min_rel_change=0.01,0.05")
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    assert header.split()[:5] == ["setting", "series", "raised", "kept", "new"]
    assert [line.split()[0] for line in lines] == [
        "current",
        "min_rel_change=0.01",
        "min_rel_change=0.05",
    ]
    # setting, series, raised, kept, new, kept true/invalid/wontfix, dropped
    # true/invalid/wontfix/untriaged, precision, recall
    assert lines[0].split() == [
        "current",
        "6",
        "4",
        "4",
        "0",
        "1",
        "1",
        "1",
        "0",
        "0",
        "0",
        "0",
        "0.667",
        "1.000",
    ]
    assert lines[1].split()[1:5] == ["6", "5", "4", "1"]
    expected = "min_rel_change=0.05 6 3 3 0 1 0 1 0 1 0 0 1.000 1.000"
    assert lines[2].split() == expected.split()


def test_json_rows(database: str) -> None:
    done = _run(database, "--set", "detector.min_rel_change=0.05", "--json")
    assert done.returncode == 0, done.stderr
    current, candidate = json.loads(done.stdout)
    assert candidate["label"] == "min_rel_change=0.05"
    assert candidate["assignments"] == ["detector.min_rel_change=0.05"]
    assert candidate["dropped"]["invalid"] == 1 and candidate["raised"] == 3
    assert current["precision"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "machines=a"], "machines: not a detector setting"),
        (["--grid", "min_rel_change=0.01,oops"], "detector.min_rel_change"),
        (["--set", "alpha=2"], "detector.alpha"),
        (["--set", "alpha"], "write KEY=VALUE"),
    ],
)
def test_bad_settings_are_one_error_line(database: str, args: list[str], message: str) -> None:
    before = _settings_and_audit(database)
    done = _run(database, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert _settings_and_audit(database) == before


def test_unknown_project(database: str) -> None:
    done = subprocess.run(
        ["benchwarden", "backtest", "--project", "nope"],
        env=os.environ | {"BENCHWARDEN_DATABASE_URL": database},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "error: project 'nope' does not exist" in done.stderr


def _settings_and_audit(url: str) -> tuple[object, ...]:
    engine = create_engine(url)
    with engine.connect() as conn:
        settings = conn.scalar(select(Project.settings))
        entries = conn.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    engine.dispose()
    return settings, entries


def test_nothing_is_written(database: str, tmp_path: Path) -> None:
    before = _settings_and_audit(database)
    assert _run(database, "--grid", "alpha=0.001,0.05").returncode == 0
    assert _settings_and_audit(database) == before
