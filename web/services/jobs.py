"""Runner jobs: creating and scheduling them, recording what runners report.

Plain functions over a Session; none commits. A job is sent to its machine's
queue (``bench.<machine>``) by task name only after the transaction that
created it commits, so a runner never reports on a job the database does not
hold yet. Other code schedules work through `schedule_commits`,
`schedule_push` and `schedule_pull_request`.

Each job carries its own write token, scoped to the job's project and revoked
when the job ends (done, failed or cancelled): any runner can serve any
project, and a job redelivered after it ended is refused by the service.
The secret travels only in the broker message, never in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from runner.schema import JOB_FINISHED_TASK, RUN_JOB_TASK, JobKind, JobSpec, bench_queue
from runner.suites import ORIGIN_PROJECT, ORIGIN_SCHEDULE
from web.models import ApiToken, Job, Project
from web.models.base import utcnow
from web.models.job_progress import JobProgress
from web.models.project_settings import ProjectSettings
from web.services.repo import History
from web.services.tokens import create_token, hash_token, revoke_token

# The names runners and the service share (runner.schema), under their service names.
RUN_TASK = RUN_JOB_TASK
FINISHED_TASK = JOB_FINISHED_TASK
FINAL_STATES = ("done", "failed", "cancelled")


class Sender(Protocol):
    """What services need of the dispatcher: send a task by name after commit."""

    def after_commit(
        self, session: Session, name: str, *args: Any, queue: str | None = None
    ) -> None: ...


class JobError(ValueError):
    """A job request that cannot be honoured as asked."""


class JobFinishedError(JobError):
    """A runner reported on a job that already finished (a redelivered message)."""


@dataclass(frozen=True)
class OutsideSuites:
    """Suites from outside the commit (TOML) and whether they win over the commit's file."""

    config: str
    origin: str
    wins: bool


def machines_for(project: Project) -> list[str]:
    """The project's benchmark machines (``machines``, default ``["default"]``)."""
    return list(ProjectSettings.of(project).machines)


def create_job(
    session: Session,
    dispatcher: Sender,
    project: Project,
    *,
    machine: str,
    commits: Sequence[str],
    kind: JobKind = "run",
    branch: str | None = None,
    pr_number: int | None = None,
    alert_id: int | None = None,
    parent_job_id: int | None = None,
    benchmarks: Sequence[str] = (),
    repeats: int | None = None,
    outside: OutsideSuites | None = None,
    progress: JobProgress | None = None,
) -> Job:
    """Store one job and send it to ``bench.<machine>`` once the session commits.

    ``commits`` are measured interleaved on the machine, baseline first; the job's
    ``commit_sha`` is the last one (the candidate). ``outside`` defaults to the
    project's stored suites (`outside_suites`); ``progress`` is what the finishing
    step starts from (a confirmation's alerts, a bisection step's purpose).
    """
    if not project.repo_url:
        raise JobError(f"project {project.name!r} has no repository URL to run from")
    if not commits:
        raise JobError("a job needs at least one commit")
    job = Job(
        project_id=project.id,
        kind=kind,
        commit_sha=commits[-1],
        baseline_sha=commits[0] if len(commits) > 1 else None,
        branch=branch,
        machine=machine,
        pr_number=pr_number,
        alert_id=alert_id,
        parent_job_id=parent_job_id,
        state="queued",
        attempts=0,
    )
    session.add(job)
    session.flush()
    token = create_token(session, project, "write", f"job {job.id}")
    fields: dict[str, Any] = {}
    if benchmarks:
        fields["benchmarks"] = list(benchmarks)
    if repeats is not None:
        fields["repeats"] = repeats
    outside = outside or outside_suites(project)
    if outside is not None:
        fields |= {
            "suites_config": outside.config,
            "suites_origin": outside.origin,
            "suites_config_wins": outside.wins,
        }
    spec = JobSpec(
        job_id=job.id,
        kind=kind,
        project=project.name,
        repo_url=project.repo_url,
        commits=tuple(commits),
        branch=branch,
        pr_number=pr_number,
        token_id=token.id,
        token=token.secret,
        **fields,
    )
    # Only what was set is kept: a message reads as it did before these fields existed.
    job.spec = spec.model_dump(mode="json", exclude_unset=True, exclude={"token"})
    job.progress = (progress or JobProgress()).model_dump(mode="json", exclude_defaults=True)
    message = spec.model_dump(mode="json", exclude_unset=True)
    dispatcher.after_commit(session, RUN_TASK, message, queue=bench_queue(machine))
    return job


def outside_suites(project: Project, config: str | None = None) -> OutsideSuites | None:
    """Suites from outside the commit (see `runner.suites`), or None when there are none.

    ``config`` (``schedule --config``) always wins over the commit's own file; the
    project's stored suites win only with settings ``suites_source = "project"``,
    else they serve commits that declare none.
    """
    if config is not None:
        return OutsideSuites(config, ORIGIN_SCHEDULE, wins=True)
    if project.suites_config is None:
        return None
    wins = ProjectSettings.of(project).suites_source == "project"
    return OutsideSuites(project.suites_config, ORIGIN_PROJECT, wins)


