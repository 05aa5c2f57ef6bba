"""Triage of alerts: the rules every entry point keeps, each change audited.

The dashboard's forms, its JSON endpoint and the API's ``PATCH`` all change an
alert's or a summary's status, issue link and note; the rules (which states
exist, what a link and a note may be, that a summary's alerts follow its
status) and the audit entry they write live here once. The audit actions and
targets are the ones the alert page's triage trail reads
(:func:`web.queries.alert_detail.triage_history`). Nothing here commits.
"""

from __future__ import annotations

from urllib.parse import urlparse

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from web.models import TRIAGE_STATES, Alert, AlertSummary, Series
from web.models.base import utcnow
from web.services.audit import record

MAX_NOTE = 5000
MAX_ISSUE_URL = 2000


class TriageError(ValueError):
    """The change asked for is not valid; the message says why and may be shown as is."""


def check_status(status: str) -> str:
    """``status`` when it is a triage state, else :class:`TriageError`."""
    if status not in TRIAGE_STATES:
        raise TriageError(f"status must be one of {', '.join(TRIAGE_STATES)}")
    return status


def clean_issue_url(url: str) -> str | None:
    """An http(s) link of at most ``MAX_ISSUE_URL`` characters; blank clears it (None)."""
    url = url.strip()
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or len(url) > MAX_ISSUE_URL:
        raise TriageError("the issue link must be an http(s) URL")
    return url


def clean_note(note: str) -> str | None:
    """The note without surrounding blanks, at most ``MAX_NOTE`` characters; blank is None."""
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise TriageError(f"the note is longer than {MAX_NOTE} characters")
    return note or None


def triage_summary(
    session: Session,
    actor: str,
    summary: AlertSummary,
    *,
    status: str | None = None,
    issue_url: str | None = None,
    note: str | None = None,
) -> AlertSummary:
    """Set a summary's status (its alerts follow), issue link and note; None leaves a field.

    An empty ``issue_url`` or ``note`` clears it. Every field is checked before
    any is changed, so a refused change leaves the summary as it was.
    """
    new_status = check_status(status) if status is not None else None
    new_url = clean_issue_url(issue_url) if issue_url is not None else None
    new_note = clean_note(note) if note is not None else None
    changes: dict[str, object] = {}
    if new_status is not None:
        changes["status"] = (summary.status, new_status)
        summary.status = new_status
        session.execute(
            update(Alert)
            .where(Alert.summary_id == summary.id)
            .values(status=new_status, updated_at=utcnow())
        )
    if issue_url is not None:
        changes["issue_url"] = (summary.issue_url, new_url)
        summary.issue_url = new_url
    if note is not None:
        changes["note"] = (summary.note, new_note)
        summary.note = new_note
    summary.updated_at = utcnow()
    record(
        session,
        actor,
        "alert_summary.triage",
        f"alert_summary:{summary.id}",
        project_id=summary.project_id,
        details={"changes": changes},
    )
    return summary


def triage_alert(session: Session, actor: str, alert: Alert, status: str) -> Alert:
    """One alert of a summary gets its own status (e.g. one invalid among real ones)."""
    check_status(status)
    old = alert.status
    alert.status = status
    alert.updated_at = utcnow()
    project_id = session.scalar(select(Series.project_id).where(Series.id == alert.series_id))
    record(
        session,
        actor,
        "alert.triage",
        f"alert:{alert.id}",
        project_id=project_id,
        details={"status": [old, status]},
    )
    return alert
