"""A machine's recent runs and how noisy it has been, week by week (issue 16, item 6).

The noise of a run is the median coefficient of variation (spread / value) of
its results: the median, so one wild benchmark does not make a quiet run look
noisy. A result's spread is its interquartile range / 1.349 (the σ of a normal
with that IQR), from its parser's quartiles, else from its raw samples, else its
standard deviation: the order of the plot's band (``web.queries.spread``), for
the same reason (one slow process inflates a standard deviation). A week's
noise is the median of its runs'. Only the newest ``RUNS`` runs of a
machine are read (and at most ``MAX_RESULTS`` of their results), so the page
costs the same on a machine with years of history; medians are taken in Python
because SQLite has no median aggregate.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

from web.models import Branch, Commit, Result, Run
from web.queries.noisy_runs import is_noisy
from web.queries.spread import RunSpread, samples_of

RUNS = 300
MAX_RESULTS = 200_000
IQR_TO_SIGMA = 1.349


@dataclass(frozen=True)
class RunNoise:
    """One run of the machine; ``cv`` is None when no result carried a spread."""

    run_id: int
    created_at: datetime
    sha: str
    branch: str | None
    status: str
    results: int
    cv: float | None
    noisy: bool


@dataclass(frozen=True)
class WeekNoise:
    """The runs of one week (Monday first) and the median of their noise."""

    start: date
    runs: int
    noisy_runs: int
    cv: float | None


def recent_runs(session: Session, machine_id: int, limit: int = RUNS) -> list[RunNoise]:
    """The machine's newest ``limit`` runs, newest first, with their noise."""
    noisy = case((is_noisy(), True), else_=False)
    rows = session.execute(
        select(Run.id, Run.created_at, Commit.sha, Branch.name, Run.status, Run.result_count, noisy)
        .join(Commit, Commit.id == Run.commit_id)
        .outerjoin(Branch, Branch.id == Run.branch_id)
        .where(Run.machine_id == machine_id)
        .order_by(Run.created_at.desc(), Run.id.desc())
        .limit(limit)
    ).all()
    cvs = _run_cvs(session, [row[0] for row in rows])
    return [
        RunNoise(rid, at, sha, branch, status, count or 0, cvs.get(rid), bool(flag))
        for rid, at, sha, branch, status, count, flag in rows
    ]


def _run_cvs(session: Session, run_ids: list[int]) -> dict[int, float]:
    """run id -> median coefficient of variation of its ok results that have a spread."""
    found: dict[int, list[float]] = defaultdict(list)
    need_samples = and_(Result.q1.is_(None), Result.samples.is_not(None))
    for start in range(0, len(run_ids), 500):
        rows = session.execute(
            select(
                Result.run_id,
                Result.value,
                Result.q1,
                Result.q3,
                Result.stddev,
                case((need_samples, Result.samples), else_=None),
            )
            .where(
                Result.run_id.in_(run_ids[start : start + 500]),
                Result.status == "ok",
                Result.value.is_not(None),
                Result.value != 0,
            )
            .limit(MAX_RESULTS)
        )
        for run_id, value, q1, q3, stddev, samples in rows:
            cv = _cv(RunSpread(run_id, value, q1, q3, stddev, samples_of(samples), False))
            if cv is not None:
                found[run_id].append(cv)
    return {run_id: statistics.median(values) for run_id, values in found.items()}


def _cv(result: RunSpread) -> float | None:
    """Spread / |value| of one result, or None when it reported no spread."""
    has_quartiles = result.q1 is not None and result.q3 is not None
    if has_quartiles or (result.samples is not None and len(result.samples) >= 2):
        low, high = result.quartiles()
        return (high - low) / IQR_TO_SIGMA / abs(result.value)
    if result.stddev is not None:
        return result.stddev / abs(result.value)
    return None


def weekly_noise(runs: list[RunNoise]) -> list[WeekNoise]:
    """Weeks of ``runs`` (any order) oldest first; weeks without runs are left out."""
    weeks: dict[date, list[RunNoise]] = defaultdict(list)
    for run in runs:
        day = run.created_at.date()
        weeks[day - timedelta(days=day.weekday())].append(run)
    out = []
    for start in sorted(weeks):
        members = weeks[start]
        cvs = [r.cv for r in members if r.cv is not None]
        cv = statistics.median(cvs) if cvs else None
        out.append(WeekNoise(start, len(members), sum(r.noisy for r in members), cv))
    return out
