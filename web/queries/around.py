"""Per-commit points of a series around one position: what an alert's sparkline and zoom show.

One point per commit (the median of its ok results, as everywhere), so a commit
re-run by confirmation or bisection stays one point. Each window costs index
range scans on ``ix_result_series_position`` bounded by its width, never the
series' history.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Result
from web.queries.points import PointRow, merge_results


def points_around(
    session: Session, series_id: int, position: int, *, before: int = 20, after: int = 12
) -> list[PointRow]:
    """Up to ``before`` points before ``position`` and ``after`` from it on, oldest first."""
    ok = (Result.series_id == series_id, Result.status == "ok", Result.value.is_not(None))
    earlier = (
        select(Result.position)
        .where(*ok, Result.position < position)
        .group_by(Result.position)
        .order_by(Result.position.desc())
        .limit(before)
    )
    later = (
        select(Result.position)
        .where(*ok, Result.position >= position)
        .group_by(Result.position)
        .order_by(Result.position)
        .limit(after)
    )
    positions = [*session.scalars(earlier), *session.scalars(later)]
    if not positions:
        return []
    rows = session.execute(
        select(Result.series_id, Result.position, Result.commit_id, Result.value)
        .where(*ok, Result.position.in_(positions))
        .order_by(Result.position, Result.id)
    )
    return merge_results(rows).get(series_id, [])


def alert_sparks(
    session: Session, alerts: list[tuple[int, int, int | None]], *, limit: int = 100
) -> dict[int, tuple[list[float], int]]:
    """alert id -> (values around its change, index of the first changed point).

    ``alerts`` holds (alert id, series id, position of its first commit); only the
    first ``limit`` get a line, so a page of many alerts stays bounded.
    """
    out: dict[int, tuple[list[float], int]] = {}
    for alert_id, series_id, position in alerts[:limit]:
        if position is None:
            continue
        points = points_around(session, series_id, position)
        if points:
            first = next((i for i, p in enumerate(points) if p.position >= position), len(points))
            out[alert_id] = ([p.value for p in points], first)
    return out
