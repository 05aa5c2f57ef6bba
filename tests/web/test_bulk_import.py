"""``benchwarden import``: asv histories and commit-named files, idempotent, all or nothing.

Each test runs the real command against a fresh, committed database of each
engine (SQLite through executemany, PostgreSQL through COPY).
"""

from __future__ import annotations

import json
import multiprocessing.pool
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from runner.parsers import parse_path
from runner.schema import RunPayload
from tests.conftest import FIXTURES, table_counts
from tests.support.asv_history import commit_sha, write_history
from web.cli.main import main
from web.db import make_engine, make_sessionmaker, session_scope
from web.models import (
    Alert,
    Benchmark,
    BranchCommit,
    Commit,
    Result,
    Run,
    Series,
    SeriesPoint,
    SeriesState,
)
from web.queries.points import points_from_results, stored_points
from web.services.ingest import ingest_run
from web.services.projects import create_project, find_project

ASV_FIXTURE = FIXTURES / "asv"


@pytest.fixture()
def db(live_database: str) -> Iterator[tuple[str, Engine]]:
    engine = make_engine(live_database)
    with session_scope(make_sessionmaker(engine)) as session:
        create_project(session, "p")
    yield live_database, engine
    engine.dispose()


def _import(url: str, path: Path, *extra: str) -> int:
    return main(["import", "--project", "p", str(path), "--database-url", url, *extra])


def _stored(engine: Engine) -> dict[str, int]:
    """Counts of everything an import writes (the audit trail records each attempt)."""
    with engine.connect() as connection:
        counts = table_counts(connection)
    counts.pop("audit_entry", None)
    return counts


def test_imports_an_asv_results_directory(db, capsys) -> None:  # type: ignore[no-untyped-def]
    url, engine = db
    assert _import(url, ASV_FIXTURE) == 0
    out = capsys.readouterr().out
    assert "imported 2 files: 2 runs (0 already stored), 18 results, 2 new commits" in out
    with engine.connect() as connection:
        runs = connection.execute(select(Run.source_format, Run.environment, Run.status)).all()
        assert sorted(runs) == [("asv", "existing-py_root_.pyenv_versions_3.11.7_bin_python3", s)
                                for s in ("partial", "partial")]  # fmt: skip
        assert connection.scalar(select(func.count()).select_from(Result)) == 18
        # ordered by asv's commit date: 10147ebd (Jan 1) before 3a6125b5 (Jan 2)
        order = connection.execute(
            select(Commit.sha).join(BranchCommit).order_by(BranchCommit.position)
        ).scalars()
        assert [sha[:8] for sha in order] == ["10147ebd", "3a6125b5"]
        states = connection.execute(select(SeriesState.points)).scalars().all()
        assert len(states) == 9 and max(states) == 2


