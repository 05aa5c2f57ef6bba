"""The dashboard's write use cases: triage, rename, merge, annotate; each audited.

Plain functions over a Session that never commit (the view commits once).
They live beside the views because this module is the only writer of these
rows; they hold no Flask code and can move to ``web/services`` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from web.models import (
    TRIAGE_STATES,
    Alert,
    AlertSummary,
    Annotation,
    AuditEntry,
    Benchmark,
    Series,
)
from web.models.base import utcnow
from web.queries.trend import find_branch_commit, merged_benchmark_ids

ANNOTATION_KINDS = ("known_change", "note")
MAX_NOTE = 5000


class WriteError(ValueError):
    """The change asked for is not valid; the message is shown to the user."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a dashboard user or an API token (``token:<prefix>``)."""

    name: str


def audit(
    session: Session,
    actor: Actor,
    project_id: int | None,
    action: str,
    target: str,
    **details: object,
) -> None:
    session.add(
        AuditEntry(
            project_id=project_id, actor=actor.name, action=action, target=target, details=details
        )
    )


def _clean_url(url: str) -> str | None:
    url = url.strip()
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or len(url) > 2000:
        raise WriteError("the issue link must be an http(s) URL")
    return url


def _clean_note(note: str) -> str | None:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise WriteError(f"the note is longer than {MAX_NOTE} characters")
    return note or None


def triage_summary(
    session: Session,
    actor: Actor,
    summary: AlertSummary,
    *,
    status: str | None = None,
    issue_url: str | None = None,
    note: str | None = None,
) -> AlertSummary:
    """Set a summary's status (its alerts follow), issue link and note; None leaves a field."""
    changes: dict[str, object] = {}
    if status is not None:
        if status not in TRIAGE_STATES:
            raise WriteError(f"status must be one of {', '.join(TRIAGE_STATES)}")
        changes["status"] = (summary.status, status)
        summary.status = status
        session.execute(
            update(Alert)
            .where(Alert.summary_id == summary.id)
            .values(status=status, updated_at=utcnow())
        )
    if issue_url is not None:
        cleaned = _clean_url(issue_url)
        changes["issue_url"] = (summary.issue_url, cleaned)
        summary.issue_url = cleaned
    if note is not None:
        cleaned_note = _clean_note(note)
        changes["note"] = (summary.note, cleaned_note)
        summary.note = cleaned_note
    summary.updated_at = utcnow()
    audit(
        session,
        actor,
        summary.project_id,
        "alert_summary.triage",
        f"alert_summary:{summary.id}",
        changes=changes,
    )
    return summary


def triage_alert(session: Session, actor: Actor, alert: Alert, status: str) -> Alert:
    """One alert of a summary gets its own status (e.g. one invalid among real ones)."""
    if status not in TRIAGE_STATES:
        raise WriteError(f"status must be one of {', '.join(TRIAGE_STATES)}")
    old = alert.status
    alert.status = status
    alert.updated_at = utcnow()
    project_id = session.scalar(select(Series.project_id).where(Series.id == alert.series_id))
    audit(
        session,
        actor,
        project_id,
        "alert.triage",
        f"alert:{alert.id}",
        status=[old, status],
    )
    return alert


def rename_benchmark(session: Session, actor: Actor, bench: Benchmark, display_name: str) -> None:
    """Show ``bench`` under a new name; the stored key (suite, name, params) stays."""
    cleaned = display_name.strip()
    if len(cleaned) > 1000:
        raise WriteError("the display name is longer than 1000 characters")
    old = bench.display_name
    bench.display_name = cleaned or None
    audit(
        session,
        actor,
        bench.project_id,
        "benchmark.rename",
        f"benchmark:{bench.id}",
        before=old,
        after=bench.display_name,
        key=bench.name,
    )


def merge_benchmark(session: Session, actor: Actor, source: Benchmark, target: Benchmark) -> None:
    """Continue ``source``'s history in ``target`` (a renamed benchmark's old key).

    Nothing is rewritten: ``source`` points at ``target`` and readers follow it.
    """
    if source.project_id != target.project_id:
        raise WriteError("both benchmarks must belong to the same project")
    if source.id == target.id:
        raise WriteError("a benchmark cannot be merged into itself")
    if source.merged_into_id is not None:
        raise WriteError("that benchmark is already merged into another one")
    if source.id in merged_benchmark_ids(session, target.id) or target.id in (
        merged_benchmark_ids(session, source.id)
    ):
        raise WriteError("merging these two would form a cycle")
    source.merged_into_id = target.id
    audit(
        session,
        actor,
        target.project_id,
        "benchmark.merge",
        f"benchmark:{source.id}",
        into=target.id,
        source_key=source.name,
        target_key=target.name,
    )


def annotate(
    session: Session, actor: Actor, series: Series, sha: str, kind: str, note: str
) -> Annotation:
    """Mark a commit of a series; ``known_change`` tells detection not to alert on it."""
    if kind not in ANNOTATION_KINDS:
        raise WriteError(f"kind must be one of {', '.join(ANNOTATION_KINDS)}")
    commit = find_branch_commit(session, series.branch_id, sha)
    if commit is None:
        raise WriteError(f"no single commit of this branch starts with {sha.strip()!r}")
    annotation = Annotation(
        series_id=series.id,
        commit_id=commit.id,
        kind=kind,
        note=_clean_note(note) or "",
        author=actor.name,
    )
    session.add(annotation)
    session.flush()
    audit(
        session,
        actor,
        series.project_id,
        f"annotation.{kind}",
        f"series:{series.id}",
        commit=commit.sha,
        note=annotation.note,
    )
    return annotation


def delete_annotation(session: Session, actor: Actor, annotation: Annotation) -> None:
    series = session.get(Series, annotation.series_id)
    audit(
        session,
        actor,
        series.project_id if series else None,
        "annotation.delete",
        f"series:{annotation.series_id}",
        annotation=annotation.id,
        kind=annotation.kind,
    )
    session.delete(annotation)
