"""Re-runs of commits already in a series: confirmation, bisection and A/B runs of a runner job.

``make_history`` stores one run per commit; these helpers add more runs of the
same commits, uploaded the way a runner uploads a job's runs (idempotency key
``job-<id>-<sha>``), so a test can check they fold into the commit's one point.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import sha
from web.models import Commit, Job, Machine, Result, Run, Series


def add_job_run(
    session: Session, series: Series, commit: int, value: float, *, kind: str = "confirm"
) -> Run:
    """A ``kind`` job's run of commit ``sha(commit)`` measuring ``value`` in ``series``."""
    found = session.scalar(
        select(Commit).where(Commit.project_id == series.project_id, Commit.sha == sha(commit))
    )
    assert found is not None, f"commit {commit} is not in the history"
    machine = session.get(Machine, series.machine_id)
    assert machine is not None
    job = Job(project_id=series.project_id, kind=kind, commit_sha=found.sha, machine=machine.name,
              state="done", spec={})  # fmt: skip
    session.add(job)
    session.flush()
    run = Run(project_id=series.project_id, commit_id=found.id, branch_id=series.branch_id,
              machine_id=series.machine_id, source_format="custom", result_count=1,
              idempotency_key=f"job-{job.id}-{found.sha}", machine_snapshot={})  # fmt: skip
    session.add(run)
    session.flush()
    job.run_id = run.id
    where = {
        "series_id": series.id,
        "benchmark_id": series.benchmark_id,
        "measure_id": series.measure_id,
        "commit_id": found.id,
        "position": commit * 1024,
    }
    session.add(Result(run_id=run.id, value=value, mean=value, **where))
    session.commit()
    return run
