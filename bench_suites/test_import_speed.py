"""``benchwarden import`` into PostgreSQL: results per second, and where the time goes.

A generated asv results directory (``tests/support/asv_history.py``: asv 0.6's
result format 2 with its statistics columns, ``benchmarks.json``,
``machine.json``) of ``BW_IMPORT_COMMITS`` commits x ``BW_IMPORT_BENCHMARKS``
benchmarks (default 200 x 1,000 = 200,000 results, 2 % of them with a planted
step) is imported with the real command, then again (idempotence: nothing
stored, every run skipped). Reported beside the end-to-end rate:

* parse: the same files parsed in one process (the asv parser, no database);
* write: the already-parsed runs stored by ``load_parsed`` into a second
  project (commits, runs, series, and ``COPY`` of the result rows), no parsing.

Target: >= 50,000 results/s end to end (issue 18 item 3). Reported, not
asserted: see bench_suites/README.md "Import".
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.asv_history import write_history
from tests.support.servers import PostgresServer
from web.cli.main import main
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Alert, Result
from web.services.bulk_load import load_parsed
from web.services.bulk_source import parse_file, plan
from web.services.projects import create_project, find_project

COMMITS = int(os.environ.get("BW_IMPORT_COMMITS", "200"))
BENCHMARKS = int(os.environ.get("BW_IMPORT_BENCHMARKS", "1000"))
TARGET = 50_000
pytestmark = pytest.mark.timeout(3600)


@pytest.fixture(scope="module")
def database(bench_pg: PostgresServer) -> Iterator[str]:
    url = bench_pg.create_database("bw_bench_import")
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        create_project(session, "imported")
        create_project(session, "written")
    engine.dispose()
    yield url


def test_import_rate(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    history = write_history(
        tmp_path,
        commits=COMMITS,
        benchmarks=BENCHMARKS,
        step_at=COMMITS // 2,
        step_benchmarks=range(0, BENCHMARKS, 50),
    )
    generated = time.perf_counter() - start
    total = COMMITS * BENCHMARKS
    args = ["import", "--project", "imported", str(history), "--database-url", database]

    start = time.perf_counter()
    assert main([*args, "--quiet"]) == 0
    wall = time.perf_counter() - start
    first = capsys.readouterr().out
    start = time.perf_counter()
    assert main([*args, "--quiet"]) == 0
    again = time.perf_counter() - start
    second = capsys.readouterr().out
    assert f"0 runs ({COMMITS} already stored), 0 results" in second

    files = plan(history)
    start = time.perf_counter()
    parsed = [parse_file(item, "written", copy=True) for item in files]
    parse_s = time.perf_counter() - start
    engine = make_engine(database)
    with session_scope(make_sessionmaker(engine)) as session:
        project = find_project(session, "written")
        assert project is not None
        written = load_parsed(session, project, files, parsed, detect=False)
    with session_scope(make_sessionmaker(engine)) as session:
        stored = session.scalar(select(func.count()).select_from(Result))
        alerts = session.scalar(select(func.count()).select_from(Alert))
    engine.dispose()
    assert stored == 2 * total
    assert alerts == len(range(0, BENCHMARKS, 50))

    with capsys.disabled():
        print(f"\n{COMMITS} commits x {BENCHMARKS} benchmarks = {total:,} results")
        print(f"(history generated in {generated:.1f} s; {os.cpu_count()} CPUs)")
        print(first.strip())
        print(f"command wall time {wall:.1f} s; second import {again:.1f} s, nothing stored")
        print(f"parse alone, one process: {total / parse_s:,.0f} results/s")
        print(
            f"write alone (COPY, parsed runs in memory): {written.rate:,.0f} results/s;"
            f" points {written.points_seconds:.1f} s"
        )
        print(f"target {TARGET:,} results/s end to end")
