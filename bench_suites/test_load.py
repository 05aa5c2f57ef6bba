"""Load: 32 concurrent clients posting 50 runs each to gunicorn (2 workers) on PostgreSQL.

Every 5th submission of each client is sent twice with the same idempotency key.
Afterwards the database must hold exactly one run per key, each with all its
results: 0 lost, 0 duplicated. Throughput and latency are printed and recorded
in bench_suites/README.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.load import run_load
from tests.support.servers import GunicornServer, PostgresServer, RedisServer
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Result, Run
from web.services.projects import create_project
from web.services.tokens import create_token

CLIENTS = 32
RUNS_PER_CLIENT = 50
BENCHMARKS = 10


@pytest.fixture(scope="module")
def stack(
    bench_pg: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    url = bench_pg.create_database("bw_load")
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        token = create_token(session, create_project(session, "load"), "write").secret
    engine.dispose()
    redis = RedisServer().start()
    data_dir: Path = tmp_path_factory.mktemp("load")
    web = GunicornServer(
        {
            "BENCHWARDEN_DATABASE_URL": url,
            "BENCHWARDEN_BROKER_URL": redis.url,
            "BENCHWARDEN_DATA_DIR": str(data_dir),
            "BENCHWARDEN_SECRET_KEY": "load",
        },
        workers=2,
    ).start()
    try:
        yield web.url, token, url
    finally:
        log = web.stop()
        redis.stop()
        assert token not in log, "a token appeared in the server log"


def test_load_32_clients_no_loss_no_duplicates(benchmark, stack: tuple[str, str, str]) -> None:  # type: ignore[no-untyped-def]
    web_url, token, db_url = stack
    report = benchmark.pedantic(
        run_load,
        args=(web_url, token, "load"),
        kwargs={"clients": CLIENTS, "runs_per_client": RUNS_PER_CLIENT, "benchmarks": BENCHMARKS},
        rounds=1,
        iterations=1,
    )
    engine = make_engine(db_url)
    with engine.connect() as conn:
        runs = conn.execute(
            select(func.count(), func.count(func.distinct(Run.idempotency_key)))
        ).one()
        results = conn.execute(select(func.count()).select_from(Result)).scalar_one()
        short = conn.execute(
            select(func.count()).where(Run.result_count != BENCHMARKS)
        ).scalar_one()
    engine.dispose()
    expected = CLIENTS * RUNS_PER_CLIENT
    print(
        f"\nload: {expected} runs (+{report.resent} re-sent) from {CLIENTS} clients in "
        f"{report.seconds:.1f} s = {expected / report.seconds:.0f} runs/s; latency p50 "
        f"{report.percentile(0.5) * 1000:.0f} ms, p99 {report.percentile(0.99) * 1000:.0f} ms; "
        f"failed {len(report.failed)}; stored {runs[0]} runs / {results} results"
    )
    assert report.failed == []
    assert runs == (expected, expected), "lost or duplicated runs"
    assert results == expected * BENCHMARKS and short == 0
