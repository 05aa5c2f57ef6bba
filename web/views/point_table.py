"""Points as tables: the trend's data readable without JavaScript (issue 5, item 7).

The trend page shows each series' latest points under its plot; the series'
points page pages through all of them, newest first, with the same run and
commit links the plot's click panel offers. One row per commit: its runs
(re-runs, confirmation, bisection) are listed in the row, with their kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template
from sqlalchemy.orm import Session

from web.db import request_session
from web.queries.point_table import PointRow, count_points, recent_points
from web.queries.run_kinds import run_kinds
from web.queries.trend import alert_marks, annotation_marks, series_header, sibling_series_ids
from web.views.access import readable_project
from web.views.format import commit_url, format_pct
from web.views.paging import pager

RECENT = 20
PAGE = 100


@dataclass(frozen=True)
class PointTable:
    """One page of a series' points, newest first, with marker labels by commit id."""

    series_id: int
    total: int
    offset: int
    rows: list[PointRow]
    marks: dict[int, list[str]]
    kinds: dict[int, str]  # run id -> why it ran (ci, schedule, confirm, bisect, ab)


def point_table(
    session: Session, series_ids: list[int], offset: int, limit: int, total: int | None = None
) -> PointTable:
    """``limit`` points from ``offset``, newest first; ``total`` when the caller counted them."""
    if total is None:
        total = count_points(session, series_ids)
    rows = recent_points(session, series_ids, total, offset, limit)
    kinds = run_kinds(session, [run for row in rows for run in row.runs])
    return PointTable(series_ids[0], total, offset, rows, _marks(session, series_ids), kinds)


def _marks(session: Session, series_ids: list[int]) -> dict[int, list[str]]:
    """Text for the change points and annotations, so the table shows what the markers show."""
    marks: dict[int, list[str]] = {}
    for a in alert_marks(session, series_ids):
        kind = "regression" if a.is_regression else "improvement"
        label = f"{kind} {format_pct(a.rel_change)} ({a.status})"
        marks.setdefault(a.commit_id, []).append(label)
    for n in annotation_marks(session, series_ids):
        label = n.kind.replace("_", " ") + (f": {n.note}" if n.note else "")
        marks.setdefault(n.commit_id, []).append(label)
    return marks


def latest_table(session: Session, series_ids: list[int]) -> PointTable:
    """The trend page's short table of the newest points of one plotted series."""
    return point_table(session, series_ids, 0, RECENT)


def series_table(project: str, series_id: int) -> str:
    """``/p/<project>/series/<id>/points?page=N``: all points, ``PAGE`` per page."""
    found = readable_project(project)
    session = request_session()
    header = series_header(session, series_id)
    if header is None or header.project_id != found.id:
        abort(404, description="No such series in this project.")
    ids = sibling_series_ids(session, header)
    # ids[0] is not necessarily this series: keep the requested one as the table's id.
    ids = [series_id, *(i for i in ids if i != series_id)]
    total = count_points(session, ids)
    paging = pager(total, PAGE, "points in this series")
    return render_template(
        "dash/points.html",
        project=found,
        header=header,
        table=point_table(session, ids, paging.offset, PAGE, total),
        page=paging.page,
        pages=paging.pages,
        commit_url=commit_url,
    )
