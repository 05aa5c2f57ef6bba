"""Alerts: summaries grouped by culprit or range, closed alerts apart, and their triage.

Triage comes from the page's forms (session + CSRF) or as JSON from scripts
(``Authorization: Bearer`` with write scope). Every change is audited. The
page's form triages every summary of a group (summaries that share a culprit
are one change); the JSON endpoint keeps to the one summary it names.
"""

from __future__ import annotations

from collections import Counter

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from web.api.errors import error_response
from web.db import request_session
from web.models import TRIAGE_STATES, Alert, AlertSummary, Project, Series
from web.queries import alert_board
from web.queries.around import alert_sparks
from web.services.alert_summaries import Board, build_board, members
from web.services.edits import WriteError, triage_alert, triage_summary
from web.views.access import readable_project, writer
from web.views.charts import Spark, spark
from web.views.format import commit_url
from web.views.labels import state_label


def alerts_page(project: str) -> str:
    found = readable_project(project)
    session = request_session()
    status = request.args.get("status", "")
    status = status if status in TRIAGE_STATES else ""
    board = load_board(session, found.id)
    groups = [g for g in board.groups if not status or g.status == status]
    closed = [c for c in board.closed if not status or c.alert.status == status]
    culprit_ids = [g.culprit.id for g in groups if g.culprit]
    ends = alert_board.commits(
        session,
        [
            *culprit_ids,
            *(g.primary.first_commit_id for g in groups),
            *(g.primary.last_good_commit_id for g in groups),
            *(a.end_commit_id for g in groups for a in g.alerts if a.end_commit_id),
        ],
    )
    shown = [a for g in groups for a in g.alerts] + [c.alert for c in closed]
    return render_template(
        "dash/alerts.html",
        project=found,
        groups=groups,
        closed=closed,
        commits=ends,
        sparks=_sparks(session, shown),
        environments=alert_board.environment_changes(session, (a.id for a in shown)),
        status=status,
        states=TRIAGE_STATES,
        counts=Counter(g.status for g in board.groups),
        commit_url=commit_url,
    )


def load_board(session: Session, project_id: int) -> Board:
    """The project's open groups and closed alerts (newest 300 summaries)."""
    rows = alert_board.summaries(session, project_id)
    alerts = [a for _, found in rows for a in found]
    culprits = alert_board.commits(session, (a.culprit_commit_id for a in alerts))
    refuted = [a.id for a in alerts if a.confirmation == "not_reproduced"]
    reruns = alert_board.reruns(session, refuted)
    return build_board(rows, culprits, reruns)


def _sparks(session: Session, alerts: list[alert_board.BoardAlert]) -> dict[int, Spark]:
    found = alert_sparks(session, [(a.id, a.series_id, a.position) for a in alerts])
    return {alert_id: spark(values, first) for alert_id, (values, first) in found.items()}


def _summary(project: Project, summary_id: int) -> AlertSummary:
    summary = request_session().get(AlertSummary, summary_id)
    if summary is None or summary.project_id != project.id:
        abort(404, description="No such alert summary in this project.")
    return summary


def _back(project: Project) -> Response:
    target = url_for("dash.alerts", project=project.name, status=request.form.get("back_status"))
    return redirect(target, code=303)


def triage_form(project: str, summary_id: int) -> Response:
    found = readable_project(project)
    actor = writer(found)
    summary = _summary(found, summary_id)
    session = request_session()
    group = members(alert_board.culprit_neighbours(session, summary), summary.id) or [summary]
    form = request.form
    try:
        for member in group:
            triage_summary(
                session,
                actor,
                member,
                status=form.get("status") or None,
                issue_url=form.get("issue_url"),
                note=form.get("note"),
            )
    except WriteError as exc:
        session.rollback()
        flash(str(exc), "error")
        return _back(found)
    session.commit()
    flash(f"Alert summary {summary.id} is now {state_label(summary.status)}.", "ok")
    return _back(found)


def triage_alert_form(project: str, alert_id: int) -> Response:
    found = readable_project(project)
    actor = writer(found)
    session = request_session()
    alert = session.get(Alert, alert_id)
    series = session.get(Series, alert.series_id) if alert else None
    if alert is None or series is None or series.project_id != found.id:
        abort(404, description="No such alert in this project.")
    try:
        triage_alert(session, actor, alert, request.form.get("status", ""))
    except WriteError as exc:
        flash(str(exc), "error")
        return _back(found)
    session.commit()
    flash(f"Alert {alert.id} is now {state_label(alert.status)}.", "ok")
    if request.form.get("back") == "detail":
        return redirect(url_for("dash.alert_detail", project=found.name, alert_id=alert.id), 303)
    return _back(found)


def triage_json(project: str, summary_id: int) -> tuple[Response, int]:
    """``POST`` JSON ``{"status"?, "issue_url"?, "note"?}``; answers the summary."""
    found = readable_project(project)
    actor = writer(found, allow_token=True)
    summary = _summary(found, summary_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(
        isinstance(body.get(k), str | None) for k in ("status", "issue_url", "note")
    ):
        return _error(400, "invalid_body", "send a JSON object of strings")
    try:
        triage_summary(
            request_session(),
            actor,
            summary,
            status=body.get("status"),
            issue_url=body.get("issue_url"),
            note=body.get("note"),
        )
    except WriteError as exc:
        return _error(422, "invalid_triage", str(exc))
    request_session().commit()
    out = {
        "id": summary.id,
        "status": summary.status,
        "issue_url": summary.issue_url,
        "note": summary.note,
    }
    return jsonify({"summary": out}), 200


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return error_response(status, code, message), status
