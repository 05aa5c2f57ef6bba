"""After a bulk import: rebuild the points of the touched series, then detect each once.

The points are the definition in :mod:`web.queries.points` (the median of a
commit's ok results, named by the commit of its earliest result, noisy runs'
times left out). On PostgreSQL they are computed by one ``INSERT ... SELECT``
per chunk of series (``percentile_cont(0.5)`` is the median, halfway between the
two middle values as ``numpy.median``): reading 10 M results into Python and
writing the points back row by row would cost minutes. SQLite takes the
reference path, :func:`web.services.point_state.lock_states` with the state
marked unbuilt.

Every rebuilt series gets a new ``epoch``, so any process's cached detector
state of it is stale (``web.services.series_cache``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from web.models import Measure, Result, Run, Series, SeriesPoint, SeriesState
from web.queries.deciding_measure import TIME
from web.queries.noisy_runs import is_noisy
from web.services.detection import detect_for_run
from web.services.point_state import lock_states, new_epoch

_CHUNK = 1000


def rebuild_points_for(session: Session, series_ids: Sequence[int]) -> None:
    """Recompute every point and the state row of each series from its results."""
    ids = sorted(set(series_ids))
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        if postgres:
            _rebuild_sql(session, chunk)
        else:
            _mark_unbuilt(session, chunk)
            lock_states(session, chunk)  # builds unbuilt series from their results


def detect_imported(session: Session, last_runs: dict[int, int]) -> int:
    """Detect every imported series over its stored points; returns how many alerts were raised.

    ``last_runs`` maps each series to the newest imported run that measured it.
    Detection goes through :func:`web.services.detection.detect_for_run` of those
    runs, the batched path a worker takes (a few queries per 500 series, not per
    series): a run's points are already rebuilt, so its fold finds nothing to
    change and the pass detects each of its series over all its points. A
    history whose newest run measured every series costs one pass.
    """
    runs = sorted(set(last_runs.values()), reverse=True)
    raised = 0
    for run_id in runs:
        raised += len(detect_for_run(session, run_id).new_alert_ids)
    return raised


def _mark_unbuilt(session: Session, chunk: list[int]) -> None:
    session.execute(update(SeriesState).where(SeriesState.series_id.in_(chunk)).values(points=-1))


def _not_noisy_time(session: Session, chunk: list[int]) -> list[ColumnElement[bool]]:
    """The condition leaving out times of noisy runs, as lists of ids read first: joining
    every result to its run to test the run's JSON costs more than the whole aggregate."""
    projects = select(Series.project_id).where(Series.id.in_(chunk)).distinct()
    noisy = list(session.scalars(select(Run.id).where(Run.project_id.in_(projects), is_noisy())))
    if not noisy:
        return []
    timed = list(
        session.scalars(
            select(Measure.id).where(Measure.project_id.in_(projects), Measure.name == TIME)
        )
    )
    return [~and_(Result.run_id.in_(noisy), Result.measure_id.in_(timed))] if timed else []


def _rebuild_sql(session: Session, chunk: list[int]) -> None:
    session.execute(delete(SeriesPoint).where(SeriesPoint.series_id.in_(chunk)))
    in_order = postgresql.aggregate_order_by(Result.commit_id, Result.id)
    first_commit = postgresql.array_agg(in_order)[1]  # type: ignore[no-untyped-call]
    points = (
        select(
            Result.series_id,
            Result.position,
            first_commit,
            func.percentile_cont(0.5).within_group(Result.value),
            func.count(),
        )
        .where(
            Result.series_id.in_(chunk),
            Result.status == "ok",
            Result.value.is_not(None),
            *_not_noisy_time(session, chunk),
        )
        .group_by(Result.series_id, Result.position)
    )
    session.execute(
        insert(SeriesPoint).from_select(
            ["series_id", "position", "commit_id", "value", "count"], points
        )
    )
    counts = {
        int(s): (int(n), last)
        for s, n, last in session.execute(
            select(SeriesPoint.series_id, func.count(), func.max(SeriesPoint.position))
            .where(SeriesPoint.series_id.in_(chunk))
            .group_by(SeriesPoint.series_id)
        )
    }
    rows = [
        {
            "series_id": s,
            "epoch": new_epoch(),
            "points": counts.get(s, (0, None))[0],
            "last_position": counts.get(s, (0, None))[1],
        }
        for s in chunk
    ]
    upsert = postgresql.insert(SeriesState)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["series_id"],
            set_={
                "epoch": upsert.excluded.epoch,
                "points": upsert.excluded.points,
                "last_position": upsert.excluded.last_position,
            },
        ),
        rows,
    )
