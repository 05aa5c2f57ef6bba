"""A series' points as table rows, newest first: the plot's data for readers without JavaScript.

Reads one page with ``LIMIT``/``OFFSET`` on the (series, position) index, so
the table costs the same for 30 points or 10,000; commit facts are joined for
the page's rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from web.models import Commit, Result

MESSAGE_CHARS = 200


@dataclass(frozen=True)
class PointRow:
    """One point; ``index`` is its x on the plot (0 = oldest point of the series)."""

    index: int
    commit_id: int
    sha: str
    committed_at: datetime | None
    author: str | None
    message: str
    value: float
    stddev: float | None
    low: float | None
    high: float | None
    run_id: int


def _ok(series_ids: list[int]):  # type: ignore[no-untyped-def]
    return (
        Result.series_id.in_(series_ids),
        Result.status == "ok",
        Result.value.is_not(None),
    )


def count_points(session: Session, series_ids: list[int]) -> int:
    """How many points the plot has (the same filter as ``trend.point_columns``)."""
    return int(session.scalar(select(func.count(Result.id)).where(*_ok(series_ids))) or 0)


def recent_points(
    session: Session, series_ids: list[int], total: int, offset: int, limit: int
) -> list[PointRow]:
    """Rows ``offset`` .. ``offset + limit`` counted back from the newest point."""
    rows = session.execute(
        select(
            Result.commit_id,
            Commit.sha,
            Commit.committed_at,
            Commit.author,
            Commit.message,
            Result.value,
            Result.stddev,
            Result.min,
            Result.max,
            Result.run_id,
        )
        .join(Commit, Commit.id == Result.commit_id)
        .where(*_ok(series_ids))
        .order_by(Result.position.desc(), Result.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [
        PointRow(total - 1 - offset - n, cid, sha, when, author, _first_line(msg), *numbers)
        for n, (cid, sha, when, author, msg, *numbers) in enumerate(rows)
    ]


def _first_line(message: str | None) -> str:
    return (message or "").split("\n", 1)[0][:MESSAGE_CHARS]
