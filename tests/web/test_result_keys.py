"""A result's commit, benchmark and measure must be its run's and its series' (migration 0010).

The two composite keys replace five single ones; these tests hold them to the
integrity the single keys gave (deletes cascade) and to what they add (a result
cannot contradict its run or its series), on both engines.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.factories import make_history, make_project, sha
from web.models import Benchmark, Commit, Result, Run, Series


@pytest.fixture()
def series(db_session: Session) -> dict[str, Series]:
    """Two benchmarks over three commits: one run and two results a commit."""
    return make_history(
        db_session, make_project(db_session), {"a": [1.0, 1.1, 1.2], "b": [2.0] * 3}
    )


def _run(session: Session, n: int) -> Run:
    run = session.scalar(select(Run).join(Commit).where(Commit.sha == sha(n)))
    assert run is not None
    return run


def _result(session: Session, series: Series, run: Run, **override: int) -> Result:
    fields = {
        "run_id": run.id,
        "series_id": series.id,
        "benchmark_id": series.benchmark_id,
        "measure_id": series.measure_id,
        "commit_id": run.commit_id,
        "position": 5 * 1024,
        **override,
    }
    return Result(value=1.0, **fields)


def _count(session: Session, *where) -> int:  # type: ignore[no-untyped-def]
    return int(session.scalar(select(func.count()).select_from(Result).where(*where)) or 0)


def test_a_consistent_result_is_accepted(db_session: Session, series: dict[str, Series]) -> None:
    db_session.add(_result(db_session, series["a"], _run(db_session, 1)))
    db_session.flush()
    assert _count(db_session, Result.series_id == series["a"].id) == 4


def test_a_result_naming_another_commit_than_its_run_is_refused(
    db_session: Session, series: dict[str, Series]
) -> None:
    other = _run(db_session, 2).commit_id
    db_session.add(_result(db_session, series["a"], _run(db_session, 1), commit_id=other))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_a_result_naming_another_benchmark_than_its_series_is_refused(
    db_session: Session, series: dict[str, Series]
) -> None:
    other = series["b"].benchmark_id
    db_session.add(_result(db_session, series["a"], _run(db_session, 1), benchmark_id=other))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_deleting_a_benchmark_deletes_its_results(
    db_session: Session, series: dict[str, Series]
) -> None:
    gone, kept = series["a"], series["b"]
    db_session.execute(delete(Benchmark).where(Benchmark.id == gone.benchmark_id))
    db_session.flush()
    assert _count(db_session, Result.benchmark_id == gone.benchmark_id) == 0
    assert _count(db_session, Result.series_id == kept.id) == 3


def test_deleting_a_commit_deletes_its_results(
    db_session: Session, series: dict[str, Series]
) -> None:
    commit = _run(db_session, 2).commit_id
    db_session.execute(delete(Commit).where(Commit.id == commit))
    db_session.flush()
    assert _count(db_session, Result.commit_id == commit) == 0
    assert _count(db_session) == 4
