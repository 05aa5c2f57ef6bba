"""The backtest page: the table for the current detector settings and a candidate grid,
and applying a chosen row to the project (maintainers; session + CSRF, audited).

Reading it replays detection over every stored series (`web.services.backtest`);
whoever may read the project may read the table, as on the API's
``GET /projects/<p>/backtest``. The navigation links it for maintainers only,
who alone may apply a row. Applying goes through `web.services.settings_change`,
the path of ``benchwarden project set``: validated, one ``project.settings``
audit entry, nothing changed on error.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.db import request_session
from web.models.project_settings import ProjectSettingsError
from web.services.backtest import (
    COLUMNS,
    DETECTOR_KEYS,
    backtest,
    candidates,
    cells,
    detector_assignments,
)
from web.services.settings_change import change_settings
from web.views.access import readable_project, writer

MAX_FIELD = 1000


def backtest_page(project: str) -> tuple[str, int]:
    found = readable_project(project)
    session = request_session()
    set_text = request.args.get("set", "")[:MAX_FIELD]
    grid_text = request.args.get("grid", "")[:MAX_FIELD]
    error = None
    try:
        settings = candidates(found, set_text.split(), grid_text.split())
    except ProjectSettingsError as exc:
        error = str(exc)
        settings = candidates(found)
    rows = backtest(session, found, settings)
    session.rollback()  # a replay writes nothing
    return render_template(
        "dash/backtest.html",
        project=found,
        rows=[(row, cells(row)) for row in rows],
        columns=COLUMNS,
        keys=DETECTOR_KEYS,
        set_text=set_text,
        grid_text=grid_text,
        error=error,
    ), (400 if error else 200)


def apply_setting(project: str) -> Response:
    found = readable_project(project)
    actor = writer(found)
    session = request_session()
    try:
        assignments = detector_assignments(request.form.getlist("assignment"))
        if not assignments:
            raise ProjectSettingsError("choose a candidate row to apply")
        change_settings(session, actor.name, found, assignments, source="backtest")
    except ProjectSettingsError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("dash.backtest", project=found.name), 303)
    session.commit()
    flash(f"Applied {', '.join(assignments)} to {found.name}.", "ok")
    again = url_for(
        "dash.backtest",
        project=found.name,
        set=request.form.get("set", "")[:MAX_FIELD] or None,
        grid=request.form.get("grid", "")[:MAX_FIELD] or None,
    )
    return redirect(again, 303)
