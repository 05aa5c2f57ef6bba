"""The plot's data: one series (merged history included), downsampled for the overview.

``GET /p/<project>/series/<id>/points.json?start=&end=&max=`` answers the index
range ``[start, end)`` of the full series; when it holds more than ``max``
points (default 1,500) it is downsampled on the server, keeping extremes,
change points and annotated commits (see ``web.queries.downsample``). Zooming
in asks for a narrower range and so gets full resolution.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request
from werkzeug.wrappers import Response

from web.db import request_session
from web.models import Benchmark, Branch, Machine, Measure, Series
from web.queries.downsample import select_indices
from web.queries.trend import (
    alert_marks,
    annotation_marks,
    commit_facts,
    point_columns,
    sibling_series_ids,
)
from web.views.access import readable_project

DEFAULT_MAX = 1500
MAX_MAX = 20000
MESSAGE_CHARS = 200


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
    series = session.get(Series, series_id)
    if series is None or series.project_id != found.id:
        abort(404, description="No such series in this project.")
    ids = sibling_series_ids(session, series)
    columns = point_columns(session, ids)
    total = len(columns["value"])
    start = _int_arg("start", 0, 0, total)
    end = _int_arg("end", total, 0, total)
    budget = _int_arg("max", DEFAULT_MAX, 10, MAX_MAX)
    index_of = {commit_id: i for i, commit_id in enumerate(columns["commit_id"])}
    alerts = [
        {
            "i": index_of[a.commit_id],
            "summary_id": a.summary_id,
            "status": a.status,
            "is_regression": a.is_regression,
            "rel_change": a.rel_change,
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
    keep = [int(str(m["i"])) for m in (*alerts, *notes)]
    chosen = select_indices(columns["value"], start, end, budget, keep)
    body = {
        "series": _describe(session, series),
        "total": total,
        "start": start,
        "end": end,
        "full_resolution": len(chosen) == max(0, end - start),
        "points": _pick(
            columns, chosen, commit_facts(session, [columns["commit_id"][i] for i in chosen])
        ),
        "alerts": alerts,
        "annotations": notes,
    }
    return current_app.response_class(current_app.json.dumps(body), mimetype="application/json")


def _pick(
    columns: dict[str, list[Any]], chosen: list[int], facts: dict[int, tuple[Any, ...]]
) -> dict[str, list[Any]]:
    value, stddev = columns["value"], columns["stddev"]
    low, high = columns["min"], columns["max"]
    lo, hi = [], []
    for i in chosen:
        if stddev[i] is not None:
            lo.append(value[i] - stddev[i])
            hi.append(value[i] + stddev[i])
        else:
            lo.append(low[i] if low[i] is not None else value[i])
            hi.append(high[i] if high[i] is not None else value[i])
    commit = [facts[columns["commit_id"][i]] for i in chosen]
    return {
        "i": chosen,
        "value": [value[i] for i in chosen],
        "lo": lo,
        "hi": hi,
        "sha": [c[0] for c in commit],
        "time": [c[1] for c in commit],
        "author": [c[2] for c in commit],
        "message": [(c[3] or "")[:MESSAGE_CHARS] for c in commit],
        "run_id": [columns["run_id"][i] for i in chosen],
    }


def _describe(session, series: Series) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    bench = session.get(Benchmark, series.benchmark_id)
    measure = session.get(Measure, series.measure_id)
    return {
        "id": series.id,
        "benchmark": bench.display_name or bench.name,
        "measure": measure.name,
        "unit": measure.unit,
        "direction": measure.direction,
        "machine": session.get(Machine, series.machine_id).name,
        "branch": session.get(Branch, series.branch_id).name,
        "noise": series.noise,
    }
