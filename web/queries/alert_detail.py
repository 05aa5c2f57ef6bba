"""Read side of one alert's page: its jobs (confirmation, bisection), triage trail and PR comment.

Everything shown was stored when it happened (verdicts on the jobs, triage in
the audit trail); nothing here recomputes a detection or a test.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Alert, AuditEntry, Job, PrComment, Run, Series
from web.models.job_progress import JobProgress
from web.queries.alert_board import BoardAlert, alert_query, to_alert
from web.queries.profile_diff import ProfileDiff, diff_profiles
from web.queries.profiles import profile_at, profile_before


def find_alert(session: Session, project_id: int, alert_id: int) -> BoardAlert | None:
    """The alert if it belongs to the project, else None (one answer for both)."""
    row = session.execute(
        alert_query().where(Alert.id == alert_id, Series.project_id == project_id)
    ).first()
    return None if row is None else to_alert(row)


@dataclass(frozen=True)
class Measured:
    """One commit a bisection measured: the median of its samples and how many."""

    sha: str
    median: float
    n: int
    vs_good: float | None  # median / the good end's median - 1


@dataclass(frozen=True)
class Step:
    job_id: int
    state: str
    commits: list[str]
    repeats: int | None
    error: str | None


@dataclass
class Confirmation:
    job_id: int
    state: str
    baseline_sha: str | None
    candidate_sha: str
    repeats: int | None
    retries: int
    verdict: str | None
    rel_change: float | None
    pvalue: float | None
    error: str | None


@dataclass
class Bisection:
    job_id: int
    state: str
    good_sha: str | None
    bad_sha: str
    culprit: str | None
    range_size: int
    steps: list[Step] = field(default_factory=list)
    measured: list[Measured] = field(default_factory=list)
    error: str | None = None


def _spec(job: Job) -> dict[str, Any]:
    """What the job's runner was told (commits, repeats)."""
    return dict(job.spec or {})


def _alert_ids(job: Job) -> set[int]:
    listed = JobProgress.of(job).alert_ids
    return set(listed) | ({job.alert_id} if job.alert_id else set())


def _jobs(session: Session, alert: BoardAlert, kind: str) -> list[Job]:
    siblings = select(Alert.id).where(Alert.summary_id == alert.summary_id)
    found = session.scalars(
        select(Job).where(Job.kind == kind, Job.alert_id.in_(siblings)).order_by(Job.id)
    )
    return [j for j in found if alert.id in _alert_ids(j)]


def confirmations(session: Session, alert: BoardAlert) -> list[Confirmation]:
    """Each confirmation job of the alert with the verdict it stored for this alert."""
    out = []
    for job in _jobs(session, alert, "confirm"):
        spec, progress = _spec(job), JobProgress.of(job)
        verdict = progress.confirmation.get(str(alert.id))
        out.append(
            Confirmation(
                job.id,
                job.state,
                job.baseline_sha,
                job.commit_sha,
                _int(spec.get("repeats")),
                progress.retries,
                verdict.verdict if verdict else None,
                verdict.rel_change if verdict else None,
                verdict.pvalue if verdict else None,
                job.error,
            )
        )
    return out


def bisections(session: Session, alert: BoardAlert) -> list[Bisection]:
    """Each bisection of the alert: its steps and what every measured commit gave."""
    out = []
    for job in _jobs(session, alert, "bisect"):
        if job.parent_job_id is not None:
            continue  # a step; listed under its controller
        progress = JobProgress.of(job)
        commits = progress.commits
        found = Bisection(
            job.id,
            job.state,
            job.baseline_sha,
            job.commit_sha,
            progress.culprit or None,
            len(commits),
            error=job.error,
        )
        steps = session.scalars(select(Job).where(Job.parent_job_id == job.id).order_by(Job.id))
        for step in steps:
            step_spec = _spec(step)
            found.steps.append(
                Step(
                    step.id,
                    step.state,
                    [str(c) for c in step_spec.get("commits") or []],
                    _int(step_spec.get("repeats")),
                    step.error,
                )
            )
        found.measured = _measured(commits, progress.samples)
        out.append(found)
    return out


def _measured(commits: list[str], samples: dict[str, list[float]]) -> list[Measured]:
    rows: list[Measured] = []
    good: float | None = None
    for sha in commits:
        values = samples.get(sha) or []
        if not values:
            continue
        median = statistics.median(values)
        if good is None:
            good = median
        vs_good = median / good - 1 if good else None
        rows.append(Measured(sha, median, len(values), vs_good))
    return rows


def triage_history(session: Session, alert_id: int, summary_ids: list[int]) -> list[AuditEntry]:
    """Every triage of the alert or of its summaries, oldest first.

    Triaging a merged group writes one entry per summary in one transaction; they
    are one act, listed once.
    """
    targets = [f"alert:{alert_id}", *(f"alert_summary:{i}" for i in summary_ids)]
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target.in_(targets))
        .order_by(AuditEntry.created_at, AuditEntry.id)
    )
    seen: set[tuple[str, str, str, object]] = set()
    out = []
    for entry in entries:
        second = entry.created_at.replace(microsecond=0) if entry.created_at else None
        key = (entry.actor, entry.action, repr(sorted((entry.details or {}).items())), second)
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


def pr_comment(
    session: Session, project_id: int, commit_ids: list[int]
) -> tuple[int, PrComment | None] | None:
    """(PR number, its sticky comment if any) of a pull request that ran one of the commits."""
    number = session.scalar(
        select(Run.pr_number)
        .where(
            Run.project_id == project_id,
            Run.commit_id.in_(commit_ids),
            Run.pr_number.is_not(None),
        )
        .order_by(Run.id.desc())
        .limit(1)
    )
    if number is None:
        return None
    comment = session.scalar(
        select(PrComment).where(PrComment.project_id == project_id, PrComment.pr_number == number)
    )
    return int(number), comment


@dataclass(frozen=True)
class AlertProfile:
    """Where the alert's instructions went: the candidate's profile against the baseline's."""

    baseline_sha: str
    candidate_sha: str
    diff: ProfileDiff


def profile_change(session: Session, alert: BoardAlert) -> AlertProfile | None:
    """The profile diff of the alert's benchmark: its culprit (or first changed commit)
    against the newest profiled commit before it; None when either has no profile."""
    series = session.get(Series, alert.series_id)
    if series is None:
        return None
    where = (alert.benchmark_id, series.machine_id, series.branch_id)
    candidate_id = alert.culprit_commit_id or alert.first_commit_id
    candidate = profile_at(session, *where, candidate_id)
    if candidate is None:
        return None
    baseline = profile_before(session, *where, candidate.position)
    if baseline is None:
        return None
    diff = diff_profiles(baseline.profile, candidate.profile)
    return AlertProfile(baseline.sha, candidate.sha, diff)


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int) else None
