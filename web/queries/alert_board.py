"""Read side of the alerts page and the overview: alerts with where they sit and what decided them.

Rows only; grouping summaries by culprit is :mod:`web.services.alert_summaries`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from web.models import (
    Alert,
    AlertSummary,
    Annotation,
    Benchmark,
    Branch,
    BranchCommit,
    Commit,
    Job,
    Machine,
    Measure,
    Series,
)
from web.models.job_progress import JobProgress
from web.models.naming import benchmark_label
from web.queries.series_context import series_context


@dataclass(frozen=True)
class BoardAlert:
    """One alert as the pages show it; ``position`` is its first commit's place on the branch."""

    id: int
    summary_id: int
    series_id: int
    benchmark_id: int
    benchmark: str
    measure: str
    unit: str
    machine: str
    branch: str
    before: float
    after: float
    rel_change: float
    pvalue: float
    is_regression: bool
    status: str
    confirmation: str
    active: bool
    culprit_commit_id: int | None
    first_commit_id: int
    last_good_commit_id: int | None
    position: int | None
    created_at: datetime
    kind: str = "step"  # or "drift": ramped from first_commit to end_commit
    end_commit_id: int | None = None


@dataclass(frozen=True)
class Rerun:
    """What the confirmation re-runs measured for one alert (stored on the job)."""

    verdict: str
    rel_change: float | None
    pvalue: float | None


def alert_query() -> Select:  # type: ignore[type-arg]
    """Every column of :class:`BoardAlert`, joined; callers add the filter and the order."""
    return (
        select(
            Alert.id,
            Alert.summary_id,
            Alert.series_id,
            Benchmark.id,
            Benchmark.name,
            Benchmark.params,
            Benchmark.display_name,
            Measure.name,
            Measure.unit,
            Machine.name,
            Branch.name,
            Alert.before,
            Alert.after,
            Alert.rel_change,
            Alert.pvalue,
            Alert.is_regression,
            Alert.status,
            Alert.confirmation,
            Alert.active,
            Alert.culprit_commit_id,
            Alert.first_commit_id,
            Alert.last_good_commit_id,
            BranchCommit.position,
            Alert.created_at,
            Alert.kind,
            Alert.end_commit_id,
        )
        .select_from(Alert)
        .join(series_context(), Series.id == Alert.series_id)
        .outerjoin(
            BranchCommit,
            (BranchCommit.branch_id == Series.branch_id)
            & (BranchCommit.commit_id == Alert.first_commit_id),
        )
    )


def to_alert(row: Iterable[object]) -> BoardAlert:
    values = list(row)
    label = benchmark_label(str(values[4]), values[5], values[6])  # type: ignore[arg-type]
    return BoardAlert(*values[:4], label, *values[7:])  # type: ignore[arg-type, call-arg]


def summaries(
    session: Session, project_id: int, *, limit: int = 300
) -> list[tuple[AlertSummary, list[BoardAlert]]]:
    """The newest ``limit`` summaries of the project with their alerts, newest first."""
    found = list(
        session.scalars(
            select(AlertSummary)
            .where(AlertSummary.project_id == project_id)
            .order_by(AlertSummary.created_at.desc(), AlertSummary.id.desc())
            .limit(limit)
        )
    )
    by_id: dict[int, list[BoardAlert]] = {s.id: [] for s in found}
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        query = alert_query().where(Alert.summary_id.in_(ids[start : start + 500]))
        for row in session.execute(query):
            alert = to_alert(row)
            by_id[alert.summary_id].append(alert)
    return [(s, sorted(by_id[s.id], key=lambda a: -abs(a.rel_change))) for s in found]


def commits(session: Session, ids: Iterable[int | None]) -> dict[int, Commit]:
    """Commits by id (culprits, range ends), in one query per 500."""
    wanted = sorted({i for i in ids if i is not None})
    out: dict[int, Commit] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        out.update((c.id, c) for c in session.scalars(select(Commit).where(Commit.id.in_(chunk))))
    return out


