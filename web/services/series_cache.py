"""Per-process cache of incremental detector states, checked against ``series_state``.

An entry is a series' points (positions, commit ids) and its
``ChangePointState``, built under one ``epoch`` of the stored points. While
the stored epoch is the same, the stored points are the entry's points plus
points appended after its last position, so catching up is an append
(O(points added)); any other change replaces the epoch and the entry is rebuilt
from ``series_point``. Either way the change points equal a full detection over
the stored points (``ChangePointState`` guarantees it).

Entries are taken out while a transaction uses them and put back only after it
commits, so a rolled-back detection never leaves points the database does not
hold. Memory is bounded by the points held, not the number of series: a state
costs ~40 B per point on a quiet series and up to ~100 B on a busy one
(detector/README.md, "Memory").
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import event
from sqlalchemy.orm import Session

from detector import ChangePointState, Thresholds
from web.queries.points import PointColumns, PointRow

_PENDING_KEY = "benchwarden.series_cache.pending"
# 2 M points: ~80-200 MB per process; holds 1,000 series of 2,000 points.
POINT_BUDGET = 2_000_000


@dataclass
class CachedSeries:
    """One series' points and detector state, valid for ``epoch`` and ``thresholds``."""

    epoch: int
    thresholds: Thresholds
    positions: array[int]
    commit_ids: array[int]
    state: ChangePointState

    @classmethod
    def from_columns(
        cls, epoch: int, thresholds: Thresholds, columns: PointColumns | None
    ) -> CachedSeries:
        positions, commits = array("q"), array("q")
        if columns is None:
            return cls(
                epoch, thresholds, positions, commits, ChangePointState((), thresholds=thresholds)
            )
        positions.frombytes(columns.positions.astype(np.int64).tobytes())
        commits.frombytes(columns.commit_ids.astype(np.int64).tobytes())
        return cls(
            epoch,
            thresholds,
            positions,
            commits,
            ChangePointState(columns.values, thresholds=thresholds),
        )

    @property
    def size(self) -> int:
        return len(self.positions)

    @property
    def last_position(self) -> int | None:
        return self.positions[-1] if self.positions else None

    def extend(self, points: Sequence[PointRow]) -> None:
        """Append points that lie after the last one held (the caller checks)."""
        if not points:
            return
        self.positions.extend(p.position for p in points)
        self.commit_ids.extend(p.commit_id for p in points)
        self.state.append(np.fromiter((p.value for p in points), dtype=np.float64))

    def index_of(self, commit_id: int) -> int | None:
        """The index of a commit's point, or None (a vector scan: only for triaged alerts)."""
        found = np.flatnonzero(np.frombuffer(self.commit_ids, dtype=np.int64) == commit_id)
        return int(found[0]) if found.size else None


class SeriesCache:
    """LRU of :class:`CachedSeries` by series id, bounded by the points held."""

    def __init__(self, budget: int = POINT_BUDGET) -> None:
        self._budget = budget
        self._held = 0
        self._entries: OrderedDict[int, CachedSeries] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, series_id: int) -> CachedSeries | None:
        """Remove and return the entry: the caller owns it until :meth:`put`."""
        with self._lock:
            entry = self._entries.pop(series_id, None)
            if entry is not None:
                self._held -= entry.size
            return entry

    def put(self, entries: dict[int, CachedSeries]) -> None:
        with self._lock:
            for series_id, entry in entries.items():
                old = self._entries.pop(series_id, None)
                self._held += entry.size - (old.size if old is not None else 0)
                self._entries[series_id] = entry
            while self._held > self._budget and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._held -= evicted.size

    def put_after_commit(self, session: Session, entries: dict[int, CachedSeries]) -> None:
        """Put ``entries`` back once ``session`` commits; any rollback, even of a savepoint,
        drops every entry still pending (losing a cache entry only costs a rebuild).
        """
        pending: dict[int, CachedSeries] = session.info.setdefault(_PENDING_KEY, {})
        pending.update(entries)
        if not event.contains(session, "after_commit", self._commit):
            event.listen(session, "after_commit", self._commit)
            event.listen(session, "after_soft_rollback", self._rollback)

    def _commit(self, session: Session) -> None:
        self.put(session.info.pop(_PENDING_KEY, {}))

    def _rollback(self, session: Session, _transaction: object) -> None:
        session.info.pop(_PENDING_KEY, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._held = 0

    def __len__(self) -> int:
        return len(self._entries)


CACHE = SeriesCache()
