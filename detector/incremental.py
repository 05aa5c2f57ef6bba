"""Incremental change-point detection for series that grow by appending."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from detector.changepoint import DEFAULT_THRESHOLDS, to_change_points, to_drifts
from detector.drift import Ramp
from detector.scan import FloatArray
from detector.segmentation import CutStats, Segmenter
from detector.types import ChangePoint, Changes, Drift, Thresholds
from detector.validation import as_series


class ChangePointState:
    """A series and its change points, extended in place by :meth:`append`.

    ``state.change_points`` always equals
    ``detect_change_points(state.values, thresholds=...)`` exactly, and
    ``state.changes`` equals ``detect_changes(...)`` (drifts included): every cached
    quantity is a function of one segment's values, and only segments that end
    at the series end are recomputed (their rank prefixes are extended without
    sorting). Appending one point to a 10,000-point series costs a few O(n)
    vector passes instead of sorts over every segment.

    Not thread-safe; the values given are copied, never modified.
    """

    def __init__(
        self,
        values: Iterable[float] | npt.ArrayLike = (),
        *,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.thresholds = thresholds or DEFAULT_THRESHOLDS
        self._segmenter = Segmenter(self.thresholds, incremental=True)
        first = as_series(values)
        self._buffer: FloatArray = np.empty(max(16, 2 * first.shape[0]), dtype=np.float64)
        self._n = 0
        self._change_points: list[ChangePoint] = []
        self._cuts: list[tuple[int, CutStats]] = []
        self._ramps: list[tuple[Ramp, float]] = []
        self._drifts: list[Drift] = []
        self.append(first)

    @property
    def values(self) -> FloatArray:
        """Read-only view of the series so far."""
        view = self._buffer[: self._n]
        view.flags.writeable = False
        return view

    @property
    def change_points(self) -> list[ChangePoint]:
        """Change points (steps) of the series so far (a new list)."""
        return list(self._change_points)

    @property
    def drifts(self) -> list[Drift]:
        """Drifts of the series so far (a new list)."""
        return list(self._drifts)

    @property
    def changes(self) -> Changes:
        """Steps and drifts so far: equal to ``detect_changes(state.values)``."""
        return Changes(list(self._change_points), list(self._drifts))

    def append(self, values: Iterable[float] | npt.ArrayLike) -> list[ChangePoint]:
        """Append ``values`` (1-D, finite) and return the updated change points.

        Raises ValueError on bad input, leaving the state unchanged.
        """
        new = as_series(values)
        if new.shape[0] == 0 and self._n > 0:
            return self.change_points
        end = self._n + new.shape[0]
        if end > self._buffer.shape[0]:
            grown = np.empty(max(2 * self._buffer.shape[0], end), dtype=np.float64)
            grown[: self._n] = self._buffer[: self._n]
            self._buffer = grown
        self._buffer[self._n : end] = new
        self._n = end
        cuts = self._segmenter.run(self._buffer[:end])
        # The segmenter hands back the very same (index, stats) objects for cuts
        # it did not recompute: reuse their records (identity, no hashing).
        old_cuts, old_points = self._cuts, self._change_points
        points = []
        for i, cut in enumerate(cuts):
            same = i < len(old_cuts) and old_cuts[i] is cut
            points.append(old_points[i] if same else to_change_points([cut])[0])
        self._cuts, self._change_points = cuts, points
        if self._segmenter.drifts != self._ramps:
            self._ramps = list(self._segmenter.drifts)
            self._drifts = to_drifts(self._ramps)
        return list(points)
