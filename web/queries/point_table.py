"""A series' points as table rows, newest first: the plot's data for readers without JavaScript.

One row per commit (its runs listed in the row). Reads one page of positions
with ``LIMIT``/``OFFSET`` on the (series, position) index, so the table costs
the same for 30 points or 10,000; commit facts are read for the page's rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from web.models import Commit, Result
from web.queries.commit_points import ROW_COLUMNS, CommitPoint, fold_rows
from web.queries.spread import CommitSpread, commit_spread, run_spreads

MESSAGE_CHARS = 200


@dataclass(frozen=True)
class PointRow:
    """One commit's point; ``index`` is its x on the plot (0 = oldest point of the series).

    ``runs`` are every run of the commit (re-runs, confirmation, bisection):
    samples of this one point, listed under it. ``spread`` is the band the
    plot draws (``web.queries.spread``), so the table and the plot agree.
    """

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
    runs: list[int]
    spread: CommitSpread | None = None

    @property
    def run_id(self) -> int:
        return self.runs[0]


def _ok(series_ids: list[int]):  # type: ignore[no-untyped-def]
    return (
        Result.series_id.in_(series_ids),
        Result.status == "ok",
        Result.value.is_not(None),
    )


def count_points(session: Session, series_ids: list[int]) -> int:
    """How many points the plot has: commits (positions) with an ok result."""
    positions = select(Result.position).where(*_ok(series_ids)).distinct().subquery()
    return int(session.scalar(select(func.count()).select_from(positions)) or 0)


def recent_points(
    session: Session, series_ids: list[int], total: int, offset: int, limit: int
) -> list[PointRow]:
    """Points ``offset`` .. ``offset + limit`` counted back from the newest one.

    Pages over distinct positions, then reads the results of the page's
    positions only, so a commit's runs never spill over two pages.
    """
    positions = list(
        session.scalars(
            select(Result.position)
            .where(*_ok(series_ids))
            .distinct()
            .order_by(Result.position.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    if not positions:
        return []
    rows = session.execute(
        select(*(getattr(Result, name) for name in ROW_COLUMNS))
        .where(*_ok(series_ids), Result.position.in_(positions))
        .order_by(Result.position, Result.id)
    )
    points = fold_rows(rows)
    facts = {
        cid: rest
        for cid, *rest in session.execute(
            select(Commit.id, Commit.sha, Commit.committed_at, Commit.author, Commit.message).where(
                Commit.id.in_({p.commit_id for p in points})
            )
        )
    }
    spreads = run_spreads(session, series_ids, positions)
    out = []
    for n, p in enumerate(reversed(points)):
        sha, when, author, message = facts[p.commit_id]
        index = total - 1 - offset - n
        assert p.value is not None  # ok results only
        text = _first_line(message)
        runs = spreads.get(p.position)
        spread = commit_spread(p.value, runs) if runs else None
        row = PointRow(index, p.commit_id, sha, when, author, text, p.value, *_band(p), spread)
        out.append(row)
    return out


def _band(p: CommitPoint) -> tuple[float | None, float | None, float | None, list[int]]:
    return p.stddev, p.low, p.high, p.runs


def _first_line(message: str | None) -> str:
    return (message or "").split("\n", 1)[0][:MESSAGE_CHARS]
