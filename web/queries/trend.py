"""The trend of one benchmark: its series (merged history included), points and marks.

A benchmark that was renamed by merging (``Benchmark.merged_into_id``) keeps its
own rows; reading the survivor's series also reads the series of every
benchmark merged into it with the same measure, machine and branch, so history
survives renames without rewriting a single result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from web.models import (
    Alert,
    Annotation,
    Benchmark,
    Branch,
    BranchCommit,
    Commit,
    Machine,
    Measure,
    Result,
    Series,
)
from web.queries.commit_points import ROW_COLUMNS, CommitPoint, fold_rows
from web.queries.series_context import series_context


def merged_benchmark_ids(session: Session, benchmark_id: int) -> list[int]:
    """``benchmark_id`` and every benchmark merged into it, directly or transitively."""
    found = [benchmark_id]
    frontier = [benchmark_id]
    while frontier:
        children = list(
            session.scalars(select(Benchmark.id).where(Benchmark.merged_into_id.in_(frontier)))
        )
        children = [c for c in children if c not in found]
        found.extend(children)
        frontier = children
    return found


def benchmark_series(session: Session, benchmark_id: int) -> list[Series]:
    """The benchmark's own series (those its page plots, one per measure/machine/branch)."""
    return list(
        session.scalars(
            select(Series).where(Series.benchmark_id == benchmark_id).order_by(Series.id)
        )
    )


@dataclass(frozen=True)
class SeriesHeader:
    """What the plot says about a series, read in one joined Core query."""

    id: int
    project_id: int
    benchmark_id: int
    measure_id: int
    machine_id: int
    branch_id: int
    benchmark: str
    measure: str
    unit: str
    direction: str
    machine: str
    branch: str
    noise: float | None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "benchmark": self.benchmark,
            "measure": self.measure,
            "unit": self.unit,
            "direction": self.direction,
            "machine": self.machine,
            "branch": self.branch,
            "noise": self.noise,
        }


def series_header(session: Session, series_id: int) -> SeriesHeader | None:
    """The series with its benchmark, measure, machine and branch names, or None."""
    row = session.execute(
        select(
            Series.id,
            Series.project_id,
            Series.benchmark_id,
            Series.measure_id,
            Series.machine_id,
            Series.branch_id,
            func.coalesce(Benchmark.display_name, Benchmark.name),
            Measure.name,
            Measure.unit,
            Measure.direction,
            Machine.name,
            Branch.name,
            Series.noise,
        )
        .select_from(series_context())
        .where(Series.id == series_id)
    ).first()
    return SeriesHeader(*row) if row is not None else None


def series_version(session: Session, series_ids: list[int]) -> tuple[int, int, int]:
    """(count, max, sum) of the series' result ids: changes whenever a result comes or goes.

    Results are only ever inserted or deleted, never edited in place, so this
    one aggregate tells whether anything cached from these series is stale;
    the dashboard's and the API's point caches both ask it.
    """
    count, top, total = session.execute(
        select(func.count(Result.id), func.max(Result.id), func.sum(Result.id)).where(
            Result.series_id.in_(series_ids)
        )
    ).one()
    return int(count), int(top or 0), int(total or 0)


def sibling_series_ids(session: Session, series: Series | SeriesHeader) -> list[int]:
    """``series`` plus the same measure/machine/branch series of benchmarks merged into it."""
    benchmark_ids = merged_benchmark_ids(session, series.benchmark_id)
    ids = session.scalars(
        select(Series.id).where(
            Series.benchmark_id.in_(benchmark_ids),
            Series.measure_id == series.measure_id,
            Series.machine_id == series.machine_id,
            Series.branch_id == series.branch_id,
        )
    )
    return sorted(set(ids) | {series.id})


def commit_points(session: Session, series_ids: list[int]) -> list[CommitPoint]:
    """The series' points in branch order, one per commit, from their ok results.

    Only ``result`` columns (one index range scan); commit facts are fetched
    for the points actually sent, see :func:`commit_facts`. Rows are read with
    the driver's own cursor: at 10,000 rows SQLAlchemy's per-row result
    processing costs more than the query itself, and these columns need none.
    Several runs of a commit (re-runs, confirmation, bisection) are one point.
    """
    query = (
        select(*(getattr(Result, name) for name in ROW_COLUMNS))
        .where(
            Result.series_id.in_(series_ids),
            Result.status == "ok",
            Result.value.is_not(None),
        )
        .order_by(Result.position, Result.id)
    )
    return fold_rows(raw_rows(session, query))


