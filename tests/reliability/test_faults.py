"""Faults the service must survive without losing or half-storing a run.

- PostgreSQL restarted in the middle of a load run: clients see errors and
  retry, no partial run is stored, and the service recovers without a restart.
- The disk of the SQLite default filling up: a clear 507, no corruption, and
  every run acknowledged before is intact.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from tests.support.load import result_file, run_load
from tests.support.servers import GunicornServer, PostgresServer
from web import create_app
from web.config import Settings
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Result, Run
from web.services.projects import create_project
from web.services.tokens import create_token

CLIENTS, RUNS, BENCHMARKS = 4, 30, 10


def _project_token(url: str) -> str:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        token = create_token(session, create_project(session, "p"), "write").secret
    engine.dispose()
    return token


def _stored(url: str) -> tuple[int, int, int, int]:
    """(runs, distinct keys, results, runs whose result rows differ from result_count)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        runs, keys = conn.execute(
            select(func.count(), func.count(func.distinct(Run.idempotency_key)))
        ).one()
        results = conn.execute(select(func.count()).select_from(Result)).scalar_one()
        per_run = select(Result.run_id, func.count().label("n")).group_by(Result.run_id).subquery()
        partial = conn.execute(
            select(func.count())
            .select_from(Run)
            .outerjoin(per_run, per_run.c.run_id == Run.id)
            .where(func.coalesce(per_run.c.n, 0) != Run.result_count)
        ).scalar_one()
    engine.dispose()
    return runs, keys, results, partial


@pytest.fixture()
def own_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


def test_postgres_restart_during_load(own_postgres: PostgresServer, tmp_path: Path) -> None:
    url = own_postgres.create_database("faults")
    upgrade(url)
    token = _project_token(url)
    web = GunicornServer(
        {
            "BENCHWARDEN_DATABASE_URL": url,
            "BENCHWARDEN_DATA_DIR": str(tmp_path),
            "BENCHWARDEN_SECRET_KEY": "f",
            "BENCHWARDEN_EAGER_TASKS": "true",
        }
    ).start()
    restarted = threading.Event()

    def restart_when_busy(done: int) -> None:
        if done == RUNS // 3 and not restarted.is_set():
            restarted.set()
            threading.Thread(target=own_postgres.restart, args=(1.0,), daemon=True).start()

    try:
        report = run_load(
            web.url,
            token,
            "p",
            clients=CLIENTS,
            runs_per_client=RUNS,
            benchmarks=BENCHMARKS,
            on_progress=restart_when_busy,
        )
        # The same server processes answer after the restart: no service restart needed.
        after = run_load(web.url, token, "p", clients=1, runs_per_client=1, benchmarks=BENCHMARKS)
    finally:
        log = web.stop()
    assert restarted.is_set()
    assert report.failed == [] and after.failed == []
    expected = CLIENTS * RUNS
    runs, keys, results, partial = _stored(url)
    assert (runs, keys) == (expected, expected), "lost or duplicated runs"
    assert results == expected * BENCHMARKS and partial == 0
    assert token not in log


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_sqlite_disk_full_is_a_clear_error_without_corruption(small_disk: Path) -> None:
    url = f"sqlite:///{small_disk / 'benchwarden.db'}"
    upgrade(url)
    token = _project_token(url)
    settings = replace(
        Settings.from_env({}),
        data_dir=small_disk,
        database_url=url,
        secret_key="s",
        eager_tasks=True,
    )
    app = create_app(settings)
    client = app.test_client()
    accepted, refusal = 0, None
    for n in range(200):
        metadata = {"project": "p", "commit": f"{n:040x}", "format": "benchwarden"}
        response = client.post(
            "/api/v1/runs",
            data={
                "file": (io.BytesIO(result_file(0, n, 300)), "r.json"),
                "metadata": json.dumps(metadata),
            },
            headers={"Authorization": f"Bearer {token}"},
            content_type="multipart/form-data",
        )
        if response.status_code != 201:
            refusal = response
            break
        accepted += 1
    app.extensions["benchwarden.engine"].dispose()
    assert refusal is not None, "the disk never filled up"
    assert refusal.status_code == 507
    assert refusal.json["error"]["code"] == "storage_full"
    assert "no space" in refusal.json["error"]["message"]
    assert accepted > 0
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    engine.dispose()
    runs, _, results, partial = _stored(url)
    assert runs == accepted and partial == 0 and results == accepted * 300
