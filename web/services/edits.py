"""The maintainers' edits from the dashboard: triage, rename, merge, annotate; each audited.

Plain functions over a Session that never commit (the view commits once).
Triage follows ``web.services.triage`` (the API's rules too) and every edit
is recorded by ``web.services.audit``, the one audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from web.models import (
    Alert,
    AlertSummary,
    Annotation,
    Benchmark,
    Series,
)
from web.queries.trend import find_branch_commit, merged_benchmark_ids
from web.services import triage
from web.services.audit import record

ANNOTATION_KINDS = ("known_change", "note")


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
    record(session, actor.name, action, target, project_id=project_id, details=details)


def triage_summary(
    session: Session,
    actor: Actor,
    summary: AlertSummary,
    *,
    status: str | None = None,
    issue_url: str | None = None,
    note: str | None = None,
) -> AlertSummary:
    """The dashboard's triage of a summary: the rules of ``web.services.triage``."""
    try:
        return triage.triage_summary(
            session, actor.name, summary, status=status, issue_url=issue_url, note=note
        )
    except triage.TriageError as exc:
        raise WriteError(str(exc)) from None


def triage_alert(session: Session, actor: Actor, alert: Alert, status: str) -> Alert:
    """The dashboard's triage of one alert: the rules of ``web.services.triage``."""
    try:
        return triage.triage_alert(session, actor.name, alert, status)
    except triage.TriageError as exc:
        raise WriteError(str(exc)) from None


def _clean_note(note: str) -> str | None:
    try:
        return triage.clean_note(note)
    except triage.TriageError as exc:
        raise WriteError(str(exc)) from None


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
