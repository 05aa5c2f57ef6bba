"""One alert's page: the change zoomed, its culprit, its confirmation and bisection, its triage."""

from __future__ import annotations

from flask import abort, render_template

from web.db import request_session
from web.models import TRIAGE_STATES, AlertSummary
from web.queries import alert_board, alert_detail
from web.queries.around import points_around
from web.services.alert_summaries import closed_reason, members
from web.services.profiles import profile_retention
from web.views.access import readable_project
from web.views.charts import zoom_plot
from web.views.format import commit_url

ZOOM_BEFORE, ZOOM_AFTER = 40, 20  # commits shown either side of the change


def alert_page(project: str, alert_id: int) -> str:
    found = readable_project(project)
    session = request_session()
    alert = alert_detail.find_alert(session, found.id, alert_id)
    if alert is None:
        abort(404, description="No such alert in this project.")
    summary = session.get(AlertSummary, alert.summary_id)
    assert summary is not None
    group = members(alert_board.culprit_neighbours(session, summary), summary.id) or [summary]
    points = (
        points_around(
            session, alert.series_id, alert.position, before=ZOOM_BEFORE, after=ZOOM_AFTER
        )
        if alert.position is not None
        else []
    )
    commits = alert_board.commits(
        session,
        [
            alert.first_commit_id,
            alert.last_good_commit_id,
            alert.culprit_commit_id,
            *(p.commit_id for p in points),
        ],
    )
    rerun = alert_board.reruns(session, [alert.id]).get(alert.id)
    suspects = [i for i in (alert.culprit_commit_id, alert.first_commit_id) if i is not None]
    return render_template(
        "dash/alert.html",
        project=found,
        alert=alert,
        summary=summary,
        group=group,
        commits=commits,
        plot=zoom_plot(
            [(p.position, p.value, p.commit_id) for p in points],
            alert.position or 0,
            (alert.before, alert.after),
        ),
        closed=closed_reason(alert, rerun),
        environment=alert_board.environment_changes(session, [alert.id]).get(alert.id),
        confirmations=alert_detail.confirmations(session, alert),
        bisections=alert_detail.bisections(session, alert),
        history=alert_detail.triage_history(session, alert.id, [s.id for s in group]),
        pr=alert_detail.pr_comment(session, found.id, suspects),
        profile=alert_detail.profile_change(session, alert),
        profile_commits=profile_retention(found),
        states=TRIAGE_STATES,
        commit_url=commit_url,
    )
