"""Per-process cache of the plot's series data, revalidated on every read.

Why: without it every ``points.json`` request read the 10,000 rows of a long
series, downsampled them, fetched commit facts for the points it kept and
encoded the answer again (61 ms median, 202 ms p95 on the 2-core machine),
while dashboards ask for the same few series over and over and a series
changes only when results arrive.

Two levels, both keyed by the sibling series ids (a merged history reads
several series) and checked against their version, ``series_version``:
count, max and sum of their result ids, one aggregate per request.

- ``Columns``: the points of the series (one per commit, its runs folded
  in) as arrays, plus a memo of the commit facts fetched so far (a
  commit's sha, author, time and message never change). Zooming reuses them.
- Answers: the encoded ``points`` object for one (range, budget, kept
  indices). Alerts and annotations are read fresh on every request (two small
  indexed queries) and their indices are part of the key, so triage or a new
  annotation can never show stale markers.

Stale points are impossible: results are only inserted or deleted, and
either changes the version. Memory is bounded: a few columns sets (~1 MB
each at 10,000 points) and a byte budget for answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import orjson
from sqlalchemy.orm import Session

from web.queries.downsample import select_indices
from web.queries.outliers import outlier_mask
from web.queries.spread import commit_spread, plot_points
from web.queries.trend import commit_facts

Version = tuple[int, int, int]
Fact = tuple[str, float | None, str | None, str | None]
MESSAGE_CHARS = 200


@dataclass
class Columns:
    """A series' points (one per commit) in branch order, with the spread band precomputed.

    ``runs``/``run_values`` hold every run of each commit: the plot draws them as
    small dots at the commit's x, never as points of their own. ``noisy`` marks
    points all of whose runs failed their pre-flight checks; ``noisy_runs`` are
    those runs (and any noisy re-run). Outliers depend on the change points, so
    they are memoised per set of cuts (see :meth:`outliers`).
    """

    version: Version
    commit_id: list[int]
    runs: list[list[int]]
    run_values: list[list[float | None]]
    value: np.ndarray
    lo: list[float]
    hi: list[float]
    noisy: list[bool] = field(default_factory=list)
    noisy_runs: list[list[int]] = field(default_factory=list)
    facts: dict[int, Fact] = field(default_factory=dict)
    _outliers: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.commit_id)

    @cached_property
    def index_of(self) -> dict[int, int]:
        """commit id -> point index, built once per version (markers are placed with it)."""
        return {commit_id: i for i, commit_id in enumerate(self.commit_id)}

    def outliers(self, cuts: tuple[int, ...]) -> np.ndarray:
        """Outlier flags of every point with the series cut at ``cuts`` (a few kept)."""
        found = self._outliers.get(cuts)
        if found is None:
            if len(self._outliers) > 8:
                self._outliers.clear()
            found = self._outliers[cuts] = outlier_mask(self.value, cuts)
        return found


def build_columns(session: Session, series_ids: list[int], version: Version) -> Columns:
    """Read the points once; the band is the robust one of ``web.queries.spread``."""
    points, spreads = plot_points(session, series_ids)
    lo, hi, noisy, noisy_runs = [], [], [], []
    for p in points:
        runs = spreads.get(p.position, [])
        value = p.value if p.value is not None else 0.0
        band = commit_spread(value, runs) if runs else None
        lo.append(band.lo if band else value)
        hi.append(band.hi if band else value)
        noisy.append(band.noisy if band else False)
        noisy_runs.append([r.run_id for r in runs if r.noisy])
    return Columns(
        version=version,
        commit_id=[p.commit_id for p in points],
        runs=[p.runs for p in points],
        run_values=[p.run_values for p in points],
        value=np.asarray([p.value for p in points], dtype=float),
        lo=lo,
        hi=hi,
        noisy=noisy,
        noisy_runs=noisy_runs,
    )


def encode_points(
    session: Session, columns: Columns, chosen: list[int], cuts: tuple[int, ...] = ()
) -> bytes:
    """The JSON ``points`` object: column arrays of the chosen indices.

    ``run_id`` is each commit's first run (the link the click panel opens);
    ``runs`` and ``run_values`` are all of its runs and their values.
    ``outlier`` and ``noisy`` flag the points the plot draws hollow and keeps
    out of its y range; ``noisy_runs`` lists the chosen points' noisy runs.
    """
    wanted = [columns.commit_id[i] for i in chosen]
    missing = [c for c in set(wanted) if c not in columns.facts]
    if missing:
        columns.facts.update(commit_facts(session, missing))
    facts = [columns.facts[c] for c in wanted]
    body: dict[str, Any] = {
        "i": chosen,
        "value": columns.value[chosen].tolist() if chosen else [],
        "lo": [columns.lo[i] for i in chosen],
        "hi": [columns.hi[i] for i in chosen],
        "sha": [f[0] for f in facts],
        "time": [f[1] for f in facts],
        "author": [f[2] for f in facts],
        "message": [(f[3] or "")[:MESSAGE_CHARS] for f in facts],
        "run_id": [columns.runs[i][0] for i in chosen],
        "runs": [columns.runs[i] for i in chosen],
        "run_values": [columns.run_values[i] for i in chosen],
        "outlier": columns.outliers(cuts)[chosen].tolist() if chosen else [],
        "noisy": [columns.noisy[i] for i in chosen],
        "noisy_runs": [r for i in chosen for r in columns.noisy_runs[i]],
    }
    return orjson.dumps(body)


class PointsCache:
    """LRU of ``Columns`` (by count) and of encoded answers (by bytes); thread-safe."""

    def __init__(self, columns_size: int = 8, answer_bytes: int = 64 * 1024 * 1024) -> None:
        self._columns: OrderedDict[tuple[int, ...], Columns] = OrderedDict()
        self._answers: OrderedDict[Hashable, tuple[bytes, bool]] = OrderedDict()
        self._columns_size = columns_size
        self._answer_bytes = answer_bytes
        self._used = 0
        self._lock = threading.Lock()

    def columns(self, session: Session, series_ids: list[int], version: Version) -> Columns:
        key = tuple(series_ids)
        with self._lock:
            hit = self._columns.get(key)
            if hit is not None and hit.version == version:
                self._columns.move_to_end(key)
                return hit
        built = build_columns(session, series_ids, version)
        with self._lock:
            self._columns[key] = built
            self._columns.move_to_end(key)
            while len(self._columns) > self._columns_size:
                self._columns.popitem(last=False)
        return built

    def points(
        self,
        session: Session,
        columns: Columns,
        series_ids: list[int],
        window: tuple[int, int, int],
        keep: list[int],
        cuts: tuple[int, ...] = (),
    ) -> tuple[bytes, bool]:
        """(encoded points, full resolution?) for ``window`` = (start, end, max points).

        ``cuts`` are the change points' indices (outliers are judged per segment).
        """
        start, end, budget = window
        key = (tuple(series_ids), columns.version, start, end, budget, tuple(keep), cuts)
        with self._lock:
            hit = self._answers.get(key)
            if hit is not None:
                self._answers.move_to_end(key)
                return hit
        chosen = select_indices(columns.value, start, end, budget, keep)
        encoded = encode_points(session, columns, chosen, cuts)
        answer = (encoded, len(chosen) == max(0, end - start))
        self._remember(key, answer)
        return answer

    def _remember(self, key: Hashable, answer: tuple[bytes, bool]) -> None:
        with self._lock:
            old = self._answers.pop(key, None)
            if old is not None:
                self._used -= len(old[0])
            self._answers[key] = answer
            self._used += len(answer[0])
            while self._used > self._answer_bytes and len(self._answers) > 1:
                _, dropped = self._answers.popitem(last=False)
                self._used -= len(dropped[0])

    def clear(self) -> None:
        """Forget everything (benchmarks measure the cold path with it)."""
        with self._lock:
            self._columns.clear()
            self._answers.clear()
            self._used = 0
