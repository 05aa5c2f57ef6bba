"""Alert endpoints: list, read and triage alerts and their summaries.

Integrations (chat bots, issue trackers, a team's scripts) read what the
alerts page shows and triage as a maintainer does on it, with a write token of
the project. Triage keeps the dashboard's rules and audit trail
(`web.services.triage`); a summary's ``PATCH`` changes that one summary, as the
dashboard's JSON triage does. Route entries are tuples of
`web.api.routes.Route` fields, as in `web.api.jobs`.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import quote

from flask import Response, current_app, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from web.api import alert_schemas as wire
from web.api.auth import authorize, project_or_404
from web.api.errors import ApiError, validation_details
from web.api.params import MAX_JOB_LIMIT, whole_number
from web.api.schemas import SeriesOut
from web.config import Settings
from web.db import request_session
from web.models import TRIAGE_STATES, Alert, AlertSummary, ApiToken, Project
from web.models.base import utcnow
from web.queries import alert_feed
from web.services.triage import TriageError, triage_alert, triage_summary

KINDS = ("regression", "improvement")
Body = TypeVar("Body", bound=BaseModel)
SHA_PREFIX = re.compile(r"[0-9a-fA-F]{4,40}")


def _settings() -> Settings:
    settings: Settings = current_app.extensions["benchwarden.settings"]
    return settings


def _json(model: BaseModel) -> Response:
    return current_app.response_class(model.model_dump_json(), mimetype="application/json")


def _project(name: str, scope: str) -> tuple[Session, Project, ApiToken | None]:
    session = request_session()
    found = project_or_404(session, name)
    return session, found, authorize(session, _settings(), found, scope)


def alert_out(project: Project, alert: alert_feed.FeedAlert) -> wire.AlertOut:
    url = f"{_settings().base_url}/p/{quote(project.name, safe='')}/alert/{alert.id}"
    return wire.AlertOut(
        id=alert.id,
        summary_id=alert.summary_id,
        url=url,
        kind="regression" if alert.is_regression else "improvement",
        status=alert.status,
        confirmation=alert.confirmation,
        active=alert.active,
        series=SeriesOut.model_validate(alert.series, from_attributes=True),
        last_good_commit=alert.last_good_commit,
        first_commit=alert.first_commit,
        change=alert.change,
        end_commit=alert.end_commit,
        culprit=alert.culprit,
        before=alert.before,
        after=alert.after,
        rel_change=alert.rel_change,
        pvalue=alert.pvalue,
        detector_version=alert.detector_version,
        created_at=alert.created_at.isoformat(),
        updated_at=alert.updated_at.isoformat(),
    )


def _bad(name: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"{name} {message}")


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise _bad(name, f"must be one of {', '.join(allowed)}")
    return value


def _commit(session: Session, project: Project, name: str) -> int | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    if not SHA_PREFIX.fullmatch(raw):
        raise _bad(name, "must be a commit sha or its first 4 to 40 hex digits")
    found = alert_feed.find_commit(session, project.id, raw)
    if found is None:
        raise _bad(name, f"names no single commit of {project.name!r}")
    return found


def _filters(session: Session, project: Project) -> alert_feed.AlertFilters:
    kind = _choice("kind", KINDS)
    return alert_feed.AlertFilters(
        status=_choice("status", TRIAGE_STATES),
        regression=None if kind is None else kind == "regression",
        machine=request.args.get("machine") or None,
        branch=request.args.get("branch") or None,
        after_commit=_commit(session, project, "after_commit"),
        until_commit=_commit(session, project, "until_commit"),
    )


def list_project_alerts(project: str) -> Response:
    session, found, _ = _project(project, "read")
    limit = whole_number(request.args.get("limit", "100"), high=MAX_JOB_LIMIT)
    if limit is None:
        raise _bad("limit", f"must be a whole number from 1 to {MAX_JOB_LIMIT}")
    before_id = None
    if "before_id" in request.args:
        before_id = whole_number(request.args["before_id"])
        if before_id is None:
            raise _bad("before_id", "must be a whole number from 1 to 2**63-1")
    filters = _filters(session, found)
    # One more than asked tells whether a next page exists without counting.
    rows = alert_feed.list_alerts(session, found.id, filters, limit=limit + 1, before_id=before_id)
    page = rows[:limit]
    next_before = page[-1].id if len(rows) > limit else None
    body = wire.AlertList(alerts=[alert_out(found, a) for a in page], next_before_id=next_before)
    return _json(body)


def _alert(session: Session, project: Project, alert_id: int) -> alert_feed.FeedAlert:
    alert = alert_feed.find_alert(session, project.id, alert_id)
    if alert is None:
        raise ApiError(404, "alert_not_found", f"alert {alert_id} not found in {project.name!r}")
    return alert


def get_alert(project: str, alert_id: int) -> Response:
    session, found, _ = _project(project, "read")
    return _json(alert_out(found, _alert(session, found, alert_id)))


def _summary_not_found(project: Project, summary_id: int) -> ApiError:
    message = f"alert summary {summary_id} not found in {project.name!r}"
    return ApiError(404, "summary_not_found", message)


def _summary_detail(session: Session, project: Project, summary_id: int) -> wire.SummaryDetail:
    found = alert_feed.find_summary(session, project.id, summary_id)
    if found is None:
        raise _summary_not_found(project, summary_id)
    summary = found.summary
    out = wire.SummaryOut(
        id=summary.id,
        status=summary.status,
        issue_url=summary.issue_url,
        note=summary.note,
        branch=found.branch,
        last_good_commit=found.last_good_commit,
        first_commit=found.first_commit,
        created_at=summary.created_at.isoformat(),
        updated_at=summary.updated_at.isoformat(),
    )
    alerts = [alert_out(project, a) for a in alert_feed.summary_alerts(session, summary.id)]
    return wire.SummaryDetail(summary=out, alerts=alerts)


def get_summary(project: str, summary_id: int) -> Response:
    session, found, _ = _project(project, "read")
    return _json(_summary_detail(session, found, summary_id))


def _body(model: type[Body]) -> Body:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "send a JSON object (Content-Type: application/json)")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(
            422, "invalid_triage", "the triage is invalid", validation_details(exc)
        ) from None


def _actor(token: ApiToken | None) -> str:
    assert token is not None  # authorize() never lets a write through without a token
    token.last_used_at = utcnow()
    return f"token:{token.prefix}"


def patch_alert(project: str, alert_id: int) -> Response:
    session, found, token = _project(project, "write")
    _alert(session, found, alert_id)  # 404 unless it is this project's
    body = _body(wire.AlertTriageIn)
    alert = session.get(Alert, alert_id)
    assert alert is not None
    try:
        triage_alert(session, _actor(token), alert, body.status)
    except TriageError as exc:
        raise ApiError(422, "invalid_triage", str(exc)) from None
    session.commit()
    return _json(alert_out(found, _alert(session, found, alert_id)))


def patch_summary(project: str, summary_id: int) -> Response:
    session, found, token = _project(project, "write")
    summary = session.get(AlertSummary, summary_id)
    if summary is None or summary.project_id != found.id:
        raise _summary_not_found(found, summary_id)
    body = _body(wire.SummaryTriageIn)
    given = body.model_fields_set
    if not given:
        raise ApiError(422, "invalid_triage", "send at least one of status, issue_url, note")
    if "status" in given and body.status is None:
        raise ApiError(422, "invalid_triage", f"status must be one of {', '.join(TRIAGE_STATES)}")
    try:
        triage_summary(
            session,
            _actor(token),
            summary,
            status=body.status,
            # Absent leaves a field; null clears it, as an empty string does.
            issue_url=(body.issue_url or "") if "issue_url" in given else None,
            note=(body.note or "") if "note" in given else None,
        )
    except TriageError as exc:
        raise ApiError(422, "invalid_triage", str(exc)) from None
    session.commit()
    return _json(_summary_detail(session, found, summary_id))


_P = "/projects/<project>"
LIST_QUERY = (
    "status",
    "kind",
    "machine",
    "branch",
    "after_commit",
    "until_commit",
    "limit",
    "before_id",
)
# (method, path, handler, summary, response, status, auth, query, body)
ALERT_ROUTES: tuple[tuple[Any, ...], ...] = (
    (
        "GET",
        f"{_P}/alerts",
        list_project_alerts,
        "The project's alerts, newest first, filtered and paged",
        wire.AlertList,
        200,
        "read",
        LIST_QUERY,
    ),
    ("GET", f"{_P}/alerts/<int:alert_id>", get_alert, "One alert with its series", wire.AlertOut),
    (
        "PATCH",
        f"{_P}/alerts/<int:alert_id>",
        patch_alert,
        "Triage one alert (its status)",
        wire.AlertOut,
        200,
        "write",
        (),
        "alert_triage",
    ),
    (
        "GET",
        f"{_P}/summaries/<int:summary_id>",
        get_summary,
        "One alert summary (a commit range) with its alerts",
        wire.SummaryDetail,
    ),
    (
        "PATCH",
        f"{_P}/summaries/<int:summary_id>",
        patch_summary,
        "Triage an alert summary: status (its alerts follow), issue link, note",
        wire.SummaryDetail,
        200,
        "write",
        (),
        "summary_triage",
    ),
)
