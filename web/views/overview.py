"""A project's landing page: open regressions, improvements, noisy benchmarks, recent runs.

The state of a project should read in five seconds: what regressed (largest
first, each with its line around the change), what improved, which
benchmarks cannot be trusted right now, and whether the machines are still
running. Old links to the benchmarks list (``/p/<project>/?q=…``) move on.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.db import request_session
from web.queries import overview
from web.queries.around import alert_sparks
from web.queries.listing import sparklines
from web.views.access import readable_project
from web.views.charts import spark

LIST_ARGS = {"q", "suite", "machine", "branch", "measure", "page"}


def overview_page(project: str) -> str | Response:
    found = readable_project(project)
    if LIST_ARGS & set(request.args):
        target = url_for("dash.benchmarks", project=found.name)
        return redirect(f"{target}?{urlencode(list(request.args.items(multi=True)))}", 301)
    session = request_session()
    regressions = overview.open_regressions(session, found.id)
    improvements = overview.recent_improvements(session, found.id)
    noisy = overview.noisy_series(session, found.id)
    shown = [(a.id, a.series_id, a.position) for a in [*regressions, *improvements]]
    around = alert_sparks(session, shown)
    recent = sparklines(session, [n.series_id for n in noisy])
    return render_template(
        "dash/overview.html",
        project=found,
        regressions=regressions,
        open_count=overview.count_open_regressions(session, found.id),
        improvements=improvements,
        noisy=noisy,
        noisy_count=overview.count_noisy(session, found.id),
        machines=overview.runs_per_machine(session, found.id),
        sparks={i: spark(values, first) for i, (values, first) in around.items()},
        noise_lines={n.series_id: spark(recent.get(n.series_id, [])) for n in noisy},
    )
