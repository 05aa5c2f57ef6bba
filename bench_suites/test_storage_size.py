"""Database bytes per stored result on PostgreSQL, for the README's sizing table.

Stores 40 runs of 1,000 benchmarks through the ingest service, once with summary
statistics only and once with 20 raw samples per result, then divides the
growth of the whole database (tables, indexes, TOAST) by the results stored.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from runner.parsers import parse_bytes
from runner.schema import RunPayload
from tests.support.files import pytest_benchmark_file
from tests.support.servers import PostgresServer
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.services.ingest import ingest_run
from web.services.projects import create_project

RUNS, BENCHMARKS = 40, 1000


def _database_bytes(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
        size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    engine.dispose()
    return size


def _bytes_per_result(pg: PostgresServer, name: str, with_samples: bool) -> float:
    url = pg.create_database(name)
    upgrade(url)
    doc = json.loads(pytest_benchmark_file(BENCHMARKS))
    if not with_samples:
        for bench in doc["benchmarks"]:
            del bench["stats"]["data"]
    parsed = parse_bytes(json.dumps(doc).encode()).runs[0]
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        project = create_project(session, "size")
    before = _database_bytes(url)
    for n in range(RUNS):
        with session_scope(factory) as session:
            payload = RunPayload(project="size", commit=f"{n + 1:040x}", branch="main")
            ingest_run(session, session.merge(project), payload, parsed, "pytest-benchmark")
    engine.dispose()
    return (_database_bytes(url) - before) / (RUNS * BENCHMARKS)


@pytest.mark.parametrize("with_samples", [False, True], ids=["stats", "samples"])
def test_bytes_per_result(benchmark, bench_pg: PostgresServer, with_samples: bool) -> None:  # type: ignore[no-untyped-def]
    name = f"bw_size_{'samples' if with_samples else 'stats'}"
    per_result = benchmark.pedantic(
        _bytes_per_result, args=(bench_pg, name, with_samples), rounds=1, iterations=1
    )
    yearly = {n: per_result * n * 365 / 1e9 for n in (10_000, 100_000, 1_000_000)}
    label = "with 20 samples" if with_samples else "summary stats"
    print(
        f"\n{label}: {per_result:.0f} bytes/result;"
        + "".join(f" {n:,}/day -> {gb:.1f} GB/year;" for n, gb in yearly.items())
    )
    assert 50 < per_result < 5000