def raw_rows(session: Session, query: Select[Any]) -> list[tuple[Any, ...]]:
    """All rows of ``query`` from the driver's cursor, without SQLAlchemy's row processing.

    Only for columns that need no result processing and parameters that need no
    bind processing (plain numbers and strings).
    """
    connection = session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.params
    if compiled.positiontup is not None:  # qmark/format styles take a sequence
        params = tuple(compiled.params[name] for name in compiled.positiontup)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def commit_facts(
    session: Session, commit_ids: list[int]
) -> dict[int, tuple[str, float | None, str | None, str | None]]:
    """commit id -> (sha, Unix time, author, first line of the message)."""
    out: dict[int, tuple[str, float | None, str | None, str | None]] = {}
    unique = sorted(set(commit_ids))
    for i in range(0, len(unique), 5000):
        rows = session.connection().execute(
            select(Commit.id, Commit.sha, Commit.committed_at, Commit.author, Commit.message).where(
                Commit.id.in_(unique[i : i + 5000])
            )
        )
        for cid, sha, when, author, message in rows:
            first_line = message.split("\n", 1)[0] if message else message
            out[cid] = (sha, when.timestamp() if when else None, author, first_line)
    return out


@dataclass(frozen=True)
class AlertMark:
    id: int
    summary_id: int
    commit_id: int
    status: str
    is_regression: bool
    rel_change: float
    before: float
    after: float
    kind: str = "step"  # or "drift": from commit_id to end_commit_id
    end_commit_id: int | None = None


@dataclass(frozen=True)
class AnnotationMark:
    id: int
    commit_id: int
    sha: str
    kind: str
    note: str
    author: str


def alert_marks(session: Session, series_ids: list[int]) -> list[AlertMark]:
    """Active alerts of the series: the change points the detector stored."""
    rows = session.execute(
        select(
            Alert.id,
            Alert.summary_id,
            Alert.first_commit_id,
            Alert.status,
            Alert.is_regression,
            Alert.rel_change,
            Alert.before,
            Alert.after,
            Alert.kind,
            Alert.end_commit_id,
        )
        .where(Alert.series_id.in_(series_ids), Alert.active.is_(True))
        .order_by(Alert.id)
    )
    return [AlertMark(*r) for r in rows]


def annotation_marks(session: Session, series_ids: list[int]) -> list[AnnotationMark]:
    rows = session.execute(
        select(
            Annotation.id,
            Annotation.commit_id,
            Commit.sha,
            Annotation.kind,
            Annotation.note,
            Annotation.author,
        )
        .join(Commit, Commit.id == Annotation.commit_id)
        .where(Annotation.series_id.in_(series_ids))
        .order_by(Annotation.id)
    )
    return [AnnotationMark(*r) for r in rows]


def find_branch_commit(session: Session, branch_id: int, sha_prefix: str) -> Commit | None:
    """The commit on ``branch_id`` whose sha starts with ``sha_prefix`` (unique match only)."""
    sha_prefix = sha_prefix.strip().lower()
    if len(sha_prefix) < 4:
        return None
    rows = session.scalars(
        select(Commit)
        .join(BranchCommit, BranchCommit.commit_id == Commit.id)
        .where(
            BranchCommit.branch_id == branch_id, Commit.sha.startswith(sha_prefix, autoescape=True)
        )
        .limit(2)
    ).all()
    return rows[0] if len(rows) == 1 else None


def one_sample_per_process(session: Session, series_ids: list[int], recent: int = 5) -> bool:
    """Whether the series' latest ``recent`` ok results each hold one sample only.

    Such a benchmark (pytest-benchmark's ``pedantic(rounds=1)``, a one-shot
    command) can never be compared conclusively with few processes: its page
    says so before a reader wonders why every comparison is inconclusive.
    """
    rows = session.execute(
        select(Result.samples, Result.sample_count, Result.rounds)
        .where(Result.series_id.in_(series_ids), Result.status == "ok")
        .order_by(Result.position.desc(), Result.id.desc())
        .limit(recent)
    ).all()
    return bool(rows) and all(
        len(samples or ()) <= 1 and (count or rounds or 1) <= 1 for samples, count, rounds in rows
    )
