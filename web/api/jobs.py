"""Job endpoints: runners report state, people and tools read it.

``POST /jobs/<id>/state`` is how a runner machine (which never sees the
database) tells the service a job started, finished or failed; it needs a
write token of the job's project. A ``running`` report for a job that already
finished answers 409 ``job_finished``, which a redelivered job takes as "do
nothing". Route entries are tuples of `web.api.routes.Route` fields, so this
module does not import the route table it is listed in.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from runner.schema import JobReport
from web.api.auth import authorize, bearer_secret, current_token, project_or_404
from web.api.errors import ApiError, validation_details
from web.api.params import MAX_JOB_LIMIT, whole_number
from web.celery_app import Dispatcher
from web.db import request_session
from web.models import Job, Project, Run
from web.services.confirm import stale_confirmation
from web.services.jobs import (
    JobError,
    JobFinishedError,
    cancel_job,
    ended_for_its_runner,
    list_jobs,
    record_state,
)
from web.services.runners import record_heartbeat

# Keys worth showing, from the spec (commits) and the progress; the rest
# (bisection samples) is bookkeeping.
_SHOWN = ("commits", "run_ids", "comparison", "confirmation", "culprit", "steps", "alert_ids")


# The runner's report is validated with the model the runner builds it with.
JobStateIn = JobReport


class JobOut(BaseModel):
    id: int
    project: str
    kind: str
    state: str
    machine: str
    commit: str
    baseline: str | None
    branch: str | None
    pr_number: int | None
    attempts: int
    run_id: int | None
    alert_id: int | None
    parent_job_id: int | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    seconds: float | None = Field(description="wall time from first start to finish")
    log_tail: str | None
    error: str | None
    details: dict[str, Any]


class JobList(BaseModel):
    jobs: list[JobOut]


def job_out(job: Job, project: Project) -> JobOut:
    seconds = None
    if job.started_at and job.finished_at:
        seconds = (job.finished_at - job.started_at).total_seconds()
    found = {**(job.spec or {}), **(job.progress or {})}
    if "range" in found:  # a bisection that ended without one says so
        found.setdefault("culprit", None)
    return JobOut(
        id=job.id,
        project=project.name,
        kind=job.kind,
        state=job.state,
        machine=job.machine,
        commit=job.commit_sha,
        baseline=job.baseline_sha,
        branch=job.branch,
        pr_number=job.pr_number,
        attempts=job.attempts,
        run_id=job.run_id,
        alert_id=job.alert_id,
        parent_job_id=job.parent_job_id,
        created_at=job.created_at.isoformat(),
        started_at=job.started_at.isoformat() if job.started_at else None,
        finished_at=job.finished_at.isoformat() if job.finished_at else None,
        seconds=seconds,
        log_tail=job.log_tail,
        error=job.error,
        details={k: found[k] for k in _SHOWN if k in found},
    )


def _json(model: BaseModel, status: int = 200) -> tuple[Response, int]:
    return current_app.response_class(model.model_dump_json(), mimetype="application/json"), status


MACHINE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def _settings() -> Any:
    return current_app.extensions["benchwarden.settings"]


def _job_not_found(job_id: int) -> ApiError:
    return ApiError(404, "job_not_found", f"job {job_id} does not exist")


def report_job_state(job_id: int) -> tuple[Response, int]:
    session = request_session()
    job = session.get(Job, job_id)
    project = session.get(Project, job.project_id) if job is not None else None
    if job is None or project is None:
        current_token(session)  # a bad token is 401, as for a job of a private project
        raise _job_not_found(job_id)
    if ended_for_its_runner(session, job, bearer_secret()):
        raise ApiError(
            409, "job_finished", f"job {job.id} is already {job.state}", {"state": job.state}
        )
    try:
        authorize(session, _settings(), project, "write")
    except ApiError as exc:
        # A job of a private project the token may not see is as missing as no job.
        if exc.status == 404:
            raise _job_not_found(job_id) from None
        raise
    try:
        body = JobStateIn.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        raise ApiError(
            422, "invalid_state", "the job state is invalid", validation_details(exc)
        ) from None
    _check_runs(session, project, body.run_ids)
    if body.state == "running":
        _cancel_if_stale(session, job)
    dispatcher = Dispatcher(current_app.extensions["benchwarden.celery"])
    try:
        record_state(
            session,
            dispatcher,
            job,
            body.state,
            run_ids=body.run_ids,
            log_tail=body.log_tail,
            error=body.error,
        )
    except JobFinishedError as exc:
        raise ApiError(409, "job_finished", str(exc), {"state": job.state}) from None
    except JobError as exc:
        raise ApiError(422, "invalid_state", str(exc)) from None
    session.commit()
    return _json(job_out(job, project))


def _cancel_if_stale(session: Session, job: Job) -> None:
    """409 (and the job cancelled, with why) when a confirmation is no longer needed.

    The runner skips a job answered 409 ``job_finished`` at its start, as it
    skips a cancelled or redelivered one.
    """
    reason = stale_confirmation(session, job)
    if reason is None or not cancel_job(session, job, reason):
        return
    session.commit()
    message = f"job {job.id} is cancelled: {reason}"
    raise ApiError(409, "job_finished", message, {"state": job.state})


def _check_runs(session: Session, project: Project, run_ids: dict[str, int]) -> None:
    """422 unless every reported run is a run of ``project`` (the job keeps a
    reference to it, which the database would refuse with a 500)."""
    wanted = set(run_ids.values())
    found = set(
        session.scalars(select(Run.id).where(Run.id.in_(wanted), Run.project_id == project.id))
    )
    if wanted - found:
        unknown = min(wanted - found)
        raise ApiError(422, "invalid_state", f"run {unknown} is not a run of {project.name!r}")


def list_project_jobs(project: str) -> tuple[Response, int]:
    session = request_session()
    found = project_or_404(session, project)
    authorize(session, _settings(), found, "read")
    limit = whole_number(request.args.get("limit", "100"), high=MAX_JOB_LIMIT)
    if limit is None:
        raise ApiError(
            400, "invalid_parameter", f"limit must be a whole number from 1 to {MAX_JOB_LIMIT}"
        )
    jobs = list_jobs(session, found, state=request.args.get("state"), limit=limit)
    return _json(JobList(jobs=[job_out(j, found) for j in jobs]))


def get_job(project: str, job_id: int) -> tuple[Response, int]:
    session = request_session()
    found = project_or_404(session, project)
    authorize(session, _settings(), found, "read")
    job = session.get(Job, job_id)
    if job is None or job.project_id != found.id:
        raise ApiError(404, "job_not_found", f"job {job_id} not found in {project!r}")
    return _json(job_out(job, found))


class HeartbeatIn(BaseModel):
    hostname: str = Field(default="", max_length=255)


class HeartbeatOut(BaseModel):
    machine: str
    last_seen_at: str


def runner_heartbeat(machine: str) -> tuple[Response, int]:
    """A runner serving ``bench.<machine>`` is alive; any project's write token may say so."""
    session = request_session()
    token = current_token(session)
    if token is None:
        raise ApiError(401, "unauthorized", "a token with 'write' scope is required")
    if not token.allows("write"):
        raise ApiError(
            403, "forbidden", f"this token has {token.scope!r} scope; 'write' is required"
        )
    if not MACHINE_NAME.fullmatch(machine):
        raise ApiError(422, "invalid_machine", "machine names are letters, digits, '.', '_', '-'")
    try:
        body = HeartbeatIn.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        raise ApiError(
            422, "invalid_heartbeat", "the heartbeat is invalid", validation_details(exc)
        ) from None
    beat = record_heartbeat(session, machine, body.hostname)
    session.commit()
    return _json(HeartbeatOut(machine=beat.machine, last_seen_at=beat.last_seen_at.isoformat()))


# (method, path, handler, summary, response, status, auth, query, body)
JOB_ROUTES: tuple[tuple[Any, ...], ...] = (
    (
        "GET",
        "/projects/<project>/jobs",
        list_project_jobs,
        "Runner jobs, newest first",
        JobList,
        200,
        "read",
        ("state", "limit"),
    ),
    ("GET", "/projects/<project>/jobs/<int:job_id>", get_job, "One runner job", JobOut),
    (
        "POST",
        "/jobs/<int:job_id>/state",
        report_job_state,
        "A runner reports a job's state (running, done, failed)",
        JobOut,
        200,
        "write",
        (),
        "job_state",
    ),
    (
        "POST",
        "/machines/<machine>/heartbeat",
        runner_heartbeat,
        "A runner serving this machine's queue is alive",
        HeartbeatOut,
        200,
        "write",
    ),
)
