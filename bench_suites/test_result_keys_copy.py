"""What the foreign keys of ``result`` cost a bulk load: COPY rows/s by key layout.

The same 100,000 rows (1,000 series x 100 runs, references valid) are copied
into ``result`` as migrated (two composite keys: run and commit, series and
benchmark and measure), into a copy of it with the five single keys it had
before migration 0010, and into a copy with no foreign key at all. Same
columns and indexes in all three; one transaction each. Figures in
bench_suites/README.md "Import".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.asv_history import write_history
from tests.support.servers import PostgresServer
from web.cli.main import main
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.services.projects import create_project

pytestmark = pytest.mark.timeout(1800)
FIVE_KEYS = {
    "run_id": "run",
    "series_id": "series",
    "benchmark_id": "benchmark",
    "measure_id": "measure",
    "commit_id": "commit",
}
COLUMNS = "run_id, commit_id, position, series_id, benchmark_id, measure_id, value, status"


@pytest.fixture(scope="module")
def database(bench_pg: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = bench_pg.create_database("bw_bench_keys")
    upgrade(url)
    history = write_history(Path(tmp_path_factory.mktemp("keys")), commits=100, benchmarks=1000)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        create_project(session, "keys")
    engine.dispose()
    assert main(["import", "--project", "keys", str(history), "--database-url", url]) == 0
    yield url.replace("postgresql+psycopg://", "postgresql://")


def _copy_rate(connection: psycopg.Connection, table: str, lines: str, rows: int) -> float:
    with connection.transaction():
        start = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy,
        ):
            copy.write(lines)
        rate = rows / (time.perf_counter() - start)
        raise psycopg.Rollback()  # leave the tables as they were, for the next layout
    return rate


def test_copy_rate_by_key_layout(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(database, autocommit=True) as connection:
        refs = connection.execute(
            "SELECT r.id, r.commit_id, b.position, s.id, s.benchmark_id, s.measure_id"
            " FROM run r JOIN branch_commit b ON b.commit_id = r.commit_id"
            " JOIN series s ON s.machine_id = r.machine_id"
        ).fetchall()
        lines = "".join("\t".join(map(str, ref)) + "\t0.001\tok\n" for ref in refs)
        connection.execute("CREATE TABLE result_five (LIKE result INCLUDING ALL)")
        connection.execute("CREATE TABLE result_none (LIKE result INCLUDING ALL)")
        for column, table in FIVE_KEYS.items():
            connection.execute(
                f'ALTER TABLE result_five ADD FOREIGN KEY ({column}) REFERENCES "{table}" (id)'
                " ON DELETE CASCADE"
            )
        rates: dict[str, float] = {}
        for _ in range(3):  # best of three: the machine is shared
            for table in ("result", "result_five", "result_none"):
                rate = _copy_rate(connection, table, lines, len(refs))
                rates[table] = max(rates.get(table, 0.0), rate)
    with capsys.disabled():
        print(f"\n{len(refs):,} rows, COPY rows/s (best of 3):")
        print(f"  two composite keys (result as migrated): {rates['result']:,.0f}")
        print(f"  five single keys (before 0010):          {rates['result_five']:,.0f}")
        print(f"  no foreign key:                          {rates['result_none']:,.0f}")
    assert len(refs) == 100_000
    assert rates["result"] > rates["result_five"]
