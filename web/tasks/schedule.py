"""Scheduling tasks: confirmation after detection, follow-ups when runner jobs finish."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from web.celery_app import Dispatcher
from web.models import Job
from web.services.ab import finish_ab
from web.services.bisect import finish_step
from web.services.confirm import confirm_alerts as confirm_alerts_service
from web.services.confirm import finish_confirmation
from web.services.repo import History


def history_for(dispatcher: Dispatcher) -> History:
    """Mirrors of remote repositories live under the service's data directory."""
    root = dispatcher.celery.conf.get("benchwarden_data_dir")
    if root is None:
        from web.config import Settings

        root = Settings.from_env().data_dir
    return History(Path(root) / "mirrors")


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
        finish_confirmation(session, dispatcher, job, history_for(dispatcher))
    elif job.parent_job_id is not None:
        finish_step(session, dispatcher, job)
    return job.kind
