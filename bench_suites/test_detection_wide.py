"""One run touching 1,000 series of 1,000 points each, on PostgreSQL (issue 19, item 6b).

Target: from upload until every alert is stored, <= 10 s, reading included.
The history (999 commits x 1,000 series: results, per-commit points and their
state rows) is written with PostgreSQL's COPY, as if it had been ingested run
by run; no alert exists yet, so the measured run raises every change the
history holds (a tenth of the series step up by 30 % halfway). Then one
pytest-benchmark-sized run is posted through the API with tasks eager.

Measured twice: **cold**, the process holds no detector state (a restarted
worker: every series is read back from ``series_point`` and detected from
scratch), and **warm**, the next run, with the states cached by the first.

Size: ``BW_WIDE_SERIES`` x ``BW_WIDE_POINTS`` (default 1,000 x 1,000).
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, text

from tests.support.servers import PostgresServer
from web.config import Settings
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Alert, Result, Series
from web.services.projects import create_project
from web.services.series_cache import CACHE
from web.services.tokens import create_token

SERIES = int(os.environ.get("BW_WIDE_SERIES", "1000"))
POINTS = int(os.environ.get("BW_WIDE_POINTS", "1000"))
GAP = 2**16
TARGET_S = 10.0
pytestmark = pytest.mark.timeout(1800)


def _level(series: int, index: int) -> float:
    return 100.0 * (1.3 if series % 10 == 0 and index >= POINTS // 2 else 1.0)


def _body(index: int, rng: np.random.Generator) -> bytes:
    records = [
        {
            "suite": "s",
            "name": f"b{i}",
            "measure": "time",
            "unit": "s",
            "value": _level(i, index) * (1 + 0.01 * float(rng.standard_normal())),
        }
        for i in range(SERIES)
    ]
    return json.dumps({"format": "custom", "runs": [{"results": records}]}).encode()


@pytest.fixture(scope="module")
def app_and_token(
    bench_pg: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str, str]]:
    from web import create_app

    url = bench_pg.create_database("bw_bench_detect_wide")
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        token = create_token(session, create_project(session, "wide"), "write").secret
    engine.dispose()
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=url,
        secret_key="b",
        eager_tasks=True,
    )
    app = create_app(settings)
    yield app, token, url
    app.extensions["benchwarden.engine"].dispose()


def _post(client: Any, token: str, index: int, rng: np.random.Generator) -> float:
    body = _body(index, rng)
    start = time.perf_counter()
    response = client.post(
        "/api/v1/runs",
        data={
            "file": (io.BytesIO(body), "results.json"),
            "metadata": json.dumps(
                {
                    "project": "wide",
                    "commit": f"{index:040x}",
                    "parents": [f"{index - 1:040x}"] if index else [],
                    "branch": "main",
                    "machine": {"name": "m"},
                    "format": "benchwarden",
                }
            ),
        },
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    elapsed = time.perf_counter() - start
    assert response.status_code == 201, response.json
    return elapsed


def _bulk_history(url: str, rng: np.random.Generator) -> None:
    """Commits 1..POINTS-1 after the first run's commit, their results, points and states."""
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        first = session.scalars(select(Result).order_by(Result.id)).first()
        assert first is not None
        series = {
            sid: (int(name[1:]), bid)
            for sid, bid, name in session.execute(
                text(
                    "SELECT s.id, b.id, b.name FROM series s"
                    " JOIN benchmark b ON b.id = s.benchmark_id"
                )
            )
        }
        project_id, branch_id = session.execute(
            select(Series.project_id, Series.branch_id).limit(1)
        ).one()
        base = int(first.position)
        raw = session.connection().connection.dbapi_connection
        with raw.cursor() as cur:  # type: ignore[union-attr]
            with cur.copy("COPY commit (project_id, sha, parents) FROM STDIN") as copy:
                for k in range(1, POINTS):
                    copy.write_row((project_id, f"{k:040x}", json.dumps([f"{k - 1:040x}"])))
            cur.execute("SELECT id, sha FROM commit WHERE project_id = %s", (project_id,))
            commit_ids = {int(sha, 16): cid for cid, sha in cur.fetchall()}
            with cur.copy("COPY branch_commit (branch_id, commit_id, position) FROM STDIN") as c:
                for k in range(1, POINTS):
                    c.write_row((branch_id, commit_ids[k], base + k * GAP))
            _copy_points(cur, first, series, commit_ids, base, rng)
            cur.execute("ANALYZE")
    engine.dispose()


def _copy_points(
    cur: Any,
    first: Result,
    series: dict[int, tuple[int, int]],
    commit_ids: dict[int, int],
    base: int,
    rng: np.random.Generator,
) -> None:
    noise = 1 + 0.01 * rng.standard_normal((len(series), POINTS))
    result_columns = "run_id, series_id, benchmark_id, measure_id, commit_id, position, value"
    with cur.copy(f"COPY result ({result_columns}, status) FROM STDIN") as copy:
        for row, (series_id, (i, bench)) in enumerate(series.items()):
            for k in range(1, POINTS):
                value = _level(i, k) * float(noise[row, k])
                copy.write_row(
                    (
                        first.run_id,
                        series_id,
                        bench,
                        first.measure_id,
                        commit_ids[k],
                        base + k * GAP,
                        value,
                        "ok",
                    )
                )
    # Points: one result per commit, so each point is that result's value.
    cur.execute(
        "INSERT INTO series_point (series_id, position, commit_id, value, count)"
        " SELECT series_id, position, commit_id, value, 1 FROM result"
        " WHERE position > %s ON CONFLICT DO NOTHING",
        (base,),
    )
    cur.execute(
        "UPDATE series_state st SET points = p.n, last_position = p.last,"
        " epoch = st.epoch + 1 FROM (SELECT series_id, count(*) AS n, max(position) AS last"
        " FROM series_point GROUP BY series_id) p WHERE p.series_id = st.series_id"
    )


def _alerts(url: str) -> int:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        count = int(session.scalar(select(func.count(Alert.id)).where(Alert.active)) or 0)
    engine.dispose()
    return count


def test_one_run_over_1000_long_series(app_and_token: tuple[Any, str, str]) -> None:
    app, token, url = app_and_token
    client = app.test_client()
    rng = np.random.default_rng(0)
    _post(client, token, 0, rng)  # creates the series; the history goes after it
    start = time.perf_counter()
    _bulk_history(url, rng)
    built = time.perf_counter() - start
    CACHE.clear()
    cold = _post(client, token, POINTS, rng)
    alerts = _alerts(url)
    warm = _post(client, token, POINTS + 1, rng)
    print(
        f"\n{SERIES} series x {POINTS} points on PostgreSQL (history bulk-written in"
        f" {built:.1f} s): one run, upload to alerts stored: cold {cold:.2f} s"
        f" ({alerts} alerts raised), warm {warm:.2f} s"
    )
    assert alerts >= SERIES // 10
    assert cold <= TARGET_S, f"cold run took {cold:.1f} s, target {TARGET_S} s"
