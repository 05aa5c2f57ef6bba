"""Threshold backtest over 10,000 series of 1,000 points on PostgreSQL (issue #18, item 4).

Target: one setting replayed over every series in <= 60 s on this 2-core machine.

The store is written by PostgreSQL itself (generate_series; Box-Muller for 1 %
Gaussian noise): 1,000 commits, 10,000 series and their 10,000,000 per-commit
points (``series_point``, which is all a replay reads), as detection would
have left them. Every 10th series steps up 30 % at commit 500 and every 10th
(offset 5) 3 %; each step has a stored alert, the 30 % ones acknowledged, the
3 % ones triaged invalid. Then the backtest runs for the current setting, and
for a grid of three ``min_rel_change`` values (four settings with the current).

Size: ``BW_BACKTEST_SERIES`` x ``BW_BACKTEST_POINTS`` (default 10,000 x 1,000).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.support.servers import PostgresServer
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import (
    AlertSummary,
    Benchmark,
    Branch,
    BranchCommit,
    Commit,
    Machine,
    Measure,
    Series,
)
from web.services.backtest import backtest, candidates
from web.services.projects import create_project, find_project

SERIES = int(os.environ.get("BW_BACKTEST_SERIES", "10000"))
POINTS = int(os.environ.get("BW_BACKTEST_POINTS", "1000"))
TARGET_S = 60.0
pytestmark = pytest.mark.timeout(3600)

POINTS_SQL = (
    "INSERT INTO series_point (series_id, position, commit_id, value, count)"
    " SELECT s.id, bc.position, bc.commit_id, 100.0 * (CASE"
    "   WHEN substr(b.name, 2)::int % 10 = 0 AND bc.position >= :points / 2 THEN 1.3"
    "   WHEN substr(b.name, 2)::int % 10 = 5 AND bc.position >= :points / 2 THEN 1.03"
    "   ELSE 1.0 END) * (1 + 0.01 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())), 1"
    " FROM series s JOIN benchmark b ON b.id = s.benchmark_id CROSS JOIN branch_commit bc",
    "INSERT INTO series_state (series_id, epoch, points, last_position)"
    " SELECT id, 1, :points, :points - 1 FROM series",
    "INSERT INTO alert (series_id, summary_id, last_good_commit_id, first_commit_id, before,"
    " after, rel_change, pvalue, is_regression, status, confirmation, active,"
    " detector_version, thresholds, created_at, updated_at)"
    " SELECT s.id, su.id, su.last_good_commit_id, su.first_commit_id, 100.0,"
    " CASE WHEN substr(b.name, 2)::int % 10 = 0 THEN 130.0 ELSE 103.0 END,"
    " CASE WHEN substr(b.name, 2)::int % 10 = 0 THEN 0.3 ELSE 0.03 END, 0.0001, true,"
    " CASE WHEN substr(b.name, 2)::int % 10 = 0 THEN 'acknowledged' ELSE 'invalid' END,"
    " 'candidate', true, 'bench', '{}', now(), now()"
    " FROM series s JOIN benchmark b ON b.id = s.benchmark_id CROSS JOIN alert_summary su"
    " WHERE substr(b.name, 2)::int % 5 = 0",
)


def _skeleton(session: Session) -> None:
    """Project, branch, machine, measure, commits, benchmarks, series and one summary."""
    project = create_project(session, "wide")
    branch = Branch(project_id=project.id, name="main")
    machine = Machine(project_id=project.id, name="m")
    measure = Measure(project_id=project.id, name="time", unit="s")
    commits = [Commit(project_id=project.id, sha=f"{k:040x}") for k in range(POINTS)]
    benchmarks = [Benchmark(project_id=project.id, suite="s", name=f"b{k}") for k in range(SERIES)]
    session.add_all([branch, machine, measure, *commits, *benchmarks])
    session.flush()
    session.add_all(
        BranchCommit(branch_id=branch.id, commit_id=c.id, position=k) for k, c in enumerate(commits)
    )
    session.add_all(
        Series(
            project_id=project.id,
            benchmark_id=b.id,
            measure_id=measure.id,
            machine_id=machine.id,
            branch_id=branch.id,
        )
        for b in benchmarks
    )
    session.add(
        AlertSummary(
            project_id=project.id,
            branch_id=branch.id,
            last_good_commit_id=commits[POINTS // 2 - 1].id,
            first_commit_id=commits[POINTS // 2].id,
        )
    )
    session.flush()


@pytest.fixture(scope="module")
def store(bench_pg: PostgresServer) -> Iterator[str]:
    url = bench_pg.create_database("bw_bench_backtest")
    upgrade(url)
    engine = make_engine(url)
    start = time.perf_counter()
    with session_scope(make_sessionmaker(engine)) as session:
        _skeleton(session)
        for statement in POINTS_SQL:
            session.execute(text(statement), {"points": POINTS})
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    print(
        f"\nstore: {SERIES} series x {POINTS} points written in {time.perf_counter() - start:.0f} s"
    )
    engine.dispose()
    yield url


def _timed(url: str, grid: list[str]) -> tuple[float, list[object]]:
    engine = make_engine(url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            project = find_project(session, "wide")
            assert project is not None
            start = time.perf_counter()
            rows = backtest(session, project, candidates(project, grid=grid))
            return time.perf_counter() - start, list(rows)
    finally:
        engine.dispose()


def test_backtest_over_10000_series(store: str) -> None:
    seconds, (row,) = _timed(store, [])
    print(
        f"\nbacktest, current setting: {SERIES} series x {POINTS} points in {seconds:.1f} s"
        f" ({row.raised} raised, {row.kept_total} kept, {row.new} new,"
        f" dropped {row.dropped_total}, precision {row.precision})"
    )
    tenth = SERIES // 10
    assert row.series == SERIES
    # A 3 % step in 1 % noise is found within two points of its stored alert
    # nearly always; the odd one placed further off is dropped plus one new.
    assert row.kept["acknowledged"] == tenth and row.kept["invalid"] >= 0.95 * tenth
    assert seconds <= TARGET_S, f"the backtest took {seconds:.1f} s, target {TARGET_S} s"
    seconds, rows = _timed(store, ["min_rel_change=0.01,0.02,0.05"])
    higher = rows[-1]
    print(
        f"backtest, current + 3-value grid: {seconds:.1f} s;"
        f" min_rel_change=0.05 drops {higher.dropped['invalid']} invalid,"  # type: ignore[attr-defined]
        f" precision {higher.precision}"  # type: ignore[attr-defined]
    )
    assert higher.dropped["invalid"] == tenth  # type: ignore[attr-defined]
