"""Dashboard speed on PostgreSQL with a generated data set.

Run: ``pytest bench_suites/test_dashboard_speed.py -s``. Targets (issue 5):
series JSON for 10,000 points ≤ 50 ms p95; trend page of 10,000 points rendered
and interactive in headless Chromium ≤ 1.5 s; benchmarks page of 2,000
benchmarks with sparklines ≤ 1 s server time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from tests.conftest import LiveServer
from web.config import Settings
from web.db import make_engine
from web.migrations import upgrade
from web.models import (
    Benchmark,
    Branch,
    BranchCommit,
    Commit,
    Machine,
    Measure,
    Project,
    Result,
    Run,
    Series,
)
from web.services.point_state import repair_points

LONG = 10_000
BENCHMARKS = 2_000
SHORT = 30
CHROMIUM = "/usr/bin/chromium"


def _ids(session: Session, model, rows: list[dict]) -> list[int]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    )


def generate(url: str) -> dict[str, int]:
    """One 10,000-point series (two steps) and 2,000 benchmarks with 30 points each."""
    engine = make_engine(url)
    rng = np.random.default_rng(0)
    with Session(engine) as s:
        project = Project(name="perf", repo_url="https://forge.example/perf")
        s.add(project)
        s.flush()
        pid = project.id
        box, br = Machine(project_id=pid, name="box1"), Branch(project_id=pid, name="main")
        meas = Measure(project_id=pid, name="time", unit="s")
        s.add_all([box, br, meas])
        s.flush()
        t0 = datetime(2025, 1, 1, tzinfo=UTC)
        commits = _ids(
            s,
            Commit,
            [
                {
                    "project_id": pid,
                    "sha": f"{i:040x}",
                    "author": "Ada",
                    "message": f"change {i}",
                    "committed_at": t0 + timedelta(minutes=i),
                    "parents": [],
                }
                for i in range(LONG)
            ],
        )
        s.execute(
            insert(BranchCommit),
            [
                {"branch_id": br.id, "commit_id": c, "position": i * 1024}
                for i, c in enumerate(commits)
            ],
        )
        runs = _ids(
            s,
            Run,
            [
                {
                    "project_id": pid,
                    "commit_id": c,
                    "branch_id": br.id,
                    "machine_id": box.id,
                    "source_format": "custom",
                    "machine_snapshot": {},
                    "result_count": 1,
                }
                for c in commits
            ],
        )
        names = ["long"] + [f"bench_{k:04d}" for k in range(BENCHMARKS - 1)]
        benches = _ids(
            s,
            Benchmark,
            [
                {
                    "project_id": pid,
                    "suite": f"suite{k % 10}",
                    "name": n,
                    "params": {},
                    "params_key": "{}",
                }
                for k, n in enumerate(names)
            ],
        )
        series = _ids(
            s,
            Series,
            [
                {
                    "project_id": pid,
                    "benchmark_id": b,
                    "measure_id": meas.id,
                    "machine_id": box.id,
                    "branch_id": br.id,
                    "noise": 0.01,
                    "latest_change": 0.0,
                }
                for b in benches
            ],
        )
        level = np.where(
            np.arange(LONG) < 4000, 1e-3, np.where(np.arange(LONG) < 7000, 1.2e-3, 1.1e-3)
        )
        values = level * (1 + 0.01 * rng.standard_normal(LONG))
        rows = [
            {
                "run_id": runs[i],
                "series_id": series[0],
                "benchmark_id": benches[0],
                "measure_id": meas.id,
                "commit_id": commits[i],
                "position": i * 1024,
                "value": float(values[i]),
                "stddev": float(values[i] * 0.01),
            }
            for i in range(LONG)
        ]
        for k in range(1, BENCHMARKS):
            base = LONG - SHORT
            rows.extend(
                {
                    "run_id": runs[i],
                    "series_id": series[k],
                    "benchmark_id": benches[k],
                    "measure_id": meas.id,
                    "commit_id": commits[i],
                    "position": i * 1024,
                    "value": 1e-4 * k * (1 + 0.01 * ((i * 7) % 5)),
                }
                for i in range(base, LONG)
            )
        for start in range(0, len(rows), 20_000):
            s.execute(insert(Result), rows[start : start + 20_000])
        # the per-commit points detection keeps (series_point), which the pages read
        repair_points(s, series)
        s.commit()
        out = {"long_series": series[0], "long_benchmark": benches[0]}
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def dataset(bench_pg, tmp_path_factory) -> Iterator[tuple[LiveServer, dict[str, int]]]:  # type: ignore[no-untyped-def]
    url = bench_pg.create_database("bw_dash_bench")
    upgrade(url)
    ids = generate(url)
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path_factory.mktemp("dash"),
        database_url=url,
        secret_key="bench",
    )
    with LiveServer(settings) as server:
        yield server, ids


def _p95(benchmark) -> float:  # type: ignore[no-untyped-def]
    return float(np.percentile(benchmark.stats.stats.data, 95))


def _fetcher(client, url: str):  # type: ignore[no-untyped-def]
    def fetch() -> dict:  # type: ignore[type-arg]
        response = client.get(url)
        assert response.status_code == 200
        return response.json  # type: ignore[no-any-return]

    return fetch


def test_series_json_10k_points(benchmark, dataset) -> None:  # type: ignore[no-untyped-def]
    """Warm: the answer is cached; each request still checks the version and reads marks."""
    server, ids = dataset
    url = f"/p/perf/series/{ids['long_series']}/points.json?max=1500"
    fetch = _fetcher(server.app.test_client(), url)
    body = benchmark.pedantic(fetch, rounds=60, warmup_rounds=3)
    assert body["total"] == LONG and len(body["points"]["i"]) <= 1502
    p95 = _p95(benchmark)
    print(f"\nseries JSON, 10,000 points (overview, warm): p95 {p95 * 1000:.1f} ms")
    assert p95 <= 0.050


def test_series_json_10k_points_cold(benchmark, dataset) -> None:  # type: ignore[no-untyped-def]
    """Cold: the cache is emptied before every round (first view after a restart or ingest)."""
    from web.views.series_json import points_cache

    server, ids = dataset
    url = f"/p/perf/series/{ids['long_series']}/points.json?max=1500"
    fetch = _fetcher(server.app.test_client(), url)

    def empty() -> None:
        with server.app.app_context():
            points_cache().clear()

    body = benchmark.pedantic(fetch, setup=empty, rounds=20, warmup_rounds=1)
    assert body["total"] == LONG
    print(f"\nseries JSON, 10,000 points (overview, cold): p95 {_p95(benchmark) * 1000:.1f} ms")


def test_series_json_full_resolution_10k(benchmark, dataset) -> None:  # type: ignore[no-untyped-def]
    server, ids = dataset
    client = server.app.test_client()
    url = f"/p/perf/series/{ids['long_series']}/points.json?max=20000"
    body = benchmark.pedantic(lambda: client.get(url).json, rounds=20, warmup_rounds=2)
    assert len(body["points"]["i"]) == LONG
    p95 = _p95(benchmark)
    print(f"\nseries JSON, 10,000 points (full resolution, warm): p95 {p95 * 1000:.1f} ms")


def test_benchmarks_page_2000(benchmark, dataset) -> None:  # type: ignore[no-untyped-def]
    server, _ = dataset
    client = server.app.test_client()

    def page() -> str:
        response = client.get("/p/perf/benchmarks?branch=main")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    html = benchmark.pedantic(page, rounds=10, warmup_rounds=1)
    assert html.count("<polyline") == BENCHMARKS
    p95 = _p95(benchmark)
    print(f"\nbenchmarks page, 2,000 rows with sparklines: p95 {p95 * 1000:.0f} ms")
    assert p95 <= 1.0


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="apt-get install chromium")
def test_trend_page_interactive_10k(benchmark, dataset) -> None:  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.web.views.test_browser import launch_chromium
    from web.views.vendor import MISSING, plot_library_installed

    assert plot_library_installed(), MISSING

    server, ids = dataset
    url = f"{server.url}/p/perf/benchmarks/{ids['long_benchmark']}"
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)

        def load() -> float:
            # A fresh context per round: nothing cached, the plotting library included.
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            started = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("body[data-plots-ready='true']", timeout=10_000)
            elapsed = time.perf_counter() - started
            assert int(page.get_attribute(".plot", "data-points") or 0) > 1000
            context.close()
            return elapsed

        benchmark.pedantic(load, rounds=8, warmup_rounds=1)
        browser.close()
    p95 = _p95(benchmark)
    print(f"\ntrend page, 10,000 points, navigation to interactive: p95 {p95 * 1000:.0f} ms")
    assert p95 <= 1.5
