"""Notification tasks: the PR comment and status, and announcements of alert summaries.

These are the only places GitHub and outgoing webhooks are called from; a web
request never waits on them (DESIGN.md house style 8).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from web.celery_app import Dispatcher
from web.config import Settings
from web.github.notify import notify_pull_request
from web.github.outgoing import notify_alert_summary
from web.models import Commit, Run


def _base_url(dispatcher: Dispatcher) -> str:
    settings = getattr(dispatcher.celery.conf, "benchwarden_settings", None)
    if settings is not None:
        return str(settings.base_url)
    return Settings.from_env().base_url


def notify_pr(
    session: Session, dispatcher: Dispatcher, project_id: int, pr_number: int, head_sha: str
) -> str | None:
    """Update PR ``pr_number``'s sticky comment and status from the results at ``head_sha``.

    Returns the headline outcome, or None when nothing was posted (no GitHub
    configuration, or a newer report is already there).
    """
    report = notify_pull_request(
        session, project_id, pr_number, head_sha, base_url=_base_url(dispatcher)
    )
    return report.outcome.value if report is not None else None


def notify_summary(session: Session, dispatcher: Dispatcher, summary_id: int) -> bool:
    """Announce a new alert summary of a default branch (webhooks, GitHub status) once."""
    return notify_alert_summary(session, summary_id, base_url=_base_url(dispatcher))


def notify_pr_of_run(session: Session, dispatcher: Dispatcher, run_id: int) -> None:
    """After detection: a run submitted for a PR (``--pr N``) updates that PR's report."""
    run = session.get(Run, run_id)
    if run is None or run.pr_number is None:
        return
    commit = session.get(Commit, run.commit_id)
    if commit is not None:
        dispatcher.after_commit(
            session, "benchwarden.notify_pr", run.project_id, run.pr_number, commit.sha
        )
