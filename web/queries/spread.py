"""The plot's spread band and noisy-machine flags, one per commit point.

Why not ±stddev: one slow process inflates a run's standard deviation, and the
demo's band swallowed a 15 % step and went below zero (issue 16). The band is
the interquartile range instead, which a single outlier barely moves:

- a run with quartiles (``q1``/``q3`` from its parser) gives them;
- a run with raw samples gives their quartiles;
- a run with a standard deviation only gives value ± 0.6745 σ, the interquartile
  range of a normal distribution with that σ;
- otherwise the run's value itself.

A commit measured several times spans the median of its runs' ranges and the
quartiles of their values, so disagreeing re-runs widen it. For a positive
measure (every value ≥ 0) the band is clipped at zero.

A run is *noisy* when its pre-flight checks reported problems
(``machine_snapshot.extra.preflight.problems``, see ``runner/preflight.py``).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, case, select, true
from sqlalchemy.orm import Session

from web.models import Result, Run
from web.queries.commit_points import ROW_COLUMNS, CommitPoint, fold_rows
from web.queries.noisy_runs import is_noisy
from web.queries.trend import raw_rows

NORMAL_IQR_HALF = 0.6745  # a standard normal's third quartile


@dataclass(frozen=True, slots=True)
class RunSpread:
    """One ok run of a commit: its value, quartiles, stddev and samples (any may be None)."""

    run_id: int
    value: float
    q1: float | None
    q3: float | None
    stddev: float | None
    samples: Sequence[float] | None
    noisy: bool

    def quartiles(self) -> tuple[float, float]:
        if self.q1 is not None and self.q3 is not None:
            return min(self.q1, self.value), max(self.q3, self.value)
        if self.samples is not None and len(self.samples) >= 2:
            return quartiles(self.samples)
        if self.stddev is not None:
            half = NORMAL_IQR_HALF * self.stddev
            return self.value - half, self.value + half
        return self.value, self.value


@dataclass(frozen=True)
class CommitSpread:
    """The band of one commit point and whether every one of its ok runs was noisy."""

    lo: float
    hi: float
    noisy: bool


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """First and third quartile, linear interpolation (numpy's default, without numpy's cost)."""
    ordered = sorted(values)
    return _at(ordered, 0.25), _at(ordered, 0.75)


def _at(ordered: list[float], q: float) -> float:
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def commit_spread(value: float, runs: Sequence[RunSpread]) -> CommitSpread:
    """The band around ``value`` (the commit's median) from its ok runs."""
    if len(runs) == 1:  # nearly every commit: no medians to take
        run = runs[0]
        lo, hi = run.quartiles()
        positive, noisy = run.value >= 0, run.noisy
    else:
        edges = [r.quartiles() for r in runs]
        q1, q3 = quartiles([r.value for r in runs])
        lo = min(statistics.median([e[0] for e in edges]), q1)
        hi = max(statistics.median([e[1] for e in edges]), q3)
        positive, noisy = all(r.value >= 0 for r in runs), all(r.noisy for r in runs)
    lo, hi = min(lo, value), max(hi, value)
    return CommitSpread(max(lo, 0.0) if positive else lo, hi, noisy)


def samples_of(raw: Any) -> Sequence[float] | None:
    """A result's ``samples`` column as floats (SQLite hands JSON over as text)."""
    if raw is None:
        return None
    loaded = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
    return [float(v) for v in loaded] if isinstance(loaded, list) else None


def plot_points(
    session: Session, series_ids: list[int]
) -> tuple[list[CommitPoint], dict[int, list[RunSpread]]]:
    """The series' points (as ``web.queries.trend.commit_points``) and their runs' spreads.

    One pass over the results for both, from the driver's cursor: this is the
    cold path of the plot, and a second scan (or SQLAlchemy's row processing) of
    10,000 rows cost more than the first. Noisy runs are few and read apart.
    """
    query = (
        select(*(getattr(Result, name) for name in ROW_COLUMNS), *_spread_columns())
        .where(*_ok(series_ids))
        .order_by(Result.position, Result.id)
    )
    rows = raw_rows(session, query)
    noisy = noisy_runs(session, series_ids)
    width = len(ROW_COLUMNS)
    points = fold_rows(row[:width] for row in rows)
    spreads: dict[int, list[RunSpread]] = {}
    for row in rows:
        position, run_id, value = row[0], row[2], row[3]
        q1, q3, stddev, samples = row[width:]
        spread = RunSpread(
            int(run_id), float(value), q1, q3, stddev, samples_of(samples), run_id in noisy
        )
        spreads.setdefault(int(position), []).append(spread)
    return points, spreads


def noisy_runs(session: Session, series_ids: list[int]) -> set[int]:
    """Runs with results in the series whose pre-flight checks reported a problem."""
    in_series = select(Result.run_id).where(Result.series_id.in_(series_ids))
    return set(session.scalars(select(Run.id).where(Run.id.in_(in_series), is_noisy())))


def _spread_columns() -> tuple[Any, ...]:
    need_samples = and_(Result.q1.is_(None), Result.samples.is_not(None))
    return (
        Result.q1,
        Result.q3,
        Result.stddev,
        case((need_samples, Result.samples), else_=None),
    )


def _ok(series_ids: list[int]) -> tuple[Any, ...]:
    return (Result.series_id.in_(series_ids), Result.status == "ok", Result.value.is_not(None))


def run_spreads(
    session: Session, series_ids: list[int], positions: list[int] | None = None
) -> dict[int, list[RunSpread]]:
    """position -> the ok runs measured there (all, or at ``positions``), in stored order.

    Samples are read only where the parser gave no quartiles, and the noisy
    flag is one JSON path test in SQL, so no snapshot is shipped whole.
    """
    noisy = is_noisy()
    rows = session.connection().execute(
        select(
            Result.position,
            Result.run_id,
            Result.value,
            *_spread_columns(),
            case((noisy, True), else_=False),
        )
        .join(Run, Run.id == Result.run_id)
        .where(*_ok(series_ids))
        .where(Result.position.in_(positions) if positions is not None else true())
        .order_by(Result.position, Result.id)
    )
    out: dict[int, list[RunSpread]] = {}
    for position, run_id, value, q1, q3, stddev, samples, run_noisy in rows:
        spread = RunSpread(
            int(run_id), float(value), q1, q3, stddev, samples_of(samples), bool(run_noisy)
        )
        out.setdefault(int(position), []).append(spread)
    return out