def test_second_import_stores_nothing(db, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, engine = db
    history = write_history(tmp_path, commits=12, benchmarks=5)
    assert _import(url, history, "--workers", "2") == 0
    first = _stored(engine)
    assert first["result"] == 60 and first["run"] == 12 and first["series_point"] == 60
    capsys.readouterr()
    assert _import(url, history, "--workers", "2") == 0
    assert "0 runs (12 already stored), 0 results, 0 new commits" in capsys.readouterr().out
    assert _stored(engine) == first


def test_a_later_import_extends_the_series(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, engine = db
    assert _import(url, write_history(tmp_path / "a", commits=6, benchmarks=3)) == 0
    later = write_history(tmp_path / "b", commits=4, benchmarks=3, first_commit=6)
    assert _import(url, later) == 0
    session = make_sessionmaker(engine)()
    try:
        series_ids = list(session.scalars(select(Series.id)))
        assert stored_points(session, series_ids) == points_from_results(session, series_ids)
        positions = [p.position for p in stored_points(session, series_ids)[series_ids[0]]]
        assert len(positions) == 10 and positions == sorted(positions)
        order = session.scalars(
            select(Commit.sha).join(BranchCommit).order_by(BranchCommit.position)
        ).all()
        assert order == [commit_sha(i) for i in range(10)]
    finally:
        session.close()


def test_an_older_history_goes_before_the_stored_one(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Commits are placed by asv's commit dates among those already stored, not appended."""
    url, engine = db
    assert (
        _import(url, write_history(tmp_path / "new", commits=4, benchmarks=2, first_commit=4)) == 0
    )
    assert _import(url, write_history(tmp_path / "old", commits=4, benchmarks=2)) == 0
    session = make_sessionmaker(engine)()
    try:
        order = session.scalars(
            select(Commit.sha).join(BranchCommit).order_by(BranchCommit.position)
        ).all()
        assert order == [commit_sha(i) for i in range(8)]
        series_ids = list(session.scalars(select(Series.id)))
        assert stored_points(session, series_ids) == points_from_results(session, series_ids)
    finally:
        session.close()


def test_a_run_submitted_before_is_not_stored_again(db, capsys) -> None:  # type: ignore[no-untyped-def]
    """The content hash is the ingest API's: a run `benchwarden submit` sent is skipped."""
    url, engine = db
    output = parse_path(ASV_FIXTURE)
    submitted = output.runs[0]
    assert submitted.commit is not None
    with session_scope(make_sessionmaker(engine)) as session:
        project = find_project(session, "p")
        assert project is not None
        payload = RunPayload(project="p", commit=submitted.commit, idempotency_key="ci-1")
        assert ingest_run(session, project, payload, submitted, output.format).created
        # and a re-run of it on a loaded machine: its times stay out of the points
        assert submitted.machine is not None
        loaded = submitted.machine.model_copy(
            update={"extra": {"preflight": {"problems": ["load average 3.1"]}}}
        )
        results = list(submitted.results)
        timed = next(i for i, r in enumerate(results) if r.measure == "time" and r.status == "ok")
        results[timed] = results[timed].model_copy(update={"value": 1.0})
        noisy = submitted.model_copy(update={"machine": loaded, "results": results})
        assert ingest_run(session, project, payload.model_copy(update={"idempotency_key": "ci-2"}),
                          noisy, output.format).created  # fmt: skip
    assert _import(url, ASV_FIXTURE) == 0
    assert "1 runs (1 already stored), 9 results, 1 new commits" in capsys.readouterr().out
    session = make_sessionmaker(engine)()
    try:
        assert session.scalar(select(func.count()).select_from(Run)) == 3
        series_ids = list(session.scalars(select(Series.id)))
        assert stored_points(session, series_ids) == points_from_results(session, series_ids)
        assert 1.0 not in {
            p.value for ps in stored_points(session, series_ids).values() for p in ps
        }
    finally:
        session.close()


def test_points_equal_the_definition(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The bulk-built points (SQL on PostgreSQL) equal points_from_results, the reference."""
    url, engine = db
    history = write_history(tmp_path, commits=8, benchmarks=4)
    # a second machine measuring the same commits: its own series
    write_history(tmp_path, commits=8, benchmarks=4, machine="other-box", seed=1)
    assert _import(url, history) == 0
    session = make_sessionmaker(engine)()
    try:
        series_ids = list(session.scalars(select(Series.id)))
        assert len(series_ids) == 8
        assert stored_points(session, series_ids) == points_from_results(session, series_ids)
        last = session.scalar(select(func.max(SeriesPoint.position)))
        assert set(session.scalars(select(SeriesState.last_position))) == {last}
    finally:
        session.close()


def test_planted_step_raises_alerts_at_the_end(db, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, engine = db
    history = write_history(
        tmp_path, commits=40, benchmarks=10, step_at=20, step_benchmarks=[2, 7], step=1.25
    )
    assert _import(url, history) == 0
    assert "2 new alerts" in capsys.readouterr().out
    with engine.connect() as connection:
        alerts = connection.execute(
            select(Alert.first_commit_id, Alert.is_regression, Alert.rel_change)
        ).all()
        first = connection.scalar(select(Commit.id).where(Commit.sha == commit_sha(20)))
    assert [(a[0], a[1]) for a in alerts] == [(first, True)] * 2
    assert all(abs(a[2] - 0.25) < 0.03 for a in alerts)


def test_commit_named_files_in_the_given_order(db, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, engine = db
    source = json.loads((FIXTURES / "pytest-benchmark" / "pytest-benchmark.json").read_text())
    shas = [commit_sha(i, "named") for i in range(3)]
    folder = tmp_path / "named"
    folder.mkdir()
    for sha in reversed(shas):  # modification times newest-first: the order file decides
        (folder / f"{sha}.json").write_text(json.dumps(source))
    (tmp_path / "order.txt").write_text("\n".join(shas) + "\n")
    assert _import(url, folder, "--order", str(tmp_path / "order.txt")) == 0
    with engine.connect() as connection:
        order = connection.execute(
            select(Commit.sha).join(BranchCommit).order_by(BranchCommit.position)
        ).scalars()
        assert list(order) == shas
        assert {f for (f,) in connection.execute(select(Run.source_format))} == {"pytest-benchmark"}
    # the same content for three commits is three runs (the commit is part of the hash)
    assert "3 runs (0 already stored)" in capsys.readouterr().out


def test_stored_values_are_the_parsed_ones(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every column as the record parser read it, through COPY text on PostgreSQL: samples,
    statistics, and an error text with a tab, a newline and a backslash in it."""
    url, engine = db
    output = parse_path(FIXTURES / "benchwarden" / "asv-results.json")
    run = output.runs[0]
    results = list(run.results)
    results[0] = results[0].model_copy(
        update={"status": "failed", "value": None, "error": "died:\tat\n  C:\\path\r"}
    )
    timed = next(i for i, r in enumerate(results) if r.status == "ok" and r.measure == "time")
    results[timed] = results[timed].model_copy(update={"samples": [1.5e-6, 2.25e-6, 1e-300]})
    edited = output.model_copy(update={"runs": [run.model_copy(update={"results": results})]})
    folder = tmp_path / "named"
    folder.mkdir()
    (folder / f"{commit_sha(1)}.json").write_text(edited.model_dump_json())
    assert _import(url, folder) == 0
    columns = (Result.value, Result.mean, Result.q1, Result.q3, Result.rounds, Result.sample_count)
    with engine.connect() as connection:
        query = select(Benchmark.name, Benchmark.params, *columns, Result.samples)
        query = query.add_columns(Result.status, Result.error)
        query = query.join(Series, Series.id == Result.series_id)
        stored = connection.execute(query.join(Benchmark, Benchmark.id == Series.benchmark_id))
    expected = []
    for r in results:
        s = r.stats
        count = len(r.samples) if r.samples is not None else (s.rounds if s else None)
        numbers = (s.mean, s.q1, s.q3, s.rounds) if s else (None,) * 4
        expected.append((r.name, r.params, r.value, *numbers, count, r.samples, r.status, r.error))
    assert sorted(map(tuple, stored), key=repr) == sorted(expected, key=repr)


def test_missing_directory_is_an_error(db, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, engine = db
    before = _stored(engine)
    assert _import(url, tmp_path / "nowhere") == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nowhere'} does not exist"
    assert _stored(engine) == before


def test_unknown_project_is_an_error(db, capsys) -> None:  # type: ignore[no-untyped-def]
    url, _ = db
    code = main(["import", "--project", "nope", str(ASV_FIXTURE), "--database-url", url])
    assert code == 2
    assert "error: project 'nope' does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["0", "2"])
def test_unparsable_file_changes_nothing(db, capsys, tmp_path: Path, workers: str) -> None:  # type: ignore[no-untyped-def]
    url, engine = db
    history = write_history(tmp_path, commits=10, benchmarks=4)
    broken = sorted((history / "bench-box").glob(f"{commit_sha(7)[:8]}-*.json"))[0]
    broken.write_text(broken.read_text()[:-40])  # truncated inside the results
    before = _stored(engine)
    assert _import(url, history, "--workers", workers) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"error: bench-box/{broken.name}: ")
    assert err.endswith("(nothing was imported)")
    assert _stored(engine) == before


def test_a_parse_error_lets_the_workers_finish(db, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Killing the parse pool on an error can leave a worker holding the result queue's
    lock, and the pool's task thread then waits on it for ever (an import hung once
    that way): the error path closes the pool and waits instead."""
    url, _ = db
    history = write_history(tmp_path, commits=10, benchmarks=4)
    broken = sorted((history / "bench-box").glob(f"{commit_sha(2)[:8]}-*.json"))[0]
    broken.write_text(broken.read_text()[:-40])
    terminated: list[object] = []
    monkeypatch.setattr(
        multiprocessing.pool.Pool, "terminate", lambda pool: terminated.append(pool)
    )
    assert _import(url, history, "--workers", "2") == 2
    assert terminated == []
    assert multiprocessing.active_children() == []


def test_a_file_that_is_not_a_result_is_an_error(db, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, engine = db
    folder = tmp_path / "named"
    folder.mkdir()
    (folder / f"{commit_sha(1)}.json").write_text('{"hello": "world"}')
    before = _stored(engine)
    assert _import(url, folder) == 2
    err = capsys.readouterr().err
    assert "not a supported format" in err and err.startswith("error: named/")
    assert _stored(engine) == before
