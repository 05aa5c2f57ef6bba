"""Keeping results' per-function profiles: stored compressed with the run, pruned by age.

A profile arrives on a result record (``ResultRecord.profile``) and is stored
in ``result_profile`` beside the result row it explains, zlib-compressed
(a 150-function profile is ~25 kB of JSON and ~6 kB stored). Retention is per
series: the profiles of its latest ``profile_commits`` commits (a project
setting) are kept, older ones are deleted when a new run of the series
arrives, so storage grows with the number of series, not with history.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from runner.schema import Profile, ResultRecord, params_key
from web.models import Benchmark, Measure, Project, Result, ResultProfile, Run
from web.models.project_settings import (
    DEFAULT_PROFILE_COMMITS,
    ProjectSettings,
    ProjectSettingsError,
)

_LEVEL = 6  # zlib's default: level 9 saves under 2 % more on profiles, at twice the time


def encode_profile(profile: Profile) -> bytes:
    """The stored form of ``profile``: compressed JSON."""
    return zlib.compress(profile.model_dump_json().encode(), _LEVEL)


def store_profiles(session: Session, run: Run, records: Sequence[ResultRecord]) -> int:
    """Store the profile of each of ``run``'s records that has one; returns how many.

    Results are matched to records by benchmark (suite, name, params) and
    measure, as ingest stored them; the run's results must be flushed.
    """
    wanted = {_record_key(r): r.profile for r in records if r.profile is not None}
    if not wanted:
        return 0
    rows = session.execute(
        select(
            Result.id,
            Benchmark.suite,
            Benchmark.name,
            Benchmark.params_key,
            Measure.name,
            Measure.unit,
        )
        .join(Benchmark, Benchmark.id == Result.benchmark_id)
        .join(Measure, Measure.id == Result.measure_id)
        .where(Result.run_id == run.id)
    ).tuples()
    stored = []
    for result_id, suite, name, params, measure, unit in rows:
        profile = wanted.pop((suite, name, params, measure, unit), None)
        if profile is not None:
            stored.append(
                {
                    "result_id": result_id,
                    "total": profile.total,
                    "function_count": len(profile.functions),
                    "data": encode_profile(profile),
                }
            )
    if stored:
        session.execute(insert(ResultProfile), stored)
    return len(stored)


def _record_key(record: ResultRecord) -> tuple[str, str, str, str, str]:
    return (record.suite, record.name, params_key(record.params), record.measure, record.unit)


def profile_retention(project: Project) -> int:
    """The project's ``profile_commits``; the default while its stored settings do not
    validate (storing a run never fails on them: detection reports them)."""
    try:
        return ProjectSettings.of(project).profile_commits
    except ProjectSettingsError:
        return DEFAULT_PROFILE_COMMITS


def prune_profiles(session: Session, series_ids: Iterable[int], keep_commits: int) -> int:
    """Delete the profiles of ``series_ids`` older than each series' latest ``keep_commits``
    commits (by first-parent position); returns how many were deleted.

    Several results of one commit (re-runs, confirmation, bisection) share its
    rank, so a commit's profiles go together.
    """
    ids = sorted(set(series_ids))
    if not ids:
        return 0
    rank = (
        func.dense_rank()
        .over(partition_by=Result.series_id, order_by=Result.position.desc())
        .label("rank")
    )
    ranked = (
        select(ResultProfile.result_id, rank)
        .join(Result, Result.id == ResultProfile.result_id)
        .where(Result.series_id.in_(ids))
        .subquery()
    )
    old = select(ranked.c.result_id).where(ranked.c.rank > keep_commits)
    done = session.execute(
        delete(ResultProfile)
        .where(ResultProfile.result_id.in_(old))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)
