"""One point per commit for every reader: the runs of a commit are samples of its point.

A series has one point per commit (DESIGN.md, data model). Re-runs, confirmation,
bisection and A/B runs of a commit add results at the same position; readers
(the plot, the API, the points table, "Last" and sparklines) fold them into one
point whose value is the detector's: the median of the commit's ok results,
computed by :func:`web.queries.points.merge_results`, the function that fills
``series_point``. Computed from the results rather than read from
``series_point`` because that table is filled by detection after ingest, and a
reader must show a new run at once (the caches key on result ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from web.queries.points import merge_results


@dataclass
class CommitPoint:
    """The point of one commit: its value, spread band and every run measured there.

    ``runs``/``run_values`` list the commit's runs in the order they were stored;
    a failed run's value is None. ``value`` is None when no run was ok.
    """

    position: int
    commit_id: int
    value: float | None = None
    status: str = "ok"
    stddev: float | None = None
    low: float | None = None
    high: float | None = None
    runs: list[int] = field(default_factory=list)
    run_values: list[float | None] = field(default_factory=list)

    @property
    def run_id(self) -> int:
        """The first run of the commit (links that take one run)."""
        return self.runs[0]

    @property
    def count(self) -> int:
        return len(self.runs)


Spread = tuple[float | None, float | None, float | None]  # a run's (stddev, min, max)

# Columns every caller reads, in this order, ordered by position then result id.
ROW_COLUMNS = ("position", "commit_id", "run_id", "value", "stddev", "min", "max", "status")


def fold_rows(rows: Iterable[Sequence[Any]]) -> list[CommitPoint]:
    """Rows of ``ROW_COLUMNS`` ordered by (position, result id) -> one point per position."""
    points: list[CommitPoint] = []
    ok_rows: list[tuple[int, int, int, float]] = []
    extras: list[list[Spread]] = []
    for position, commit_id, run_id, value, stddev, low, high, status in rows:
        if not points or points[-1].position != position:
            points.append(CommitPoint(int(position), int(commit_id), status=status))
            extras.append([])
        point = points[-1]
        ok = status == "ok" and value is not None
        point.runs.append(int(run_id))
        point.run_values.append(float(value) if ok else None)
        if ok:
            ok_rows.append((0, int(position), int(commit_id), float(value)))
            extras[-1].append((stddev, low, high))
    medians = {p.position: p for p in merge_results(ok_rows).get(0, [])}
    for point, spread in zip(points, extras, strict=True):
        merged = medians.get(point.position)
        if merged is not None:
            point.value, point.status = merged.value, "ok"
            _spread(point, spread)
    return points


def _spread(point: CommitPoint, spread: list[Spread]) -> None:
    """One run: its own stddev, min and max. Several: the outermost edges of their bands."""
    if len(spread) == 1:
        point.stddev, point.low, point.high = spread[0]
        return
    values = [v for v in point.run_values if v is not None]
    edges = [_edges(v, *run) for v, run in zip(values, spread, strict=True)]
    point.stddev = None
    point.low, point.high = min(e[0] for e in edges), max(e[1] for e in edges)


def _edges(
    value: float, stddev: float | None, low: float | None, high: float | None
) -> tuple[float, float]:
    if stddev is not None:
        return value - stddev, value + stddev
    return (low if low is not None else value), (high if high is not None else value)
