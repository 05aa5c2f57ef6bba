"""The benchmarks page: one row per series with its sparkline, noise and latest change.

Sparklines and "Last" have one value per commit (the detector's, see
``web.queries.points``): re-runs of a commit never add points.

Built for 2,000+ rows in well under a second: one query for the rows, one for
the sparklines (an index-driven LATERAL join on PostgreSQL, a window function
on SQLite), nothing per row. Sparklines read the points detection stored
(``series_point``: one row per commit, noisy times already left out); only a
series whose points were never built falls back to merging its results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session, aliased

from web.models import (
    Benchmark,
    Branch,
    Machine,
    Measure,
    Result,
    Run,
    Series,
    SeriesPoint,
    SeriesState,
)
from web.queries.deciding_measure import TIME
from web.queries.noisy_runs import is_noisy
from web.queries.points import merge_results
from web.queries.series_context import series_context

SPARK_POINTS = 30


@dataclass(frozen=True)
class Filters:
    """What the reader asked for; empty strings mean "any"."""

    branch: str = ""
    search: str = ""
    suite: str = ""
    machine: str = ""
    measure: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str], default_branch: str) -> Filters:
        """The filters a query string asks for (``q`` is the search; 200 characters at most)."""
        return cls(
            branch=args.get("branch", default_branch),
            search=args.get("q", "").strip()[:200],
            suite=args.get("suite", ""),
            machine=args.get("machine", ""),
            measure=args.get("measure", ""),
        )

    def as_args(self) -> dict[str, str]:
        """The query string that asks for these filters again (links to other pages)."""
        return {
            "q": self.search,
            "suite": self.suite,
            "machine": self.machine,
            "branch": self.branch,
            "measure": self.measure,
        }


@dataclass
class BenchmarkRow:
    series_id: int
    benchmark_id: int
    name: str
    display_name: str | None
    suite: str
    params: dict[str, str]
    measure: str
    unit: str
    direction: str
    machine: str
    branch: str
    noise: float | None
    unstable: bool
    latest_change: float | None
    spark: list[float] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True)
class Facets:
    suites: list[str]
    machines: list[str]
    branches: list[str]
    measures: list[str]


def facets(session: Session, project_id: int) -> Facets:
    """The distinct values the filters offer."""

    def distinct(column, model) -> list[str]:  # type: ignore[no-untyped-def]
        query = select(column).where(model.project_id == project_id).distinct().order_by(column)
        return [v for v in session.scalars(query) if v is not None]

    return Facets(
        suites=distinct(Benchmark.suite, Benchmark),
        machines=distinct(Machine.name, Machine),
        branches=distinct(Branch.name, Branch),
        measures=distinct(Measure.name, Measure),
    )


def _row_query(project_id: int, filters: Filters) -> Select:  # type: ignore[type-arg]
    query = (
        select(
            Series.id,
            Benchmark.id,
            Benchmark.name,
            Benchmark.display_name,
            Benchmark.suite,
            Benchmark.params,
            Measure.name,
            Measure.unit,
            Measure.direction,
            Machine.name,
            Branch.name,
            Series.noise,
            Series.unstable,
            Series.latest_change,
        )
        .select_from(series_context())
        .where(Series.project_id == project_id, Benchmark.merged_into_id.is_(None))
    )
    if filters.search:
        needle = filters.search.lower()
        query = query.where(
            func.lower(Benchmark.name).contains(needle, autoescape=True)
            | func.lower(func.coalesce(Benchmark.display_name, "")).contains(
                needle, autoescape=True
            )
        )
    for value, column in (
        (filters.branch, Branch.name),
        (filters.suite, Benchmark.suite),
        (filters.machine, Machine.name),
        (filters.measure, Measure.name),
    ):
        if value:
            query = query.where(column == value)
    return query


def count_rows(session: Session, project_id: int, filters: Filters) -> int:
    """How many rows :func:`benchmark_rows` has in all for ``filters``, across pages."""
    matching = _row_query(project_id, filters).subquery()
    return int(session.scalar(select(func.count()).select_from(matching)) or 0)


def benchmark_rows(
    session: Session, project_id: int, filters: Filters, *, limit: int, offset: int = 0
) -> list[BenchmarkRow]:
    """Series of live (not merged-away) benchmarks matching ``filters``, with sparklines.

    Ordered by suite, title and series id, a total order, so pages neither
    repeat nor skip rows.
    """
    query = _row_query(project_id, filters).order_by(
        Benchmark.suite, func.coalesce(Benchmark.display_name, Benchmark.name), Series.id
    )
    rows = [BenchmarkRow(*r) for r in session.execute(query.limit(limit).offset(offset))]
    lines = sparklines(session, [r.series_id for r in rows])
    for row in rows:
        row.spark = lines.get(row.series_id, [])
    return rows


def sparklines(
    session: Session, series_ids: list[int], points: int = SPARK_POINTS
) -> dict[int, list[float]]:
    """The values of the last ``points`` commits of each series, oldest first.

    One value per commit, the detector's: the median of the commit's ok results,
    so a commit re-run by confirmation or bisection is one point of the line and
    "Last" is the newest commit's value, never that of its latest run. Times
    from a noisy run are left out, as detection leaves them out: a commit
    measured only on a loaded machine is not the "Last" value.
    """
    if not series_ids:
        return {}
    built = _built(session, series_ids)
    lines = _stored_lines(session, sorted(built), points) if built else {}
    rest = [s for s in series_ids if s not in built]
    if rest:
        lines.update(_lines_from_results(session, rest, points))
    return lines


def _built(session: Session, series_ids: list[int]) -> set[int]:
    """The series whose per-commit points detection has built (``series_state.points`` ≥ 0)."""
    out: set[int] = set()
    for chunk in _chunks(sorted(set(series_ids))):
        query = select(SeriesState.series_id).where(
            SeriesState.series_id.in_(chunk), SeriesState.points >= 0
        )
        out.update(session.scalars(query))
    return out


def _stored_lines(session: Session, series_ids: list[int], points: int) -> dict[int, list[float]]:
    """The last ``points`` stored points of each series, oldest first: one row per commit."""
    out: dict[int, list[float]] = {}
    if session.get_bind().dialect.name == "postgresql":
        ids = bindparam("series_ids", series_ids, type_=ARRAY(BigInteger))
        wanted = select(func.unnest(ids).label("sid")).subquery("wanted")
        last = (
            select(SeriesPoint.position, SeriesPoint.value)
            .where(SeriesPoint.series_id == wanted.c.sid)
            .order_by(SeriesPoint.position.desc())
            .limit(points)
            .correlate(wanted)
            .subquery("last")
        )
        folded = select(func.array_agg(aggregate_order_by(last.c.value, last.c.position))).lateral(
            "folded"
        )
        query = select(wanted.c.sid, folded).select_from(wanted.join(folded, true()))
        for sid, values in session.connection().execute(query):
            if values:
                out[sid] = list(values)
        return out
    for chunk in _chunks(series_ids):
        ranked = (
            select(
                SeriesPoint.series_id,
                SeriesPoint.position,
                SeriesPoint.value,
                func.row_number()
                .over(partition_by=SeriesPoint.series_id, order_by=SeriesPoint.position.desc())
                .label("rank"),
            )
            .where(SeriesPoint.series_id.in_(chunk))
            .subquery()
        )
        query = (
            select(ranked.c.series_id, ranked.c.value)
            .where(ranked.c.rank <= points)
            .order_by(ranked.c.series_id, ranked.c.position)
        )
        for sid, value in session.execute(query):
            out.setdefault(sid, []).append(value)
    return out


def _lines_from_results(
    session: Session, series_ids: list[int], points: int
) -> dict[int, list[float]]:
    """The same lines merged from the results: series stored before points were kept."""
    if session.get_bind().dialect.name == "postgresql":
        rows = _sparklines_lateral(session, series_ids, points)
    else:
        rows = _sparklines_window(session, series_ids, points)
    untrusted = _noisy_times(session, rows)
    merged = merge_results(
        (sid, position, 0, value)
        for sid, position, value, run_id in rows
        if (sid, run_id) not in untrusted
    )
    return {series_id: [p.value for p in line] for series_id, line in merged.items()}


def _noisy_times(session: Session, rows: list[tuple[int, int, float, int]]) -> set[tuple[int, int]]:
    """The (series, run) pairs among ``rows`` that are wall times of a noisy run.

    Asked after the rows are read, of the few runs they come from: joining every
    result to its run inside the per-series scan made the 2,000-row page 1.8x
    slower on PostgreSQL (median 1.74 s against 0.98 s, same machine load).
    """
    runs = {run_id for *_, run_id in rows}
    if not runs:
        return set()
    noisy: set[int] = set()
    for chunk in _chunks(sorted(runs)):
        noisy.update(session.scalars(select(Run.id).where(Run.id.in_(chunk), is_noisy())))
    if not noisy:
        return set()
    pairs = {(sid, run_id) for sid, _, _, run_id in rows if run_id in noisy}
    timed: set[int] = set()
    for chunk in _chunks(sorted({sid for sid, _ in pairs})):
        query = (
            select(Series.id)
            .join(Measure, Measure.id == Series.measure_id)
            .where(Series.id.in_(chunk), Measure.name == TIME)
        )
        timed.update(session.scalars(query))
    return {(sid, run_id) for sid, run_id in pairs if sid in timed}


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _ok(model: type[Result] | Any) -> tuple[Any, ...]:
    return (model.status == "ok", model.value.is_not(None))


def _sparklines_lateral(session: Session, series_ids: list[int], points: int) -> list:  # type: ignore[type-arg]
    # Per series: its last ``points`` positions (an index scan backwards that stops
    # there), then their results; folded into arrays so Python handles one row
    # per series. Rows come back as (series, position, value, run) by position and id.
    ids = bindparam("series_ids", series_ids, type_=ARRAY(BigInteger))
    wanted = select(func.unnest(ids).label("sid")).subquery("wanted")
    last = (
        select(Result.position)
        .where(Result.series_id == wanted.c.sid, *_ok(Result))
        .group_by(Result.position)
        .order_by(Result.position.desc())
        .limit(points)
        .correlate(wanted)
    )
    other = aliased(Result)
    recent = (
        select(other.value, other.position, other.id, other.run_id)
        .where(other.series_id == wanted.c.sid, *_ok(other), other.position.in_(last))
        .correlate(wanted)
        .subquery("recent")
    )
    order = (recent.c.position, recent.c.id)
    folded = select(
        func.array_agg(aggregate_order_by(recent.c.position, *order)),
        func.array_agg(aggregate_order_by(recent.c.value, *order)),
        func.array_agg(aggregate_order_by(recent.c.run_id, *order)),
    ).lateral("folded")
    query = select(wanted.c.sid, folded).select_from(wanted.join(folded, true()))
    out: list[tuple[int, int, float, int]] = []
    for sid, positions, values, runs in session.connection().execute(query):
        triples = zip(positions or (), values or (), runs or (), strict=True)
        out.extend((sid, p, v, r) for p, v, r in triples)
    return out


def _sparklines_window(session: Session, series_ids: list[int], points: int) -> list:  # type: ignore[type-arg]
    out: list = []  # type: ignore[type-arg]
    # SQLite limits bound parameters per statement; chunk the id list.
    for i in range(0, len(series_ids), 500):
        chunk = series_ids[i : i + 500]
        ranked = (
            select(
                Result.series_id,
                Result.position,
                Result.value,
                Result.id,
                Result.run_id,
                func.dense_rank()
                .over(partition_by=Result.series_id, order_by=Result.position.desc())
                .label("rank"),
            )
            .where(Result.series_id.in_(chunk), *_ok(Result))
            .subquery()
        )
        query = (
            select(ranked.c.series_id, ranked.c.position, ranked.c.value, ranked.c.run_id)
            .where(ranked.c.rank <= points)
            .order_by(ranked.c.series_id, ranked.c.position, ranked.c.id)
        )
        out.extend(session.execute(query))
    return out
