"""Threshold backtesting on a seeded history with known true and false alerts, on both engines.

The history (`tests.web.backtest_history`) is posted through the ingest API, so
its alerts are detection's own; people's decisions go through the triage service.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from tests.factories import make_project, make_token, native_results, post_results, sha
from tests.web.backtest_history import alert_of, post_planted, seed_planted
from web.db import make_engine
from web.migrations import upgrade
from web.models import Alert, Annotation, Project
from web.models.project_settings import ProjectSettingsError
from web.queries.backtest import point_chunks, project_series_ids
from web.queries.points import stored_columns
from web.services.backtest import BacktestRow, backtest, candidates
from web.services.projects import find_project

STATES = ("untriaged", "acknowledged", "investigating", "fixed", "invalid", "wontfix")


def _counts(**found: int) -> dict[str, int]:
    return {state: found.get(state, 0) for state in STATES}


@pytest.fixture()
def project(client, db_session: Session) -> Project:  # type: ignore[no-untyped-def]
    found = make_project(db_session, "proj")
    post_planted(client, db_session, make_token(db_session, found))
    return found


def _by_label(rows: list[BacktestRow]) -> dict[str, BacktestRow]:
    return {row.label: row for row in rows}


def test_raising_min_rel_change_drops_the_invalid_alert(project, db_session) -> None:  # type: ignore[no-untyped-def]
    grid = ["min_rel_change=0.01,0.02,0.05,0.07"]
    rows = _by_label(backtest(db_session, project, candidates(project, grid=grid)))
    assert list(rows) == [
        "current",
        "min_rel_change=0.01",
        "min_rel_change=0.02",
        "min_rel_change=0.05",
        "min_rel_change=0.07",
    ]
    everything = _counts(untriaged=1, acknowledged=1, invalid=1, wontfix=1)
    current = rows["current"]
    assert (current.series, current.raised, current.new) == (6, 4, 0)
    assert current.kept == everything
    assert current.dropped == _counts()
    assert current.precision == pytest.approx(2 / 3)
    assert current.recall == 1.0
    assert rows["min_rel_change=0.02"] == BacktestRow(
        "min_rel_change=0.02", ("detector.min_rel_change=0.02",), *_tail(current)
    )
    lower = rows["min_rel_change=0.01"]
    assert (lower.raised, lower.new, lower.kept, lower.dropped) == (5, 1, everything, _counts())
    higher = rows["min_rel_change=0.05"]
    assert (higher.raised, higher.new) == (3, 0)
    assert higher.kept == _counts(untriaged=1, acknowledged=1, wontfix=1)
    assert higher.dropped == _counts(invalid=1)
    assert (higher.precision, higher.recall) == (1.0, 1.0)
    highest = rows["min_rel_change=0.07"]
    assert highest.kept == _counts(untriaged=1, acknowledged=1)
    assert highest.dropped == _counts(invalid=1, wontfix=1)
    assert (highest.precision, highest.recall) == (1.0, 0.5)


def _tail(row: BacktestRow) -> tuple[object, ...]:
    return (
        row.series,
        row.raised,
        row.new,
        row.kept,
        row.dropped,
        row.precision,
        row.recall,
    )


def test_a_known_change_is_never_a_new_alert(project, db_session) -> None:  # type: ignore[no-untyped-def]
    """A step people annotated as expected raises nothing, as in detection."""
    alert = alert_of(db_session, "open")
    assert alert is not None
    db_session.add(
        Annotation(series_id=alert.series_id, commit_id=alert.first_commit_id, kind="known_change")
    )
    db_session.execute(delete(Alert).where(Alert.id == alert.id))
    db_session.commit()
    (row,) = backtest(db_session, project, candidates(project))
    assert (row.raised, row.new) == (3, 0)
    assert row.kept == _counts(acknowledged=1, invalid=1, wontfix=1)


def test_an_environment_change_is_not_a_new_alert(client, db_session) -> None:  # type: ignore[no-untyped-def]
    """The runner's CPU changes at 15 (+20%), the code slows by 10% at 30: at any
    threshold the backtest finds the one alert detection raised, nothing new."""
    found = make_project(db_session, "proj")
    token = make_token(db_session, found)
    rng = np.random.default_rng(11)
    for i in range(45):
        level = (1.2 if i >= 15 else 1.0) * (1.1 if i >= 30 else 1.0)
        data = native_results({"a": level * (1 + 0.005 * rng.standard_normal())})
        cpu = "Old CPU @ 2.0GHz" if i < 15 else "New CPU @ 1.6GHz"
        machine = {"name": "box1", "cpu_model": cpu, "cores": 2}
        post_results(
            client, token, sha(i), data, parents=[sha(i - 1)] if i else [], machine=machine
        )
    # Without the annotation the replay itself must see the machine change.
    db_session.execute(delete(Annotation))
    db_session.commit()
    rows = backtest(db_session, found, candidates(found, grid=["min_rel_change=0.01,0.05"]))
    assert [(r.raised, r.new, r.kept["untriaged"]) for r in rows] == [(1, 0, 1)] * 3


def test_settings_are_validated_like_project_set(project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProjectSettingsError, match="not a detector setting"):
        candidates(project, sets=["machines=a"])
    with pytest.raises(ProjectSettingsError, match="min_rel_change"):
        candidates(project, grid=["min_rel_change=0.01,-1"])
    with pytest.raises(ProjectSettingsError, match="KEY=VALUE"):
        candidates(project, sets=["alpha"])
    with pytest.raises(ProjectSettingsError, match="at most 12"):
        candidates(project, grid=["alpha=0.01,0.02,0.03,0.04", "min_segment=3,4,5,6"])
    both = candidates(project, sets=["detector.alpha=0.001"], grid=["min_rel_change=0.03,0.04"])
    assert [c.label for c in both] == [
        "current",
        "alpha=0.001, min_rel_change=0.03",
        "alpha=0.001, min_rel_change=0.04",
    ]
    assert both[1].thresholds.alpha == 0.001
    assert both[1].thresholds.min_rel_change == 0.03
    assert both[1].assignments == ("detector.alpha=0.001", "detector.min_rel_change=0.03")


def test_the_packed_read_equals_the_stored_columns(project, db_session) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the replay reads points packed by the server: detection's arrays."""
    ids = project_series_ids(db_session, project.id)
    ((chunk, columns),) = list(point_chunks(db_session, ids))
    expected = stored_columns(db_session, ids)
    assert chunk == ids and sorted(columns) == sorted(expected) == ids
    for series_id, found in columns.items():
        for name in ("positions", "commit_ids", "values"):
            assert np.array_equal(getattr(found, name), getattr(expected[series_id], name))
            assert getattr(found, name).dtype == getattr(expected[series_id], name).dtype


def test_points_read_ahead_on_their_own_connection(pg_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A session bound to a PostgreSQL engine reads the next chunk on a second connection
    while the replay works: the chunks are the same, in order, and equal detection's read."""
    if pg_server is None:
        pytest.skip("needs the PostgreSQL test server")
    url = pg_server.create_database("bw_backtest_prefetch")
    upgrade(url)
    seed_planted(url, tmp_path)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            project = find_project(session, "proj")
            assert project is not None
            ids = project_series_ids(session, project.id)
            chunks = list(point_chunks(session, ids, chunk=4))
            assert [chunk for chunk, _ in chunks] == [ids[:4], ids[4:]]
            expected = stored_columns(session, ids)
            for _, columns in chunks:
                for series_id, found in columns.items():
                    assert np.array_equal(found.values, expected[series_id].values)
                    assert np.array_equal(found.commit_ids, expected[series_id].commit_ids)
            early = point_chunks(session, ids, chunk=1)
            next(early)
            early.close()  # the reader thread stops when the replay does
            (row,) = backtest(session, project, candidates(project))
            assert (row.raised, row.kept["invalid"]) == (4, 1)
    finally:
        engine.dispose()
