"""Per-commit points of series: merged from the results, or read back from ``series_point``.

A series has one point per commit (DESIGN.md, data model): the median of the
commit's ok results, in position order, named by the commit of its earliest
result. :func:`points_from_results` is that definition applied to the raw
results (the full recomputation); the stored points must always equal it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from web.models import Measure, Result, Run, SeriesPoint
from web.queries.noisy_runs import noisy_time

_CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True)
class PointRow:
    """One commit's point: where it sits, whose it is, its value and how many results it merges."""

    position: int
    commit_id: int
    value: float
    count: int


def merge_results(rows: Iterable[Sequence[Any]]) -> dict[int, list[PointRow]]:
    """Rows of (series id, position, commit id, value), ordered by series, position, result id.

    Returns each series' points in position order. A lone result is its own
    median (``np.median`` of one value is that value), which spares the numpy
    call for nearly every point.
    """
    out: dict[int, list[PointRow]] = {}
    group: list[float] = []
    key: tuple[int, int] | None = None
    commit = 0
    for series_id, position, commit_id, value in rows:
        if (series_id, position) != key:
            if key is not None:
                out.setdefault(key[0], []).append(_point(key[1], commit, group))
            key, commit, group = (series_id, position), commit_id, []
        group.append(float(value))
    if key is not None:
        out.setdefault(key[0], []).append(_point(key[1], commit, group))
    return out


def _point(position: int, commit_id: int, values: list[float]) -> PointRow:
    value = values[0] if len(values) == 1 else float(np.median(values))
    return PointRow(int(position), int(commit_id), value, len(values))


def _ok_results() -> Select[Any]:
    """Results that make points: ok ones, except times from a noisy run.

    A run whose pre-flight checks found problems (a loaded machine) is stored
    and shown, hollow, on the plot, but its times do not enter the points that
    detection reads: a busy machine's slow processes are not a change of the
    code. Its instruction counts do, since load does not move them.
    """
    return (
        select(Result.series_id, Result.position, Result.commit_id, Result.value)
        .join(Run, Run.id == Result.run_id)
        .join(Measure, Measure.id == Result.measure_id)
        .where(
            Result.status == "ok",
            Result.value.is_not(None),
            ~noisy_time(),
        )
    )


def points_from_results(session: Session, series_ids: Sequence[int]) -> dict[int, list[PointRow]]:
    """The points of each series computed from every result it has: O(history), for repair."""
    out: dict[int, list[PointRow]] = {}
    for chunk in _chunks(sorted(set(series_ids))):
        query = (
            _ok_results()
            .where(Result.series_id.in_(chunk))
            .order_by(Result.series_id, Result.position, Result.id)
        )
        out.update(merge_results(session.connection().execute(query)))
    return out


def run_touches(session: Session, run_id: int) -> list[tuple[int, int]]:
    """The (series id, position) pairs a run stored results at, any status."""
    rows = session.execute(
        select(Result.series_id, Result.position).where(Result.run_id == run_id).distinct()
    )
    return sorted((int(s), int(p)) for s, p in rows)


def points_at_from_results(
    session: Session, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], PointRow]:
    """The points at the given (series, position) pairs, from all their results.

    Lookups on ``ix_result_series_position`` for the pairs' series and positions
    (a run has one position), so the cost is the results of those commits, never
    the series' history. Pairs outside the set asked for are dropped.
    """
    wanted = set(pairs)
    positions = sorted({p for _, p in wanted})
    out: dict[tuple[int, int], PointRow] = {}
    for chunk in _chunks(sorted({s for s, _ in wanted})):
        query = (
            _ok_results()
            .where(Result.series_id.in_(chunk), Result.position.in_(positions))
            .order_by(Result.series_id, Result.position, Result.id)
        )
        for series_id, points in merge_results(session.connection().execute(query)).items():
            out.update({(series_id, p.position): p for p in points})
    return {key: point for key, point in out.items() if key in wanted}


def stored_points_at(
    session: Session, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], PointRow]:
    """The stored points at the given (series, position) pairs (primary-key lookups)."""
    wanted = set(pairs)
    positions = sorted({p for _, p in wanted})
    out: dict[tuple[int, int], PointRow] = {}
    for chunk in _chunks(sorted({s for s, _ in wanted})):
        query = _stored().where(
            SeriesPoint.series_id.in_(chunk), SeriesPoint.position.in_(positions)
        )
        for series_id, position, commit_id, value, count in session.connection().execute(query):
            if (series_id, position) in wanted:
                out[(series_id, position)] = PointRow(position, commit_id, value, count)
    return out


def stored_points(
    session: Session, series_ids: Sequence[int], *, after: int | None = None
) -> dict[int, list[PointRow]]:
    """The stored points of each series in position order, only those past ``after`` if given."""
    out: dict[int, list[PointRow]] = {}
    for chunk in _chunks(sorted(set(series_ids))):
        query = _stored().where(SeriesPoint.series_id.in_(chunk))
        if after is not None:
            query = query.where(SeriesPoint.position > after)
        query = query.order_by(SeriesPoint.series_id, SeriesPoint.position)
        for series_id, position, commit_id, value, count in session.connection().execute(query):
            out.setdefault(series_id, []).append(PointRow(position, commit_id, value, count))
    return out


@dataclass(frozen=True)
class PointColumns:
    """One series' stored points as arrays (positions, commit ids, values), in position order."""

    positions: np.ndarray
    commit_ids: np.ndarray
    values: np.ndarray


_ROW = np.dtype([("series", "i8"), ("position", "i8"), ("commit", "i8"), ("value", "f8")])


def stored_columns(session: Session, series_ids: Sequence[int]) -> dict[int, PointColumns]:
    """Every stored point of the series, as arrays: the cold rebuild of detector states.

    Read with the driver's cursor and ``fetchall`` into one structured array:
    at 1,000,000 points, row-by-row fetching and one object per point cost
    seconds that the query itself does not.
    """
    out: dict[int, PointColumns] = {}
    for chunk in _chunks(sorted(set(series_ids))):
        query = (
            select(
                SeriesPoint.series_id,
                SeriesPoint.position,
                SeriesPoint.commit_id,
                SeriesPoint.value,
            )
            .where(SeriesPoint.series_id.in_(chunk))
            .order_by(SeriesPoint.series_id, SeriesPoint.position)
        )
        rows = np.array(_fetchall(session, query), dtype=_ROW)
        if rows.size == 0:
            continue
        starts = np.flatnonzero(np.r_[True, rows["series"][1:] != rows["series"][:-1]])
        for part in np.split(rows, starts[1:]):
            out[int(part["series"][0])] = PointColumns(
                part["position"].copy(), part["commit"].copy(), part["value"].copy()
            )
    return out


def _fetchall(session: Session, query: Select[Any]) -> list[tuple[Any, ...]]:
    connection = session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params: Any = compiled.params
    if compiled.positiontup is not None:  # qmark/format styles take a sequence
        params = tuple(compiled.params[name] for name in compiled.positiontup)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _stored() -> Select[Any]:
    return select(
        SeriesPoint.series_id,
        SeriesPoint.position,
        SeriesPoint.commit_id,
        SeriesPoint.value,
        SeriesPoint.count,
    )


def _chunks(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
