"""Read side of a project's landing page: what needs attention now, in a few bounded queries.

Open regressions are alerts still standing (active, not refuted by their
confirmation re-runs) that nobody closed (untriaged, acknowledged or being
investigated), largest first. Each list is capped; the page links to the
full one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from web.models import Alert, Benchmark, Branch, Commit, Machine, Measure, Run, Series
from web.queries.alert_board import BoardAlert, alert_query, to_alert
from web.queries.compare_sides import preflight_problems
from web.queries.series_context import series_context

OPEN_STATES = ("untriaged", "acknowledged", "investigating")


def _standing() -> tuple[ColumnElement[bool], ...]:
    """Still found by detection and not refuted by confirmation re-runs."""
    return (Alert.active.is_(True), Alert.confirmation != "not_reproduced")


def open_regressions(session: Session, project_id: int, limit: int = 10) -> list[BoardAlert]:
    """Standing regressions nobody closed, by the size of the change."""
    query = (
        alert_query()
        .where(Series.project_id == project_id, *_standing())
        .where(Alert.is_regression.is_(True), Alert.status.in_(OPEN_STATES))
        .order_by(func.abs(Alert.rel_change).desc(), Alert.id)
        .limit(limit)
    )
    return [to_alert(r) for r in session.execute(query)]


def count_open_regressions(session: Session, project_id: int) -> int:
    query = (
        select(func.count(Alert.id))
        .join(Series, Series.id == Alert.series_id)
        .where(Series.project_id == project_id, *_standing())
        .where(Alert.is_regression.is_(True), Alert.status.in_(OPEN_STATES))
    )
    return int(session.scalar(query) or 0)


def recent_improvements(session: Session, project_id: int, limit: int = 5) -> list[BoardAlert]:
    """The newest standing improvements not marked invalid."""
    query = (
        alert_query()
        .where(Series.project_id == project_id, *_standing())
        .where(Alert.is_regression.is_(False), Alert.status != "invalid")
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    return [to_alert(r) for r in session.execute(query)]


@dataclass(frozen=True)
class NoisySeries:
    series_id: int
    benchmark_id: int
    benchmark: str
    measure: str
    machine: str
    branch: str
    noise: float | None
    detected_at: datetime | None


def noisy_series(session: Session, project_id: int, limit: int = 10) -> list[NoisySeries]:
    """Series the detector flagged unstable (noise above its limit), noisiest first."""
    rows = session.execute(
        select(
            Series.id,
            Benchmark.id,
            func.coalesce(Benchmark.display_name, Benchmark.name),
            Measure.name,
            Machine.name,
            Branch.name,
            Series.noise,
            Series.detected_at,
        )
        .select_from(series_context())
        .where(
            Series.project_id == project_id,
            Series.unstable.is_(True),
            Benchmark.merged_into_id.is_(None),
        )
        .order_by(Series.noise.desc(), Series.id)
        .limit(limit)
    )
    return [NoisySeries(*r) for r in rows]


def count_noisy(session: Session, project_id: int) -> int:
    query = select(func.count(Series.id)).where(
        Series.project_id == project_id, Series.unstable.is_(True)
    )
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class RecentRun:
    id: int
    created_at: datetime
    status: str
    result_count: int
    sha: str
    subject: str | None
    problems: list[str]


@dataclass(frozen=True)
class MachineRuns:
    name: str
    runs: list[RecentRun]


def runs_per_machine(
    session: Session, project_id: int, *, machines: int = 12, runs: int = 5
) -> list[MachineRuns]:
    """The last ``runs`` runs of each machine, machines with the newest run first."""
    newest = (
        select(Machine.id, Machine.name, func.max(Run.id).label("last"))
        .join(Run, Run.machine_id == Machine.id)
        .where(Machine.project_id == project_id)
        .group_by(Machine.id, Machine.name)
        .order_by(func.max(Run.id).desc())
        .limit(machines)
    )
    out = []
    for machine_id, name, _ in session.execute(newest).all():
        rows = session.execute(
            select(Run, Commit.sha, Commit.message)
            .join(Commit, Commit.id == Run.commit_id)
            .where(Run.machine_id == machine_id)
            .order_by(Run.id.desc())
            .limit(runs)
        )
        found = [
            RecentRun(
                run.id,
                run.created_at,
                run.status,
                run.result_count,
                sha,
                message,
                preflight_problems(run.machine_snapshot),
            )
            for run, sha, message in rows
        ]
        out.append(MachineRuns(name, found))
    return out
