"""Read side of the backtest: a project's series and their stored points, chunk by chunk.

A replay reads ``series_point`` only (one point per commit, kept equal to the
results by `web.services.point_state`), never the raw results, so its cost is
the points, not the samples behind them.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Series
from web.queries.points import PointColumns, stored_columns

# Series per read: bounds the memory of a replay (1,000 series x 1,000 points ~ 24 MB).
CHUNK = 1000


def project_series_ids(session: Session, project_id: int) -> list[int]:
    """Every series of the project, in id order."""
    query = select(Series.id).where(Series.project_id == project_id).order_by(Series.id)
    return [int(series_id) for series_id in session.scalars(query)]


def point_chunks(
    session: Session, series_ids: list[int], *, chunk: int = CHUNK
) -> Iterator[tuple[list[int], dict[int, PointColumns]]]:
    """(series ids, their stored points as arrays) per ``chunk`` series; a series without
    stored points is absent from the mapping."""
    for start in range(0, len(series_ids), chunk):
        ids = series_ids[start : start + chunk]
        yield ids, stored_columns(session, ids)
