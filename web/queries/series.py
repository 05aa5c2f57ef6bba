"""Reading series: the hot path of the API and the dashboard.

Points are returned column-wise (one list per field), which is what plotting
code consumes and is several times cheaper to build and serialise than one
object per point at 10,000+ points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from web.models import Benchmark, Branch, Commit, Machine, Measure, Result, Series
from web.queries.commit_points import ROW_COLUMNS, fold_rows
from web.queries.series_context import NAMING_COLUMNS, series_context


@dataclass(frozen=True)
class SeriesInfo:
    id: int
    project_id: int
    benchmark_id: int
    benchmark: str
    suite: str
    params: dict[str, str]
    display_name: str | None
    measure: str
    unit: str
    direction: str
    machine: str
    branch: str


POINT_FIELDS = (
    "position",
    "sha",
    "time",
    "author",
    "message",
    "run_id",
    "value",
    "stddev",
    "min",
    "max",
    "status",
    "runs",
    "run_values",
)


def _series_select() -> Select[Any]:
    """The columns of :class:`SeriesInfo`, with the joins that name a series."""
    return select(
        Series.id,
        Series.project_id,
        *NAMING_COLUMNS,
    ).select_from(series_context())


def series_info(session: Session, series_id: int) -> SeriesInfo | None:
    row = session.execute(_series_select().where(Series.id == series_id)).first()
    return None if row is None else SeriesInfo(*row)


def list_series(
    session: Session,
    project_id: int,
    *,
    benchmark_id: int | None = None,
    measure: str | None = None,
    machine: str | None = None,
    branch: str | None = None,
    limit: int = 1000,
) -> list[SeriesInfo]:
    query = (
        _series_select()
        .where(Series.project_id == project_id)
        .order_by(Benchmark.suite, Benchmark.name, Series.id)
        .limit(limit)
    )
    if benchmark_id is not None:
        query = query.where(Series.benchmark_id == benchmark_id)
    if measure is not None:
        query = query.where(Measure.name == measure)
    if machine is not None:
        query = query.where(Machine.name == machine)
    if branch is not None:
        query = query.where(Branch.name == branch)
    return [SeriesInfo(*row) for row in session.execute(query)]


def series_points(session: Session, series_id: int) -> dict[str, list[Any]]:
    """The series' points in branch order, one per commit, column-wise; times are Unix seconds.

    A commit measured by several runs (re-runs, confirmation, bisection, A/B)
    is one point: ``value`` is the median of its ok results (the detector's
    value), ``runs``/``run_values`` list every run and its value (None when it
    failed), ``run_id`` is the first. ``status`` is ``ok`` when any run was ok.
    Runs as a Core statement on the session's connection: at 10,000 rows the
    ORM's per-row bookkeeping would cost more than the query itself.
    """
    query = (
        select(*(getattr(Result, name) for name in ROW_COLUMNS))
        .where(Result.series_id == series_id)
        .order_by(Result.position, Result.id)
    )
    points = fold_rows(session.connection().execute(query))
    facts = _commit_facts(session, [p.commit_id for p in points])
    columns: dict[str, list[Any]] = {name: [] for name in POINT_FIELDS}
    for p in points:
        sha, when, author, message = facts[p.commit_id]
        row = (
            p.position,
            sha,
            when,
            author,
            message,
            p.run_id,
            p.value,
            p.stddev,
            p.low,
            p.high,
            p.status,
            p.runs,
            p.run_values,
        )
        for name, item in zip(POINT_FIELDS, row, strict=True):
            columns[name].append(item)
    return columns


def _commit_facts(
    session: Session, commit_ids: list[int]
) -> dict[int, tuple[str, float | None, str | None, str | None]]:
    """commit id -> (sha, Unix time, author, first line of the message)."""
    out: dict[int, tuple[str, float | None, str | None, str | None]] = {}
    unique = sorted(set(commit_ids))
    for start in range(0, len(unique), 500):
        rows = session.connection().execute(
            select(Commit.id, Commit.sha, Commit.committed_at, Commit.author, Commit.message).where(
                Commit.id.in_(unique[start : start + 500])
            )
        )
        for cid, sha, when, author, message in rows:
            first = message.partition("\n")[0] if message else message
            out[cid] = (sha, when.timestamp() if when is not None else None, author, first)
    return out
