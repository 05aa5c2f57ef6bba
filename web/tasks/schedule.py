"""Scheduling tasks: PR comparisons, confirmation after detection, follow-ups of runner jobs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.celery_app import Dispatcher
from web.config import Settings
from web.db import begin_reading
from web.models import Job, Project
from web.services.ab import finish_ab
from web.services.bisect import begin_bisection, bisect_range, finish_step, range_commits
from web.services.confirm import confirm_alerts as confirm_alerts_service
from web.services.confirm import confirmed_to_bisect, finish_confirmation
from web.services.jobs import schedule_pull_request as schedule_pull_request_service
from web.services.repo import History


def history_for(dispatcher: Dispatcher) -> History:
    """Mirrors of remote repositories live under the service's data directory."""
    root = dispatcher.celery.conf.get("benchwarden_data_dir")
    if root is None:
        root = Settings.from_env().data_dir
    return History(Path(root) / "mirrors")


def schedule_pull_request(
    session: Session,
    dispatcher: Dispatcher,
    project_id: int,
    pr_number: int,
    base_sha: str,
    head_sha: str,
) -> list[int]:
    """The PR's A/B jobs from the merge base of ``base_sha`` (the base tip) and the head.

    Read the repository URL and end that transaction, run git with no transaction
    open (a mirror fetch may take minutes), then write the jobs (house style 16).
    Returns the ids of the jobs queued; none when the project or its URL is gone.
    """
    begin_reading(session)
    repo_url = session.scalar(select(Project.repo_url).where(Project.id == project_id))
    session.rollback()
    if not repo_url:
        return []
    merge_base = history_for(dispatcher).merge_base(repo_url, base_sha, head_sha)
    project = session.get(Project, project_id)
    if project is None:
        return []
    jobs = schedule_pull_request_service(
        session, dispatcher, project, pr_number, merge_base, head_sha
    )
    return [job.id for job in jobs]


def confirm_alerts(session: Session, dispatcher: Dispatcher, alert_ids: list[int]) -> list[int]:
    """Returns the ids of the confirmation jobs queued."""
    return [job.id for job in confirm_alerts_service(session, dispatcher, alert_ids)]


def job_finished(session: Session, dispatcher: Dispatcher, job_id: int) -> str | None:
    """Advance whatever waited on ``job_id``: A/B comparison, confirmation or bisection."""
    job = session.get(Job, job_id)
    if job is None:
        return None
    if job.kind == "ab":
        finish_ab(session, job)
    elif job.kind == "confirm":
        confirmed = confirmed_to_bisect(finish_confirmation(session, dispatcher, job))
        if confirmed:
            bisect_confirmed(session, dispatcher, confirmed, history_for(dispatcher))
    elif job.parent_job_id is not None:
        finish_step(session, dispatcher, job)
    return job.kind


def bisect_confirmed(
    session: Session, dispatcher: Dispatcher, alert_ids: list[int], history: History
) -> int | None:
    """Start bisecting confirmed alerts: commit what came before, read the range,
    ask git with no transaction open (a mirror's clone or fetch may take minutes),
    then write the bisection in a short transaction (house style 16).

    Returns the controller job's id; None when there is nothing to bisect.
    """
    session.commit()  # the verdicts are stored whatever git answers
    begin_reading(session)
    found = bisect_range(session, alert_ids)
    session.commit()
    if found is None:
        return None
    commits = range_commits(history, found)
    controller = begin_bisection(session, dispatcher, found, commits)
    return controller.id if controller is not None else None
