"""A store of 10,000 series x 1,000 points on PostgreSQL, built through the bulk path (issue 18, 2).

The history is written by ``web.services.bulk_load.load_parsed``, the writing
half of ``benchwarden import`` (commits placed, runs stored, result rows sent
with ``COPY``, points rebuilt, detection once per series), from runs generated
in memory: the parse stage is measured by ``test_import_speed.py``, and
generating 2 GB of asv files first would only add minutes. Every result has
summary statistics (mean, median, stddev, min, max, quartiles, rounds); a tenth
of the series step up by 30 % halfway, so the store holds alerts.

Then, over the app in-process (Flask test client, PostgreSQL on loopback):

* a new run touching 1,000 series, from upload until every alert is stored:
  cold (the process holds no detector state) and warm (the next run); target
  warm <= 10 s;
* the benchmarks page (10,000 rows, paged): first and last page, p95 <= 1 s;
* one series' JSON (``/api/v1/projects/{p}/series/{id}``): p95 <= 50 ms warm
  (the same series again), cold reported (20 series never read before);
* the project overview page: p95 <= 1 s;
* the database size per result (whole database, and the result table with its
  indexes).

Size: ``BW_SCALE_SERIES`` x ``BW_SCALE_POINTS`` (default 1,000 x 100, a
minute's check). The full size is ``BW_SCALE_SERIES=10000 BW_SCALE_POINTS=1000``
(10 M results, about 20 minutes on the shared 2-core machine; bench_suites/README.md
"Scale").
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, text

from tests.support.servers import PostgresServer
from web.config import Settings
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Alert, Result, Series
from web.services.bulk_load import ImportSummary, load_parsed
from web.services.bulk_source import ParsedFileRun, SourceFile
from web.services.detection import detect_for_run
from web.services.projects import create_project, find_project
from web.services.series_cache import CACHE
from web.services.tokens import create_token
from web.views.pages import PAGE_ROWS

SERIES = int(os.environ.get("BW_SCALE_SERIES", "1000"))
POINTS = int(os.environ.get("BW_SCALE_POINTS", "100"))
TOUCHED = min(SERIES, 1000)
RUN_TARGET_S = 10.0
PAGE_TARGET_S = 1.0
SERIES_TARGET_S = 0.050
START = datetime(2024, 1, 1, tzinfo=UTC)
FIGURES: dict[str, str] = {}
pytestmark = pytest.mark.timeout(7200)


def _sha(index: int) -> str:
    return f"{index + 1:040x}"


def _runs(rng: np.random.Generator) -> Iterator[list[ParsedFileRun]]:
    """One run per commit: every series measured, 1 % noise, summary statistics."""
    names = [(f"bench_{i // 100}.Suite", f"time_case_{i}") for i in range(SERIES)]
    stepped = np.arange(SERIES) % 10 == 0
    for index in range(POINTS):
        level = np.where(stepped & (index >= POINTS // 2), 1.3e-3, 1e-3)
        value = level * (1 + 0.01 * rng.standard_normal(SERIES))
        spread = value * 0.01
        rows = [
            _row(suite, name, v, s)
            for (suite, name), v, s in zip(names, value.tolist(), spread.tolist(), strict=True)
        ]
        yield [
            ParsedFileRun(
                digest=f"{index:064x}",
                format="asv",
                commit=_sha(index),
                source_name=f"{_sha(index)[:8]}-py3.11.json",
                machine=None,
                environment="py3.11",
                started_at=None,
                status="ok",
                rows=rows,
            )
        ]


def _row(suite: str, name: str, v: float, s: float) -> tuple[Any, ...]:
    """A row as the parse stage hands it over: benchmark, measure, value, summary statistics."""
    stats = (v, v, s, v - 2 * s, v + 2 * s, v - s, v + s, 10)  # mean .. q3, rounds
    return (suite, name, "{}", {}, "time", "s", "lower_is_better", v, *stats, 10, None, "ok", None)


def _files() -> list[SourceFile]:
    return [
        SourceFile(Path(f"{_sha(i)}.json"), _sha(i), START + timedelta(days=i), "file")
        for i in range(POINTS)
    ]


@pytest.fixture(scope="module")
def store(
    bench_pg: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str, str, ImportSummary]]:
    from web import create_app

    url = bench_pg.create_database("bw_bench_scale")
    upgrade(url)
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path_factory.mktemp("scale"),
        database_url=url,
        secret_key="b",
    )
    app = create_app(settings)  # first: a broken app fails before minutes of building
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        token = create_token(session, create_project(session, "scale"), "write").secret
    start = time.perf_counter()
    with session_scope(factory) as session:
        project = find_project(session, "scale")
        assert project is not None
        summary = load_parsed(session, project, _files(), _runs(np.random.default_rng(0)))
    built = time.perf_counter() - start
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    engine.dispose()
    FIGURES["build"] = (
        f"{summary.results_added:,} results in {built:.0f} s: write {summary.load_seconds:.0f} s"
        f" ({summary.rate:,.0f}/s), points {summary.points_seconds:.0f} s,"
        f" detection {summary.detect_seconds:.0f} s ({summary.new_alerts} alerts)"
    )
    print(f"\nbuild: {FIGURES['build']}", flush=True)
    yield app, token, url, summary
    app.extensions["benchwarden.engine"].dispose()
    _report()


def _report() -> None:
    print(f"\n{SERIES:,} series x {POINTS:,} points on PostgreSQL")
    print("| what | figure |\n| --- | --- |")
    for key, value in FIGURES.items():
        print(f"| {key} | {value} |")


def _p95(samples: list[float]) -> float:
    return float(np.percentile(samples, 95))


def _timed(fetch: Any, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fetch()
        out.append(time.perf_counter() - start)
    return out


def _body(index: int, rng: np.random.Generator) -> bytes:
    # The same benchmarks as the history (first TOUCHED), a 30 % step on a twentieth.
    records = [
        {
            "suite": f"bench_{i // 100}.Suite",
            "name": f"time_case_{i}",
            "measure": "time",
            "unit": "s",
            "value": (1.3e-3 if i % 10 == 0 and index >= POINTS // 2 else 1e-3)
            * (1 + 0.01 * float(rng.standard_normal())),
        }
        for i in range(TOUCHED)
    ]
    return json.dumps({"format": "custom", "runs": [{"results": records}]}).encode()


def _run(app: Any, token: str, index: int, rng: np.random.Generator) -> float:
    """Upload one run, then detect it as the worker's task does; seconds until alerts are stored."""
    body = _body(index, rng)
    start = time.perf_counter()
    response = app.test_client().post(
        "/api/v1/runs",
        data={
            "file": (io.BytesIO(body), "results.json"),
            "metadata": json.dumps(
                {
                    "project": "scale",
                    "commit": _sha(index),
                    "parents": [_sha(index - 1)],
                    "branch": "main",
                    "format": "benchwarden",
                    "machine": {"name": "default"},
                }
            ),
        },
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    with session_scope(app.extensions["benchwarden.sessionmaker"]) as session:
        detect_for_run(session, int(response.json["run"]["id"]))
    return time.perf_counter() - start


def test_build_holds_every_result(store: tuple[Any, str, str, ImportSummary]) -> None:
    summary = store[3]
    assert summary.results_added == SERIES * POINTS
    assert summary.series == SERIES
    assert summary.new_alerts == len(range(0, SERIES, 10))


def test_new_run_until_alerts_stored(store: tuple[Any, str, str, ImportSummary]) -> None:
    app, token, _, _ = store
    rng = np.random.default_rng(1)
    CACHE.clear()
    cold = _run(app, token, POINTS, rng)
    warm = _run(app, token, POINTS + 1, rng)
    FIGURES[f"new run touching {TOUCHED:,} series, upload to alerts stored"] = (
        f"cold {cold:.2f} s, warm {warm:.2f} s (target warm <= {RUN_TARGET_S:.0f} s)"
    )
    assert warm <= RUN_TARGET_S


def test_benchmarks_page(store: tuple[Any, str, str, ImportSummary]) -> None:
    app, _, _, _ = store
    client = app.test_client()
    first = client.get("/p/scale/benchmarks?branch=main")
    assert first.status_code == 200
    pages = -(-SERIES // PAGE_ROWS)
    samples = []
    for page in (1, pages):

        def fetch(page: int = page) -> None:
            response = client.get(f"/p/scale/benchmarks?branch=main&page={page}")
            assert response.status_code == 200

        samples += _timed(fetch, 5)
    FIGURES[f"benchmarks page, {SERIES:,} rows in {pages} pages (first, last)"] = (
        f"p95 {_p95(samples) * 1000:.0f} ms (target <= {PAGE_TARGET_S * 1000:.0f} ms)"
    )
    assert _p95(samples) <= PAGE_TARGET_S


def test_series_json(store: tuple[Any, str, str, ImportSummary]) -> None:
    app, _, url, _ = store
    engine = make_engine(url)
    with engine.connect() as connection:
        ids = list(connection.execute(select(Series.id).order_by(Series.id).limit(21)).scalars())
    engine.dispose()
    client = app.test_client()

    def fetch(series_id: int) -> None:
        response = client.get(f"/api/v1/projects/scale/series/{series_id}")
        assert response.status_code == 200
        columns = response.json["points"]
        assert len(next(iter(columns.values()))) >= POINTS

    cold = [t for series_id in ids[1:] for t in _timed(lambda s=series_id: fetch(s), 1)]
    warm = _timed(lambda: fetch(ids[0]), 60)
    FIGURES[f"one series JSON, {POINTS:,} points"] = (
        f"warm p95 {_p95(warm) * 1000:.1f} ms (target <= 50 ms);"
        f" cold p95 {_p95(cold) * 1000:.1f} ms"
    )
    assert _p95(warm) <= SERIES_TARGET_S


def test_overview_page(store: tuple[Any, str, str, ImportSummary]) -> None:
    app, _, _, _ = store
    client = app.test_client()

    def fetch() -> None:
        assert client.get("/p/scale/").status_code == 200

    samples = _timed(fetch, 1) + _timed(fetch, 9)
    FIGURES["project overview page"] = (
        f"p95 {_p95(samples) * 1000:.0f} ms, first {samples[0] * 1000:.0f} ms"
        f" (target <= {PAGE_TARGET_S * 1000:.0f} ms)"
    )
    assert _p95(samples) <= PAGE_TARGET_S


def test_size_per_result(store: tuple[Any, str, str, ImportSummary]) -> None:
    _, _, url, _ = store
    engine = make_engine(url)
    with engine.connect() as connection:
        results = int(connection.scalar(select(func.count()).select_from(Result)) or 0)
        database = int(connection.scalar(text("SELECT pg_database_size(current_database())")))
        table = int(connection.scalar(text("SELECT pg_total_relation_size('result')")))
        points = int(connection.scalar(text("SELECT pg_total_relation_size('series_point')")))
        alerts = int(connection.scalar(select(func.count()).select_from(Alert)) or 0)
    engine.dispose()
    FIGURES["database size"] = (
        f"{database / 2**30:.2f} GiB, {database / results:.0f} B per result"
        f" (result table with indexes {table / results:.0f} B, points"
        f" {points / results:.0f} B per result); {alerts:,} alerts"
    )
    assert results >= SERIES * POINTS
