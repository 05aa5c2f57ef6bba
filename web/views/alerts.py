"""Alerts: summaries grouped by commit range, filtered by status, and their triage.

Triage comes from the page's forms (session + CSRF) or as JSON from scripts
(``Authorization: Bearer`` with write scope). Every change is audited.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.db import request_session
from web.models import TRIAGE_STATES, Alert, AlertSummary, Project, Series
from web.queries.alerts import alert_summaries
from web.views.access import readable_project, writer
from web.views.writes import WriteError, triage_alert, triage_summary


def alerts_page(project: str) -> str:
    found = readable_project(project)
    status = request.args.get("status", "")
    status = status if status in TRIAGE_STATES else ""
    summaries = alert_summaries(request_session(), found.id, status=status)
    return render_template(
        "dash/alerts.html",
        project=found,
        summaries=summaries,
        status=status,
        states=TRIAGE_STATES,
    )


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
    form = request.form
    try:
        triage_summary(
            request_session(),
            actor,
            summary,
            status=form.get("status") or None,
            issue_url=form.get("issue_url"),
            note=form.get("note"),
        )
    except WriteError as exc:
        flash(str(exc), "error")
        return _back(found)
    request_session().commit()
    flash(f"Alert summary {summary.id} is now {summary.status}.", "ok")
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
    flash(f"Alert {alert.id} is now {alert.status}.", "ok")
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
    return jsonify({"error": {"code": code, "message": message, "details": None}}), status
