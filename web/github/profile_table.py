"""The PR comment's profile table: where the instructions of the biggest counted change went.

Of the report's benchmarks judged on their instruction count, the biggest
regression (else the biggest improvement) is explained by the diff of its
per-function profiles at the baseline and the candidate commit. Reads only;
called by ``web.github.notify`` before any GitHub call.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.github.report import Category, ProfileLine, ProfileTable, PrReport, ReportRow
from web.models import Commit, Machine
from web.queries.deciding_measure import COUNT
from web.queries.profile_diff import diff_profiles
from web.queries.profiles import profile_of_commit
from web.services.pr_compare import MachineComparison

TABLE_ROWS = 5


def profile_table(
    session: Session,
    project_id: int,
    report: PrReport,
    comparisons: list[MachineComparison],
    rows: int = TABLE_ROWS,
) -> ProfileTable | None:
    """The table for the report's biggest counted change; None when there is none or a
    side has no stored profile."""
    changed = [r for r in report.rows if r.measure == COUNT and r.category in _CHANGED]
    if not changed:
        return None
    top = min(changed, key=lambda r: (r.category != Category.REGRESSION, -abs(r.rel_change)))
    found = _where(top, comparisons)
    if found is None:
        return None
    benchmark_id, mc = found
    assert mc.baseline.sha is not None
    machine_id = session.scalar(
        select(Machine.id).where(Machine.project_id == project_id, Machine.name == top.machine)
    )
    base_id = _commit_id(session, project_id, mc.baseline.sha)
    head_id = _commit_id(session, project_id, mc.candidate_sha)
    if machine_id is None or base_id is None or head_id is None:
        return None
    before = profile_of_commit(session, benchmark_id, machine_id, base_id)
    after = profile_of_commit(session, benchmark_id, machine_id, head_id)
    if before is None or after is None:
        return None
    diff = diff_profiles(before.profile, after.profile, limit=rows)
    return ProfileTable(
        benchmark=top.name,
        machine=top.machine,
        baseline_sha=before.sha,
        candidate_sha=after.sha,
        total_change=diff.total_change,
        lines=tuple(
            ProfileLine(r.function, r.file, r.line, r.self_change, r.inclusive_change)
            for r in diff.rows
        ),
    )


_CHANGED = (Category.REGRESSION, Category.IMPROVEMENT)


def _where(
    row: ReportRow, comparisons: list[MachineComparison]
) -> tuple[int, MachineComparison] | None:
    for mc in comparisons:
        if mc.comparison is None or mc.baseline.sha is None or mc.baseline.machine != row.machine:
            continue
        for compared in mc.comparison.rows:
            named = (compared.label, f"{compared.label} ({compared.measure})")
            if compared.measure == row.measure and row.name in named:
                return compared.benchmark_id, mc
    return None


def _commit_id(session: Session, project_id: int, sha: str) -> int | None:
    return session.scalar(
        select(Commit.id).where(Commit.project_id == project_id, Commit.sha == sha.lower())
    )