def schedule_commits(
    session: Session,
    dispatcher: Sender,
    project: Project,
    shas: Sequence[str],
    *,
    branch: str | None = None,
    machines: Sequence[str] | None = None,
    every: int = 1,
    config: str | None = None,
) -> list[Job]:
    """One run job per commit (every ``every``-th, always the newest) per machine.

    ``config`` (TOML, already validated) overrides every commit's suites for these jobs.
    """
    if every < 1:
        raise JobError("--every must be at least 1")
    picked = [sha for i, sha in enumerate(shas) if (len(shas) - 1 - i) % every == 0]
    outside = outside_suites(project, config) if config is not None else None
    return [
        create_job(
            session,
            dispatcher,
            project,
            machine=machine,
            commits=[sha],
            branch=branch or project.default_branch,
            outside=outside,
        )
        for sha in picked
        for machine in (machines or machines_for(project))
    ]


def schedule_range(
    session: Session,
    dispatcher: Sender,
    project: Project,
    history: History,
    spec: str,
    **options: Any,
) -> list[Job]:
    """`schedule_commits` over ``A..B`` (or one rev) read from the project's repository."""
    if not project.repo_url:
        raise JobError(f"project {project.name!r} has no repository URL")
    return schedule_commits(
        session, dispatcher, project, history.commits(project.repo_url, spec), **options
    )


def schedule_push(
    session: Session, dispatcher: Sender, project: Project, after_sha: str, branch: str
) -> list[Job]:
    """A push to ``branch`` ending at ``after_sha``: one run job per configured machine."""
    return schedule_commits(session, dispatcher, project, [after_sha.lower()], branch=branch)


def schedule_pull_request(
    session: Session,
    dispatcher: Sender,
    project: Project,
    pr_number: int,
    base_sha: str,
    head_sha: str,
    history: History | None = None,
) -> list[Job]:
    """An A/B job per machine: the merge base and the head, interleaved (A B A B ...).

    ``base_sha`` may be the base branch's tip; with ``history`` the merge base of it
    and the head is measured instead, so the comparison shows the PR's own change.
    """
    base = base_sha.lower()
    if history is not None and project.repo_url:
        base = history.merge_base(project.repo_url, base_sha, head_sha)
    return [
        create_job(
            session,
            dispatcher,
            project,
            machine=machine,
            kind="ab",
            commits=[base, head_sha.lower()],
            branch=f"pr-{pr_number}",
            pr_number=pr_number,
        )
        for machine in machines_for(project)
    ]


def record_state(
    session: Session,
    dispatcher: Sender,
    job: Job,
    state: str,
    *,
    run_ids: dict[str, int] | None = None,
    log_tail: str | None = None,
    error: str | None = None,
) -> Job:
    """Apply a runner's report; ``running`` counts an attempt, a final state may follow-up.

    Raises JobFinishedError when ``running`` arrives for a finished job: the
    message was delivered again after the job completed and must not run twice.
    """
    if state not in ("running", "done", "failed"):
        raise JobError(f"state must be running, done or failed, got {state!r}")
    if job.state in FINAL_STATES and (state == "running" or job.state == "cancelled"):
        raise JobFinishedError(f"job {job.id} is already {job.state}")
    if state == "running":
        job.state, job.attempts = "running", job.attempts + 1
        job.started_at = job.started_at or utcnow()
        return job
    job.state, job.finished_at = state, utcnow()
    job.log_tail, job.error = log_tail, error
    _revoke_job_token(session, job)
    if run_ids:
        progress = JobProgress.of(job)
        progress.run_ids = dict(run_ids)
        progress.save(job)
        job.run_id = run_ids.get(job.commit_sha) or next(reversed(run_ids.values()))
    if job.kind != "run" or job.parent_job_id is not None:
        dispatcher.after_commit(session, FINISHED_TASK, job.id)
    return job


def cancel_job(session: Session, job: Job, reason: str = "cancelled") -> bool:
    """Mark a queued or running job ``cancelled``; False when it had already ended.

    Its token is revoked, so a runner that receives it later is refused and
    skips it, and a runner still measuring it cannot store its runs.
    """
    if job.state in FINAL_STATES:
        return False
    job.state, job.finished_at, job.error = "cancelled", utcnow(), reason
    _revoke_job_token(session, job)
    return True


def ended_for_its_runner(session: Session, job: Job, secret: str | None) -> bool:
    """True when ``job`` ended and ``secret`` is its own (now revoked) token.

    Its runner is then told "already finished" (409) rather than "unknown token"
    (401): a redelivered or cancelled job is skipped without counting as a
    failed login against the runner's address.
    """
    token_id = (job.spec or {}).get("token_id")
    if job.state not in FINAL_STATES or secret is None or not isinstance(token_id, int):
        return False
    token = session.get(ApiToken, token_id)
    return token is not None and token.token_hash == hash_token(secret)


def _revoke_job_token(session: Session, job: Job) -> None:
    token_id = (job.spec or {}).get("token_id")
    if isinstance(token_id, int):
        revoke_token(session, token_id)


def list_jobs(
    session: Session, project: Project, *, state: str | None = None, limit: int = 100
) -> list[Job]:
    query = select(Job).where(Job.project_id == project.id)
    if state:
        query = query.where(Job.state == state)
    return list(session.scalars(query.order_by(Job.id.desc()).limit(limit)))
