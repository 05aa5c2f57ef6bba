"""Upgrading a database keeps every row and every link between rows, on both engines.

SQLite cannot alter a table's constraints in place: a migration rebuilds the
table (copy, drop, rename). With foreign keys enforced, dropping the old table
deletes its rows first and runs their ON DELETE actions, which emptied
``job.alert_id`` (0008 rebuilds ``alert``), ``job.parent_job_id`` (0009 rebuilds
``job``) and removed result profiles (0010 rebuilds ``result``). Here a database
at 0007, with one row of each kind linked to the others, is brought to head.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import JSON, Boolean, Connection, DateTime, Float, Integer, MetaData, String, Table
from sqlalchemy import text as sql

from tests.conftest import _pg_url
from tests.support.servers import PostgresServer
from web.db import make_engine
from web.migrations import alembic_config

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    server: PostgresServer | None = request.getfixturevalue("pg_server")
    return _pg_url(server, "bw_keep_rows")


def _filler(column: Any) -> object:
    """A value for a required column the test does not care about."""
    kind = column.type
    if isinstance(kind, DateTime):
        return NOW
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, Float):
        return 0.5
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, String):
        return "x"
    return {}  # JSONB and other document types


def _insert(connection: Connection, table: Table, **values: object) -> None:
    for column in table.columns:
        needed = not column.nullable and column.server_default is None
        if column.name not in values and needed and not column.primary_key:
            values[column.name] = _filler(column)
    connection.execute(table.insert().values(**values))


def _fill(connection: Connection, tables: dict[str, Table]) -> None:
    rows: list[tuple[str, dict[str, object]]] = [
        ("project", {"id": 1, "name": "p"}),
        ("branch", {"id": 1, "project_id": 1, "name": "main"}),
        ("commit", {"id": 1, "project_id": 1, "sha": "a" * 40, "parents": []}),
        ("machine", {"id": 1, "project_id": 1, "name": "m"}),
        ("benchmark", {"id": 1, "project_id": 1, "name": "b", "params_key": "{}"}),
        ("measure", {"id": 1, "project_id": 1, "name": "time", "unit": "s"}),
        (
            "series",
            {"id": 1, "project_id": 1, "benchmark_id": 1, "measure_id": 1, "machine_id": 1}
            | {"branch_id": 1},
        ),
        (
            "run",
            {"id": 1, "project_id": 1, "commit_id": 1, "branch_id": 1, "machine_id": 1},
        ),
        (
            "result",
            {"id": 1, "run_id": 1, "series_id": 1, "benchmark_id": 1, "measure_id": 1}
            | {"commit_id": 1, "position": 0, "value": 1.0},
        ),
        ("result_profile", {"result_id": 1, "total": 10, "function_count": 0, "data": b""}),
        ("alert_summary", {"id": 1, "project_id": 1, "branch_id": 1, "first_commit_id": 1}),
        ("alert", {"id": 1, "series_id": 1, "summary_id": 1, "first_commit_id": 1}),
        ("job", {"id": 1, "project_id": 1, "alert_id": 1, "run_id": 1, "commit_sha": "a" * 40}),
        ("job", {"id": 2, "project_id": 1, "parent_job_id": 1, "commit_sha": "a" * 40}),
    ]
    for name, values in rows:
        _insert(connection, tables[name], **values)


def test_upgrading_keeps_rows_and_links(database: str) -> None:
    command.upgrade(alembic_config(database), "0007")
    engine = make_engine(database)
    try:
        tables = MetaData()
        tables.reflect(engine)
        with engine.begin() as connection:
            _fill(connection, dict(tables.tables))
        command.upgrade(alembic_config(database), "head")
        with engine.connect() as connection:
            jobs = connection.execute(sql("SELECT id, alert_id, run_id, parent_job_id FROM job"))
            assert sorted(map(tuple, jobs)) == [(1, 1, 1, None), (2, None, None, 1)]
            for table in ("result", "result_profile", "alert", "run", "series"):
                count = connection.execute(sql(f"SELECT count(*) FROM {table}")).scalar()
                assert count == 1, table
            if engine.dialect.name == "sqlite":
                assert connection.execute(sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()