def reruns(session: Session, alert_ids: list[int]) -> dict[int, Rerun]:
    """The latest confirmation verdict per alert, from the confirmation jobs' stored comparisons.

    A confirmation job names its first alert in ``alert_id`` and all of them in its
    spec; every alert of one job belongs to one summary, so the jobs are found from
    the alerts asked for.
    """
    out: dict[int, Rerun] = {}
    if not alert_ids:
        return out
    summary_of = aliased(Alert)
    wanted = set(alert_ids)
    for start in range(0, len(alert_ids), 500):
        chunk = alert_ids[start : start + 500]
        summary_ids = select(summary_of.summary_id).where(summary_of.id.in_(chunk))
        jobs = session.scalars(
            select(Job)
            .join(Alert, Alert.id == Job.alert_id)
            .where(Job.kind == "confirm", Alert.summary_id.in_(summary_ids))
            .order_by(Job.id)
        )
        for job in jobs:
            for key, found in JobProgress.of(job).confirmation.items():
                if key.isdigit() and int(key) in wanted:
                    out[int(key)] = Rerun(found.verdict, found.rel_change, found.pvalue)
    return out


def culprit_neighbours(
    session: Session, summary: AlertSummary
) -> list[tuple[AlertSummary, list[BoardAlert]]]:
    """``summary`` and every summary of its branch with an alert blaming one of its culprits."""
    culprits = select(Alert.culprit_commit_id).where(
        Alert.summary_id == summary.id, Alert.culprit_commit_id.is_not(None)
    )
    ids = set(
        session.scalars(
            select(Alert.summary_id)
            .join(AlertSummary, AlertSummary.id == Alert.summary_id)
            .where(
                AlertSummary.project_id == summary.project_id,
                AlertSummary.branch_id == summary.branch_id,
                Alert.culprit_commit_id.in_(culprits),
            )
        )
    ) | {summary.id}
    found = list(session.scalars(select(AlertSummary).where(AlertSummary.id.in_(sorted(ids)))))
    by_id: dict[int, list[BoardAlert]] = {s.id: [] for s in found}
    for row in session.execute(alert_query().where(Alert.summary_id.in_(sorted(ids)))):
        alert = to_alert(row)
        by_id[alert.summary_id].append(alert)
    return [(s, by_id[s.id]) for s in sorted(found, key=lambda s: (s.created_at, s.id))]


# The annotation kind detection writes at a machine change (web.services.environment_change).
ENVIRONMENT = "environment"


def environment_changes(session: Session, alert_ids: Iterable[int]) -> dict[int, str]:
    """Alert id -> the note of an ``environment`` annotation on its series within its range.

    The range is the alert's (last good commit, first commit], by position on the
    series' branch. Such an alert's jump coincides with a change of the measuring
    machine ("environment changed: CPU model X → Y"), and the pages say so
    instead of showing it as a change of the code.
    """
    at = aliased(BranchCommit)
    first = aliased(BranchCommit)
    good = aliased(BranchCommit)
    wanted = sorted(set(alert_ids))
    out: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        query = (
            select(Alert.id, Annotation.note)
            .join(Series, Series.id == Alert.series_id)
            .join(Annotation, Annotation.series_id == Alert.series_id)
            .join(at, (at.branch_id == Series.branch_id) & (at.commit_id == Annotation.commit_id))
            .join(
                first,
                (first.branch_id == at.branch_id) & (first.commit_id == Alert.first_commit_id),
            )
            .outerjoin(
                good,
                (good.branch_id == at.branch_id) & (good.commit_id == Alert.last_good_commit_id),
            )
            .where(
                Alert.id.in_(wanted[start : start + 500]),
                Annotation.kind == ENVIRONMENT,
                at.position <= first.position,
                at.position > func.coalesce(good.position, first.position - 1),
            )
            .order_by(Alert.id, at.position)
        )
        for alert_id, note in session.execute(query):
            out.setdefault(int(alert_id), str(note))
    return out
