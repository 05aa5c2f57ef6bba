"""A/B jobs: the comparison of a pull request's head with its merge base, per benchmark.

Both commits were measured interleaved on one machine; every benchmark and
measure the two runs share is compared with the detector (false-discovery
rate controlled across them), and the verdicts are kept in the job's progress for the
pull-request comment and the API.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from detector import compare_many
from web.models import Benchmark, Job, Measure, Project, Result
from web.models.job_progress import AbVerdict, JobProgress
from web.models.project_settings import ProjectSettings


def _run_values(session: Session, run_id: int) -> dict[str, tuple[list[float], bool]]:
    rows = session.execute(
        select(
            Benchmark.name,
            Benchmark.params_key,
            Measure.name,
            Measure.direction,
            Result.samples,
            Result.value,
        )
        .join(Benchmark, Benchmark.id == Result.benchmark_id)
        .join(Measure, Measure.id == Result.measure_id)
        .where(Result.run_id == run_id, Result.status == "ok")
    )
    out: dict[str, tuple[list[float], bool]] = {}
    for name, params, measure, direction, samples, value in rows:
        values = samples or ([] if value is None else [value])
        if values:
            label = f"{name}{'' if params == '{}' else params} [{measure}]"
            out[label] = ([float(v) for v in values], direction != "higher_is_better")
    return out


def finish_ab(session: Session, job: Job) -> dict[str, AbVerdict]:
    """Compare the head run with the base run; stored as the job's progress ``comparison``."""
    progress = JobProgress.of(job)
    base_run = progress.run_ids.get(str(job.baseline_sha))
    head_run = progress.run_ids.get(job.commit_sha)
    if job.state != "done" or base_run is None or head_run is None:
        return {}
    base, head = _run_values(session, int(base_run)), _run_values(session, int(head_run))
    shared = sorted(set(base) & set(head))
    if not shared:
        return {}
    project = session.get(Project, job.project_id)
    assert project is not None
    results = compare_many(
        {name: (base[name][0], head[name][0]) for name in shared},
        lower_is_better={name: base[name][1] for name in shared},
        thresholds=ProjectSettings.of(project).thresholds(),
    )
    progress.comparison = {
        name: AbVerdict(
            verdict=str(c.verdict),
            rel_change=c.rel_change,
            qvalue=c.qvalue,
            ci=(c.ci_low, c.ci_high),
        )
        for name, c in results.items()
    }
    progress.save(job)
    return progress.comparison
