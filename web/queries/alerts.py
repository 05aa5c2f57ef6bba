"""Read side of alert triage: summaries with their alerts, and machine history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from web.models import Alert, AlertSummary, Benchmark, Branch, Commit, Machine, Measure, Run, Series
from web.models.naming import benchmark_label


@dataclass(frozen=True)
class AlertRow:
    id: int
    series_id: int
    benchmark_id: int
    benchmark: str
    suite: str
    measure: str
    unit: str
    machine: str
    before: float
    after: float
    rel_change: float
    pvalue: float
    is_regression: bool
    status: str
    confirmation: str
    active: bool
    culprit_sha: str | None = None


@dataclass
class SummaryRow:
    summary: AlertSummary
    branch: str
    first_sha: str
    last_good_sha: str | None
    alerts: list[AlertRow] = field(default_factory=list)

    @property
    def regressions(self) -> int:
        return sum(1 for a in self.alerts if a.is_regression)


def alert_summaries(
    session: Session, project_id: int, *, status: str = "", limit: int = 200
) -> list[SummaryRow]:
    """Newest summaries first (with their alerts, largest change first)."""
    first = aliased(Commit)
    last_good = aliased(Commit)
    query = (
        select(AlertSummary, Branch.name, first.sha, last_good.sha)
        .join(Branch, Branch.id == AlertSummary.branch_id)
        .join(first, first.id == AlertSummary.first_commit_id)
        .outerjoin(last_good, last_good.id == AlertSummary.last_good_commit_id)
        .where(AlertSummary.project_id == project_id)
        .order_by(AlertSummary.created_at.desc(), AlertSummary.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(AlertSummary.status == status)
    summaries = {s.id: SummaryRow(s, b, f, g) for s, b, f, g in session.execute(query)}
    if not summaries:
        return []
    for summary_id, row in _alert_rows(session, list(summaries)):
        summaries[summary_id].alerts.append(row)
    for summary in summaries.values():
        summary.alerts.sort(key=lambda a: -abs(a.rel_change))
    return list(summaries.values())


def _alert_rows(session: Session, summary_ids: list[int]) -> list[tuple[int, AlertRow]]:
    culprit = aliased(Commit)
    rows = session.execute(
        select(
            Alert.summary_id,
            Alert.id,
            Alert.series_id,
            Benchmark.id,
            Benchmark.display_name,
            Benchmark.name,
            Benchmark.suite,
            Measure.name,
            Measure.unit,
            Machine.name,
            Alert.before,
            Alert.after,
            Alert.rel_change,
            Alert.pvalue,
            Alert.is_regression,
            Alert.status,
            Alert.confirmation,
            Alert.active,
            culprit.sha,
            Benchmark.params,
        )
        .join(Series, Series.id == Alert.series_id)
        .outerjoin(culprit, culprit.id == Alert.culprit_commit_id)
        .join(Benchmark, Benchmark.id == Series.benchmark_id)
        .join(Measure, Measure.id == Series.measure_id)
        .join(Machine, Machine.id == Series.machine_id)
        .where(Alert.summary_id.in_(summary_ids))
    )
    out = []
    for r in rows:
        name = benchmark_label(r[5], r[-1], r[4])  # params tell parametrized rows apart
        out.append((r[0], AlertRow(r[1], r[2], r[3], name, *r[6:-1])))
    return out


@dataclass(frozen=True)
class FingerprintChange:
    at: datetime
    run_id: int
    before: dict[str, object]
    after: dict[str, object]


def fingerprint_changes(
    session: Session, machine: Machine, *, runs: int = 5000
) -> list[FingerprintChange]:
    """When the machine's reported hardware/OS changed, from the snapshots of its runs.

    Only the newest ``runs`` runs are read, so the page stays fast on old machines.
    """
    rows = session.execute(
        select(Run.id, Run.created_at, Run.machine_snapshot)
        .where(Run.machine_id == machine.id)
        .order_by(Run.created_at.desc(), Run.id.desc())
        .limit(runs)
    ).all()
    changes: list[FingerprintChange] = []
    previous: dict[str, object] | None = None
    for run_id, created_at, snapshot in reversed(rows):
        basis = {k: v for k, v in (snapshot or {}).items() if k not in {"name", "extra"}}
        if not any(v is not None for v in basis.values()):
            continue  # a run that reported no machine facts says nothing about a change
        if previous is not None and basis != previous:
            changes.append(FingerprintChange(created_at, run_id, previous, basis))
        previous = basis
    changes.reverse()
    return changes
