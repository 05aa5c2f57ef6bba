"""Incremental detection equals the full recomputation, on both engines.

One history goes through the service as it runs (stored points folded per
run, detector states cached per process); the same history in a second
project is detected by :func:`recompute_series` after every run (every point
from the results, a fresh detector). Points, change points, alerts and series
statistics must come out identical, including after a re-run of an old commit,
a commit placed in the middle of the series and a failed result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from detector import detect_change_points
from tests.factories import make_project, make_token, post_results, sha
from web.models import Alert, Benchmark, Commit, Project, Series, SeriesPoint, SeriesState
from web.queries.points import points_from_results, run_touches
from web.services import detection
from web.services.detection import DetectionOutcome, project_thresholds, recompute_series
from web.services.series_cache import CACHE

Levels = Callable[[int], dict[str, float]]


def _levels(i: int) -> dict[str, float]:
    return {
        "step": 1.0 if i < 20 else 1.25,
        "back": 2.0 if i < 12 or i >= 26 else 2.6,
        "flat": 3.0,
    }


def _body(values: dict[str, float | None]) -> bytes:
    records = [
        {"suite": "s", "name": name, "measure": "time", "unit": "s"}
        | ({"value": v} if v is not None else {"status": "failed", "error": "crashed"})
        for name, v in values.items()
    ]
    return json.dumps({"format": "custom", "runs": [{"results": records}]}).encode()


def _script() -> Iterator[tuple[str, list[str], dict[str, float | None]]]:
    """(commit, parents, values) in arrival order: a history with the awkward cases in it."""
    rng = np.random.default_rng(7)

    def noisy(i: int) -> dict[str, float | None]:
        return {k: v * (1 + 0.004 * rng.standard_normal()) for k, v in _levels(i).items()}

    for i in range(36):
        values = noisy(i)
        if i == 17:
            values["flat"] = None  # a failed result: no point for that commit
        yield sha(i), [sha(i - 1)] if i else [], values
        if i == 30:
            # A re-run of an old commit moves its point (median of two runs).
            yield sha(22), [sha(21)], {"step": 1.6, "back": 2.6, "flat": 3.3}
        if i == 32:
            # A commit whose parent is old: placed between sha(8) and sha(9).
            yield "f" * 40, [sha(8)], {"step": 1.0, "back": 2.0, "flat": 3.0}
    yield sha(35), [sha(34)], noisy(35)  # the newest commit re-run


def _full_detect_for_run(session: Session, run_id: int) -> DetectionOutcome:
    series_ids = sorted({s for s, _ in run_touches(session, run_id)})
    alerts = recompute_series(session, series_ids)
    summaries = tuple(sorted({a.summary_id for a in alerts}))
    return DetectionOutcome(tuple(series_ids), tuple(a.id for a in alerts), summaries)


def _snapshot(session: Session, project: str) -> dict[str, Any]:
    """Everything detection stores for a project, named by benchmark and commit sha."""
    project_id = session.scalar(select(Project.id).where(Project.name == project))
    series = {
        s.id: (name, s)
        for s, name in session.execute(
            select(Series, Benchmark.name)
            .join(Benchmark, Benchmark.id == Series.benchmark_id)
            .where(Series.project_id == project_id)
        )
    }
    shas: dict[int | None, str] = {
        cid: sha for cid, sha in session.execute(select(Commit.id, Commit.sha))
    }
    alerts = session.scalars(select(Alert).where(Alert.series_id.in_(series))).all()
    points = session.scalars(select(SeriesPoint).where(SeriesPoint.series_id.in_(series))).all()
    return {
        "series": {name: (s.noise, s.unstable, s.latest_change) for name, s in series.values()},
        "points": sorted(
            (series[p.series_id][0], shas[p.commit_id], p.value, p.count) for p in points
        ),
        "alerts": sorted(
            (
                series[a.series_id][0],
                shas[a.first_commit_id],
                shas.get(a.last_good_commit_id),
                a.before,
                a.after,
                a.rel_change,
                a.pvalue,
                a.is_regression,
                a.active,
                a.status,
            )
            for a in alerts
        ),
    }


def _check_points(session: Session, project: str) -> None:
    """Stored points equal the points computed from every result; states are consistent."""
    project_id = session.scalar(select(Project.id).where(Project.name == project))
    ids = list(session.scalars(select(Series.id).where(Series.project_id == project_id)))
    expected = points_from_results(session, ids)
    for series_id in ids:
        stored = session.scalars(
            select(SeriesPoint)
            .where(SeriesPoint.series_id == series_id)
            .order_by(SeriesPoint.position)
        ).all()
        got = [(p.position, p.commit_id, p.value, p.count) for p in stored]
        want = [(p.position, p.commit_id, p.value, p.count) for p in expected.get(series_id, [])]
        assert got == want
        state = session.get(SeriesState, series_id)
        assert state is not None and state.points == len(want)


@pytest.fixture()
def tokens(db_session: Session) -> dict[str, str]:
    return {
        name: make_token(db_session, make_project(db_session, name)) for name in ("inc", "full")
    }


def test_incremental_path_equals_full_recomputation(  # type: ignore[no-untyped-def]
    client, tokens, db_session, monkeypatch
) -> None:
    CACHE.clear()
    for commit, parents, values in _script():
        post_results(client, tokens["inc"], commit, _body(values), parents=parents, project="inc")
        _check_points(db_session, "inc")
    with monkeypatch.context() as patch:
        patch.setattr("web.tasks.detect.detect_for_run", _full_detect_for_run)
        for commit, parents, values in _script():
            post_results(
                client, tokens["full"], commit, _body(values), parents=parents, project="full"
            )
    inc, full = _snapshot(db_session, "inc"), _snapshot(db_session, "full")
    assert inc == full
    assert any(a[8] for a in inc["alerts"]), "the history should raise active alerts"
    assert any(p[1] == sha(22) and p[3] == 2 for p in inc["points"])
    _check_cached_states(db_session, "inc")


def _check_cached_states(session: Session, project: str) -> None:
    """Each cached detector state gives the change points of a full run over the results."""
    found = session.scalar(select(Project).where(Project.name == project))
    assert found is not None
    thresholds = project_thresholds(found)
    ids = list(session.scalars(select(Series.id).where(Series.project_id == found.id)))
    expected = points_from_results(session, ids)
    for series_id in ids:
        entry = CACHE.take(series_id)
        assert entry is not None
        values = np.array([p.value for p in expected[series_id]])
        assert np.array_equal(entry.state.values, values)
        assert entry.state.change_points == detect_change_points(values, thresholds=thresholds)


def test_redetecting_a_series_changes_nothing(client, tokens, db_session) -> None:  # type: ignore[no-untyped-def]
    for commit, parents, values in _script():
        post_results(client, tokens["inc"], commit, _body(values), parents=parents, project="inc")
    before = _snapshot(db_session, "inc")
    ids = [s for (s,) in db_session.execute(select(Series.id))]
    for series_id in ids:
        assert detection.detect_series(db_session, series_id) == []
    assert recompute_series(db_session, ids) == []
    assert _snapshot(db_session, "inc") == before


def test_a_rolled_back_detection_leaves_no_cached_points(  # type: ignore[no-untyped-def]
    client, tokens, db_session
) -> None:
    """A detection whose transaction rolls back must not leave its points in the cache."""
    for commit, parents, values in list(_script())[:14]:
        post_results(client, tokens["inc"], commit, _body(values), parents=parents, project="inc")
    series_id = db_session.scalar(select(Series.id).limit(1))
    assert series_id is not None
    db_session.commit()
    nested = db_session.begin_nested()
    db_session.execute(
        SeriesPoint.__table__.update()  # type: ignore[attr-defined]
        .where(SeriesPoint.series_id == series_id)
        .values(value=SeriesPoint.value * 10)
    )
    detection.detect_series(db_session, series_id)
    nested.rollback()
    entry = CACHE.take(series_id)
    assert entry is None or float(entry.state.values[0]) < 5
