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
)


def _series_select() -> Select[Any]:
    """The columns of :class:`SeriesInfo`, with the joins that name a series."""
    return (
        select(
            Series.id,
            Series.project_id,
            Benchmark.id,
            Benchmark.name,
            Benchmark.suite,
            Benchmark.params,
            Benchmark.display_name,
            Measure.name,
            Measure.unit,
            Measure.direction,
            Machine.name,
            Branch.name,
        )
        .join(Benchmark, Benchmark.id == Series.benchmark_id)
        .join(Measure, Measure.id == Series.measure_id)
        .join(Machine, Machine.id == Series.machine_id)
        .join(Branch, Branch.id == Series.branch_id)
    )


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
    """All points of one series in branch order, column-wise; times are Unix seconds.

    Runs as a Core statement on the session's connection: at 10,000 rows the ORM's
    per-row bookkeeping would cost more than the query itself.
    """
    query = (
        select(
            Result.position,
            Commit.sha,
            Commit.committed_at,
            Commit.author,
            Commit.message,
            Result.run_id,
            Result.value,
            Result.stddev,
            Result.min,
            Result.max,
            Result.status,
        )
        .join(Commit, Commit.id == Result.commit_id)
        .where(Result.series_id == series_id)
        .order_by(Result.position, Result.id)
    )
    rows = session.connection().execute(query).all()
    if not rows:
        return {name: [] for name in POINT_FIELDS}
    columns = dict(zip(POINT_FIELDS, map(list, zip(*rows, strict=True)), strict=True))
    columns["time"] = [t.timestamp() if t is not None else None for t in columns["time"]]
    columns["message"] = [m.partition("\n")[0] if m else m for m in columns["message"]]
    return columns


def series_values(session: Session, series_id: int) -> tuple[list[int], list[int], list[float]]:
    """(positions, commit ids, values) of the ok points, for detection."""
    rows = session.execute(
        select(Result.position, Result.commit_id, Result.value)
        .where(Result.series_id == series_id, Result.status == "ok", Result.value.is_not(None))
        .order_by(Result.position, Result.id)
    ).all()
    return [r[0] for r in rows], [r[1] for r in rows], [float(r[2]) for r in rows]
