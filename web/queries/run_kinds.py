"""What kind of run a run is: CI submission, scheduled, confirmation, bisection or A/B.

Pages list a commit's runs under its one point and say why each was made, so a
reader can tell a confirmation re-run from a second CI upload. The kind is read
from the job that made the run: a runner uploads every run of a job under the
idempotency key ``job-<id>`` or ``job-<id>-<sha>`` (``runner.job.JobSpec.key``),
and the job records its kind. A run with no job of its project behind it was
submitted from CI (``benchwarden submit``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Job, Run

# Job kind -> run kind; a plain job ("run") was scheduled (schedule, backfill, PR).
_KIND_OF_JOB = {"run": "schedule", "ab": "ab", "confirm": "confirm", "bisect": "bisect"}
RUN_KINDS = ("ci", "schedule", "confirm", "bisect", "ab")
_JOB_KEY = re.compile(r"^job-(\d{1,18})(?:-[0-9a-f]{7,64})?$")


def job_of_key(key: str | None) -> int | None:
    """The job id a runner's idempotency key names, or None for any other key."""
    found = _JOB_KEY.match(key or "")
    return int(found.group(1)) if found else None


def run_kinds(session: Session, run_ids: Iterable[int]) -> dict[int, str]:
    """run id -> one of ``RUN_KINDS``, for the given runs (unknown ids are left out)."""
    ids = sorted(set(run_ids))
    runs: list[tuple[int, int, str | None]] = []
    for start in range(0, len(ids), 500):
        runs.extend(
            session.execute(
                select(Run.id, Run.project_id, Run.idempotency_key).where(
                    Run.id.in_(ids[start : start + 500])
                )
            ).tuples()
        )
    wanted = {found for _, _, key in runs if (found := job_of_key(key)) is not None}
    jobs: dict[int, tuple[int, str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = sorted(wanted)[start : start + 500]
        rows = session.execute(select(Job.id, Job.project_id, Job.kind).where(Job.id.in_(chunk)))
        jobs.update((job_id, (project_id, kind)) for job_id, project_id, kind in rows)
    out: dict[int, str] = {}
    for run_id, project_id, key in runs:
        job = jobs.get(job_of_key(key) or 0)
        # A job of another project is no evidence: the key is free text from the submitter.
        out[run_id] = _KIND_OF_JOB.get(job[1], "schedule") if job and job[0] == project_id else "ci"
    return out
