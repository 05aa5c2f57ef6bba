"""Change-point detection: the public entry point.

Method (details and references in ``detector/README.md``):

1. binary segmentation on a rank-based CUSUM (Pettitt 1979), each split judged
   by a scan-corrected p-value (Siegmund 1988) so that false alarms do not grow
   with the length of the series;
2. a merge pass that re-judges every cut between its neighbours and drops the
   weakest failing one until all pass: significance, a minimum shift in robust
   noise sigmas of the two adjacent segments, an optional minimum relative
   shift;
3. segments shorter than ``min_segment`` cannot exist, so 1–3-point spikes that
   return to the previous level never become change points;
4. an epidemic rank scan finds short excursions inside the segments
   (``detector.excursion``), each cut is re-placed where the level changes
   (``detector.localise``), and runs of same-direction cuts that a ramp fits
   better become one drift (``detector.drift``).

Time O(n log n · depth), memory O(n).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy.typing as npt

from detector.drift import Ramp
from detector.segmentation import CutStats, Segmenter
from detector.types import ChangePoint, Changes, Drift, Thresholds
from detector.validation import as_series

DEFAULT_THRESHOLDS = Thresholds()


def detect_changes(
    values: Iterable[float] | npt.ArrayLike, *, thresholds: Thresholds | None = None
) -> Changes:
    """Steps and drifts of one series, each in increasing index order.

    ``values``: 1-D numbers in commit order (not modified). Series shorter than
    ``2 * thresholds.min_segment`` (including empty and length-1 series) have no
    changes. A gradual change is one :class:`Drift`, and no step lies inside
    it. Raises ValueError on NaN, infinity, non-numeric or non-1-D input.
    """
    x = as_series(values)
    segmenter = Segmenter(thresholds or DEFAULT_THRESHOLDS)
    steps = to_change_points(segmenter.run(x))
    return Changes(steps, to_drifts(segmenter.drifts))


def detect_change_points(
    values: Iterable[float] | npt.ArrayLike, *, thresholds: Thresholds | None = None
) -> list[ChangePoint]:
    """The steps of :func:`detect_changes`: sharp change points, none inside a drift."""
    return detect_changes(values, thresholds=thresholds).steps


def to_drifts(found: list[tuple[Ramp, float]]) -> list[Drift]:
    """Public records for the ramps found by :class:`Segmenter`."""
    out = []
    for ramp, pvalue in found:
        shift = ramp.after - ramp.before
        out.append(
            Drift(
                start=ramp.start,
                end=ramp.end - 1,
                before=ramp.before,
                after=ramp.after,
                rel_change=_relative(shift, ramp.before),
                slope_per_point=shift / (ramp.end - ramp.start),
                direction="increase" if shift > 0 else "decrease",
                p_value=pvalue,
            )
        )
    return out


def _relative(shift: float, before: float) -> float:
    if before != 0:
        return shift / abs(before)
    return math.copysign(math.inf, shift) if shift != 0 else 0.0


def to_change_points(cuts: list[tuple[int, CutStats]]) -> list[ChangePoint]:
    """Public records for the cuts found by :class:`Segmenter`."""
    return [_change_point(index, st) for index, st in cuts]


def _change_point(index: int, st: CutStats) -> ChangePoint:
    shift = st.after - st.before
    rel = _relative(shift, st.before)
    return ChangePoint(
        index=index,
        before=st.before,
        after=st.after,
        rel_change=rel,
        direction="increase" if shift > 0 else "decrease",
        pvalue=st.pvalue,
        effect_sigma=st.effect_sigma,
    )
