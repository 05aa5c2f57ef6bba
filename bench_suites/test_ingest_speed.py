"""Ingest and series-read speed on PostgreSQL, through the real HTTP API.

Targets (results-store issue): posting a 1,000-benchmark pytest-benchmark file
end to end in <= 1.0 s, and reading a 10,000-point series with p95 <= 50 ms.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import requests
from sqlalchemy import insert, select

from tests.conftest import LiveServer
from tests.support.files import pytest_benchmark_file
from tests.support.servers import PostgresServer
from web.config import Settings
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import BranchCommit, Commit, Result, Series
from web.services.projects import create_project
from web.services.tokens import create_token

BENCHMARKS = 1000
SERIES_POINTS = 10_000


@pytest.fixture(scope="module")
def live(
    bench_pg: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, str]]:
    url = bench_pg.create_database("bw_bench_ingest")
    upgrade(url)
    data_dir = tmp_path_factory.mktemp("data")
    settings = replace(Settings.from_env({}), data_dir=data_dir, database_url=url, secret_key="b")
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        project = create_project(session, "bench")
        token = create_token(session, project, "write").secret
    engine.dispose()
    with LiveServer(settings) as server:
        yield server, token


def test_post_1000_benchmark_file(benchmark, live: tuple[LiveServer, str]) -> None:  # type: ignore[no-untyped-def]
    server, token = live
    body = pytest_benchmark_file(BENCHMARKS)
    commits = (f"{n:040x}" for n in itertools.count(1))
    session = requests.Session()

    def post() -> requests.Response:
        sha = next(commits)
        return session.post(
            f"{server.url}/api/v1/runs",
            params={"project": "bench", "commit": sha, "branch": "main", "machine": "m"},
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=60,
        )

    response = benchmark.pedantic(post, rounds=8, iterations=1, warmup_rounds=1)
    assert response.status_code == 201
    assert response.json()["run"]["result_count"] == BENCHMARKS
    median = benchmark.stats.stats.median
    print(
        f"\nPOST 1,000-benchmark pytest-benchmark file ({len(body) / 1e6:.1f} MB):"
        f" median {median * 1000:.0f} ms"
    )
    assert median <= 1.0, f"target 1.0 s, measured {median:.2f} s"


def _build_series(url: str, points: int) -> tuple[str, int]:
    """Write a 10,000-commit history straight into the tables (the API path is measured above)."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        project = create_project(session, "series")
        token = create_token(session, project, "read").secret
    record = pytest_benchmark_file(1)
    server_settings = replace(Settings.from_env({}), database_url=url)
    app_settings = server_settings
    from web import create_app

    app = create_app(replace(app_settings, eager_tasks=True))
    client = app.test_client()
    with session_scope(factory) as session:
        write = create_token(session, project, "write").secret
    first = client.post(
        "/api/v1/runs?project=series&commit=" + "f" * 40 + "&machine=m&branch=main",
        data=record,
        headers={"Authorization": f"Bearer {write}"},
    )
    assert first.status_code == 201, first.json
    app.extensions["benchwarden.engine"].dispose()
    with session_scope(factory) as session:
        series = session.scalars(select(Series).where(Series.project_id == project.id)).first()
        assert series is not None
        template = session.scalars(select(Result).where(Result.series_id == series.id)).one()
        rng = np.random.default_rng(0)
        commits = [
            {
                "project_id": project.id,
                "sha": f"{i:040x}",
                "parents": [f"{i - 1:040x}"],
                "author": "Ada <ada@example.org>",
                "message": f"change {i}",
            }
            for i in range(points)
        ]
        session.execute(insert(Commit), commits)
        ids = dict(
            session.execute(select(Commit.sha, Commit.id).where(Commit.project_id == project.id))
            .tuples()
            .all()
        )
        session.execute(
            insert(BranchCommit),
            [
                {
                    "branch_id": series.branch_id,
                    "commit_id": ids[c["sha"]],
                    "position": (i + 1) * 65536,
                }
                for i, c in enumerate(commits)
            ],
        )
        values = 1e-4 * (1 + 0.01 * rng.standard_normal(points))
        session.execute(
            insert(Result),
            [
                {
                    "run_id": template.run_id,
                    "series_id": series.id,
                    "benchmark_id": template.benchmark_id,
                    "measure_id": template.measure_id,
                    "commit_id": ids[c["sha"]],
                    "position": (i + 1) * 65536,
                    "value": float(values[i]),
                    "stddev": 1e-6,
                    "min": float(values[i]) * 0.99,
                    "max": float(values[i]) * 1.01,
                    "status": "ok",
                }
                for i, c in enumerate(commits)
            ],
        )
        series_id = series.id
    engine.dispose()
    return token, series_id


def _cold_reads(server: LiveServer, read) -> list[float]:  # type: ignore[no-untyped-def]
    """Reads that must fetch and encode every row: the first view after new results."""
    import time

    from web.api.series_cache import SeriesPointsCache

    timings = []
    for _ in range(20):
        server.app.extensions["benchwarden.series_cache"] = SeriesPointsCache()
        start = time.perf_counter()
        assert read().status_code == 200
        timings.append(time.perf_counter() - start)
    return sorted(timings)


def test_read_10000_point_series(benchmark, bench_pg: PostgresServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = bench_pg.create_database("bw_bench_series")
    upgrade(url)
    token, series_id = _build_series(url, SERIES_POINTS)
    settings = replace(Settings.from_env({}), data_dir=tmp_path, database_url=url, secret_key="b")
    with LiveServer(settings) as server:
        session = requests.Session()
        endpoint = f"{server.url}/api/v1/projects/series/series/{series_id}"

        def read() -> requests.Response:
            return session.get(endpoint, headers={"Authorization": f"Bearer {token}"}, timeout=30)

        response = benchmark.pedantic(read, rounds=60, iterations=1, warmup_rounds=3)
        cold = _cold_reads(server, read)
    assert response.status_code == 200
    assert len(response.json()["points"]["value"]) == SERIES_POINTS + 1
    timings = sorted(benchmark.stats.stats.data)
    p95 = timings[int(0.95 * (len(timings) - 1))]
    median = benchmark.stats.stats.median
    print(
        f"\nGET 10,000-point series: median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms;"
        f" points cache emptied before each read: median {cold[len(cold) // 2] * 1000:.1f} ms,"
        f" p95 {cold[int(0.95 * (len(cold) - 1))] * 1000:.1f} ms"
    )
    assert p95 <= 0.050, f"target p95 50 ms, measured {p95 * 1000:.1f} ms"
