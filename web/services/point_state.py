"""Keeping ``series_point`` equal to the results, one run at a time.

A run measures one commit, so it changes one point per series it touched: the
point is recomputed from that commit's results (an index lookup), never from
the series' history. Writers lock the series' ``series_state`` rows (sorted,
so two workers never deadlock) before reading, so two runs of the same commit
folded at once cannot each miss the other's results. A series without a state
row (new, or stored before these tables existed) is built from all its results
once; :func:`rebuild_points` is also the repair path.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from web.models import SeriesPoint, SeriesState
from web.queries.points import (
    PointRow,
    points_at_from_results,
    points_from_results,
    run_touches,
    stored_points_at,
)


@dataclass
class FoldOutcome:
    """The locked state rows, and the points each series gained at its end (in order)."""

    states: dict[int, SeriesState]
    appended: dict[int, list[PointRow]] = field(default_factory=dict)


def new_epoch() -> int:
    # Random, not a counter: a rolled-back writer can never leave a cache holding
    # an epoch that a later, different write also takes.
    return secrets.randbits(62)


def lock_states(session: Session, series_ids: Sequence[int]) -> dict[int, SeriesState]:
    """The state rows of the series, locked for this transaction, built if missing."""
    ids = sorted(set(series_ids))
    _insert_missing(session, ids)
    states: dict[int, SeriesState] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(SeriesState)
            .where(SeriesState.series_id.in_(ids[start : start + 500]))
            .order_by(SeriesState.series_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        states.update((s.series_id, s) for s in session.scalars(query))
    unbuilt = [s for s, state in states.items() if state.points < 0]
    if unbuilt:
        rebuild_points(session, unbuilt, states)
    return states


def _insert_missing(session: Session, series_ids: list[int]) -> None:
    # ON CONFLICT DO NOTHING: two workers meeting a new series at once both succeed.
    if not series_ids:
        return
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [{"series_id": s, "epoch": new_epoch(), "points": -1} for s in series_ids]
    session.execute(builder(SeriesState).on_conflict_do_nothing(index_elements=["series_id"]), rows)


def repair_points(session: Session, series_ids: Sequence[int]) -> dict[int, SeriesState]:
    """Lock the series and recompute all their points from the results."""
    states = lock_states(session, series_ids)
    rebuild_points(session, list(states), states)
    return states


def rebuild_points(
    session: Session, series_ids: Sequence[int], states: dict[int, SeriesState]
) -> None:
    """Recompute every point of the series from their results (O(history); first build, repair)."""
    ids = sorted(set(series_ids))
    session.execute(delete(SeriesPoint).where(SeriesPoint.series_id.in_(ids)))
    computed = points_from_results(session, ids)
    rows = [
        {
            "series_id": s,
            "position": p.position,
            "commit_id": p.commit_id,
            "value": p.value,
            "count": p.count,
        }
        for s in ids
        for p in computed.get(s, [])
    ]
    for start in range(0, len(rows), 5000):
        session.execute(insert(SeriesPoint), rows[start : start + 5000])
    for s in ids:
        points = computed.get(s, [])
        state = states[s]
        state.epoch = new_epoch()
        state.points = len(points)
        state.last_position = points[-1].position if points else None
    session.flush()


def fold_run(session: Session, run_id: int) -> FoldOutcome:
    """Bring the points of every (series, commit) the run measured up to date."""
    touches = run_touches(session, run_id)
    outcome = FoldOutcome(lock_states(session, [s for s, _ in touches]))
    fresh = points_at_from_results(session, touches)
    stored = stored_points_at(session, touches)
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    for key in touches:
        new, old = fresh.get(key), stored.get(key)
        state = outcome.states[key[0]]
        if new == old:
            continue
        if new is None:  # results gone from a commit: never on ingest, handled for repair
            _removed(session, state, key)
            continue
        row = {"series_id": key[0], **asdict(new)}
        if old is None:
            inserts.append(row)
            _placed(outcome, state, key[0], new)
        else:
            updates.append(row)
            if (new.value, new.commit_id) != (old.value, old.commit_id):
                state.epoch = new_epoch()
    if inserts:
        session.execute(insert(SeriesPoint), inserts)
    if updates:
        session.execute(update(SeriesPoint), updates)
    session.flush()
    return outcome


def _placed(outcome: FoldOutcome, state: SeriesState, series_id: int, point: PointRow) -> None:
    """A new point: appended at the end keeps the epoch, placed in the middle replaces it."""
    state.points += 1
    if state.last_position is None or point.position > state.last_position:
        state.last_position = point.position
        outcome.appended.setdefault(series_id, []).append(point)
    else:
        state.epoch = new_epoch()


def _removed(session: Session, state: SeriesState, key: tuple[int, int]) -> None:
    session.execute(
        delete(SeriesPoint).where(SeriesPoint.series_id == key[0], SeriesPoint.position == key[1])
    )
    state.points -= 1
    state.epoch = new_epoch()
    if state.last_position == key[1]:
        state.last_position = session.scalar(
            select(SeriesPoint.position)
            .where(SeriesPoint.series_id == key[0])
            .order_by(SeriesPoint.position.desc())
            .limit(1)
        )
