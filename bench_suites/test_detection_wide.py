"""One run touching 1,000 series of 1,000 points each, on PostgreSQL (issue 19, item 6b).

Target: from upload until every alert is stored, <= 10 s, reading included,
asserted for a worker that holds the series' detector states (the steady state);
a cold worker's run is reported (see bench_suites/README.md).
The history (999 commits x 1,000 series: results, per-commit points and their
state rows) is written with PostgreSQL's COPY, as if it had been ingested run
by run; no alert exists yet, so the measured run raises every change the
history holds (a tenth of the series step up by 30 % halfway). Then one
run is posted through the API and its detect task run in-process.

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
from web.services.detection import detect_for_run
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
    )
    app = create_app(settings)
    yield app, token, url
    app.extensions["benchwarden.engine"].dispose()


def _run(app: Any, token: str, index: int, rng: np.random.Generator) -> float:
    """Upload one run, then detect it as the worker's task does; seconds until alerts are stored.

    The detect task is called in-process (tasks are not eager here) so that the
    confirmation and notification tasks it queues are not part of the figure.
    """
    body = _body(index, rng)
    start = time.perf_counter()
    run_id = _post(app.test_client(), token, index, body)
    with session_scope(app.extensions["benchwarden.sessionmaker"]) as session:
        detect_for_run(session, run_id)
    return time.perf_counter() - start


def _post(client: Any, token: str, index: int, body: bytes) -> int:
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
    assert response.status_code == 201, response.json
    return int(response.json["run"]["id"])


def _bulk_history(url: str) -> None:
    """Commits 1..POINTS-1 after the first run's commit, their results, points and states.

    Written by PostgreSQL itself (generate_series; Box-Muller for 1 % Gaussian
    noise): the history is input here, not what is measured.
    """
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        first = session.scalars(select(Result).order_by(Result.id)).first()
        assert first is not None
        params = {
            "project": session.scalar(select(Series.project_id).limit(1)),
            "branch": session.scalar(select(Series.branch_id).limit(1)),
            "run": first.run_id,
            "base": int(first.position),
            "gap": GAP,
            "points": POINTS,
        }
        for statement in HISTORY_SQL:
            session.execute(text(statement), params)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    engine.dispose()


HISTORY_SQL = (
    "INSERT INTO commit (project_id, sha, parents)"
    " SELECT :project, lpad(to_hex(k), 40, '0'), jsonb_build_array(lpad(to_hex(k - 1), 40, '0'))"
    " FROM generate_series(1, :points - 1) AS k",
    "INSERT INTO branch_commit (branch_id, commit_id, position)"
    " SELECT :branch, c.id, :base + ('x' || right(c.sha, 16))::bit(64)::bigint * :gap"
    " FROM commit c WHERE c.project_id = :project AND c.sha <> lpad('0', 40, '0')",
    # Series b0, b10, b20... step up by 30 % halfway, as _level says.
    "INSERT INTO result (run_id, series_id, benchmark_id, measure_id, commit_id, position,"
    " value, status)"
    " SELECT :run, s.id, s.benchmark_id, s.measure_id, bc.commit_id, bc.position,"
    " 100.0 * (CASE WHEN substr(b.name, 2)::int % 10 = 0"
    "   AND (bc.position - :base) / :gap >= :points / 2 THEN 1.3 ELSE 1.0 END)"
    " * (1 + 0.01 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())), 'ok'"
    " FROM series s JOIN benchmark b ON b.id = s.benchmark_id"
    " CROSS JOIN branch_commit bc WHERE bc.branch_id = :branch AND bc.position > :base",
    # One result per commit: each point is that result's value.
    "INSERT INTO series_point (series_id, position, commit_id, value, count)"
    " SELECT series_id, position, commit_id, value, 1 FROM result WHERE position > :base",
    "UPDATE series_state st SET points = p.n, last_position = p.last, epoch = st.epoch + 1"
    " FROM (SELECT series_id, count(*) AS n, max(position) AS last FROM series_point"
    " GROUP BY series_id) p WHERE p.series_id = st.series_id",
)


def _alerts(url: str) -> int:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        count = int(session.scalar(select(func.count(Alert.id)).where(Alert.active)) or 0)
    engine.dispose()
    return count


def test_one_run_over_1000_long_series(app_and_token: tuple[Any, str, str]) -> None:
    app, token, url = app_and_token
    rng = np.random.default_rng(0)
    _run(app, token, 0, rng)  # creates the series; the history goes after it
    start = time.perf_counter()
    _bulk_history(url)
    built = time.perf_counter() - start
    CACHE.clear()
    cold = _run(app, token, POINTS, rng)
    alerts = _alerts(url)
    warm = _run(app, token, POINTS + 1, rng)
    print(
        f"\n{SERIES} series x {POINTS} points on PostgreSQL (history bulk-written in"
        f" {built:.1f} s): one run, upload to alerts stored: cold {cold:.2f} s"
        f" ({alerts} alerts raised), warm {warm:.2f} s"
    )
    assert alerts >= SERIES // 10
    assert warm <= TARGET_S, f"a run took {warm:.1f} s, target {TARGET_S} s"
    # Cold (a restarted worker rebuilds 1,000 states from 1,000,000 stored points):
    # reported; guarded against regressions only (README, "Detection cost per run").
    assert cold <= 2 * TARGET_S, f"cold run took {cold:.1f} s"
