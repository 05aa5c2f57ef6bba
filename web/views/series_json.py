"""The plot's data: one series (merged history included), downsampled for the overview.

``GET /p/<project>/series/<id>/points.json?start=&end=&max=`` answers the index
range ``[start, end)`` of the full series; when it holds more than ``max``
points (default 1,500) it is downsampled on the server, keeping extremes,
change points and annotated commits (see ``web.queries.downsample``). Zooming
in asks for a narrower range and so gets full resolution.

The points come from a per-process cache revalidated by the series' version
(``web.views.points_cache``); the names, alerts and annotations are read fresh
each time because they change without new results (rename, triage, notes).
The body is assembled from encoded parts, so a warm answer is never re-encoded.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import abort, current_app, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from web.db import request_session
from web.queries.trend import (
    alert_marks,
    annotation_marks,
    series_header,
    series_version,
    sibling_series_ids,
)
from web.views.access import readable_project
from web.views.points_cache import PointsCache

DEFAULT_MAX = 1500
MAX_MAX = 20000
CACHE_KEY = "benchwarden.dash_points_cache"


def points_cache() -> PointsCache:
    """This app's cache, created on first use (one per process and app)."""
    cache: PointsCache = current_app.extensions.setdefault(CACHE_KEY, PointsCache())
    return cache


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    try:
        return min(high, max(low, int(raw)))
    except ValueError:
        abort(400, description=f"{name} must be a whole number")


def series_points(project: str, series_id: int) -> Response:
    found = readable_project(project)
    session = request_session()
    header = series_header(session, series_id)
    if header is None or header.project_id != found.id:
        abort(404, description="No such series in this project.")
    ids = sibling_series_ids(session, header)
    cache = points_cache()
    columns = cache.columns(session, ids, series_version(session, ids))
    total = columns.total
    start = _int_arg("start", 0, 0, total)
    end = _int_arg("end", total, 0, total)
    budget = _int_arg("max", DEFAULT_MAX, 10, MAX_MAX)
    alerts, notes = _marks(session, ids, columns.index_of)
    ends = (int(a["end_i"]) for a in alerts if a["end_i"] is not None)
    keep = sorted({*(int(m["i"]) for m in (*alerts, *notes)), *ends})
    cuts = tuple(sorted({int(a["i"]) for a in alerts}))
    points, full = cache.points(session, columns, ids, (start, end, budget), keep, cuts)
    head = orjson.dumps(
        {
            "series": header.describe(),
            "total": total,
            "start": start,
            "end": end,
            "full_resolution": full,
            "alerts": alerts,
            "annotations": notes,
        }
    )
    body = head[:-1] + b',"points":' + points + b"}"
    response = current_app.response_class(body, mimetype="application/json")
    # Revalidated on every use: a new result must show at once.
    response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)


def _marks(
    session: Session, ids: list[int], index_of: dict[int, int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Alert and annotation markers placed at their point's index (off-series ones dropped)."""
    alerts = [
        {
            "i": index_of[a.commit_id],
            "summary_id": a.summary_id,
            "status": a.status,
            "is_regression": a.is_regression,
            "rel_change": a.rel_change,
            "before": a.before,
            "after": a.after,
            "kind": a.kind,
            # a drift's last commit (its range is i..end_i); None for a step
            "end_i": index_of.get(a.end_commit_id) if a.end_commit_id is not None else None,
        }
        for a in alert_marks(session, ids)
        if a.commit_id in index_of
    ]
    notes = [
        {
            "i": index_of[n.commit_id],
            "sha": n.sha,
            "kind": n.kind,
            "note": n.note,
            "author": n.author,
        }
        for n in annotation_marks(session, ids)
        if n.commit_id in index_of
    ]
    return alerts, notes
