"""Bounds a :class:`detector.tail.Tail` proves its scans with.

Pure functions of one base scan (the rank prefix of a segment at length ``m0``
and its split scores): per-block bounds on how far scores can grow with ``j``
points appended, the certificate intervals of the best split, and a value-free
bound on the end zone. The arguments for each are in the docstrings and in
:mod:`detector.tail`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detector.scan import FloatArray, RankPrefix, float_positions

MAX_PENDING = 128  # a base is rebuilt once this many points are pending
SAFETY = 1.0 + 1e-9  # relative slack for rounding in every bound
BLOCKS = 64  # blocks of splits with their own bound, outside the window
LEVELS = (1, 2, 4, 8, 16, 32, 64, MAX_PENDING)  # pending counts with a certificate each


@dataclass(frozen=True, slots=True)
class Blocks:
    """Per-block bounds on the splits below ``far`` outside the window: with
    ``j`` points pending no split of a block scores above ``(peak + j *
    reach)**2``, ``peak`` the square root of the block's largest base score and
    ``reach`` the largest ``sqrt(k / (m0 - k))`` in it (a bound per block is
    much tighter than one for all splits when a competing split sits away from
    the end). ``window_peak``, ``window_reach``: the same for the window.
    ``rests``, ``tops``: the bounds outside the window and anywhere below
    ``far`` for ``j = 0 .. MAX_PENDING``, as plain floats (one look-up per
    scan instead of a few array operations)."""

    peak: FloatArray
    reach: FloatArray
    window_peak: float
    window_reach: float
    rests: list[float]
    tops: list[float]

    @classmethod
    def of(
        cls, body: FloatArray, lo: int, hi: int, d: int, m0: int, most: int = MAX_PENDING
    ) -> Blocks:
        """From the base scores ``body`` of the splits ``d .. far - 1``; tables for
        up to ``most`` pending points."""
        far = d + int(body.shape[0])
        peaks, reaches = [], []
        for first, last in ((d, lo), (hi + 1, far)):  # outside the window
            if last > first:
                part = body[first - d : last - d]
                starts = np.arange(0, last - first, -(-(last - first) // BLOCKS))
                ends = np.append(starts[1:], last - first) + (first - 1)  # blocks' last k
                peaks.append(np.sqrt(np.maximum.reduceat(part, starts)))
                reaches.append(np.sqrt(ends / (m0 - ends)))
        peak = np.concatenate(peaks) if peaks else np.zeros(1)
        reach = np.concatenate(reaches) if reaches else np.zeros(1)
        window_peak = math.sqrt(float(body[lo - d : hi + 1 - d].max()))
        pending = np.arange(most + 1, dtype=np.float64)[:, None]
        rests = (peak + pending * reach).max(axis=1) ** 2 * SAFETY
        window_reach = math.sqrt(hi / (m0 - hi))
        window = (window_peak + pending[:, 0] * window_reach) ** 2 * SAFETY
        tops = np.maximum(rests, window)
        return cls(peak, reach, window_peak, window_reach, rests.tolist(), tops.tolist())

    def rest(self, j: int) -> float:
        """Largest score of a split outside the window with ``j`` points pending."""
        return self.rests[j]

    def top(self, j: int) -> float:
        """Largest score of any split below ``far`` with ``j`` points pending."""
        return self.tops[j]


def certificate(
    win_k: FloatArray,
    win_c: FloatArray,
    best: int,
    lo: int,
    m0: int,
) -> tuple[list[float], list[float]]:
    """Bounds on the move of ``C_best`` within which ``best`` stays the best split.

    With ``j`` points pending, let ``D`` be how far ``C_best`` moved (signed so
    that ``c* = |C_best|`` at the base grows with ``D``). Every other split's
    ``C_k`` below the base length moved by ``D`` plus at most ``j |k - best|``
    (each point moves the difference of two splits' sums by at most the number
    of points between them). So a window split cannot win when ``(c* + D) / a -
    (|c_k + D| + j |k - best|) / b_k > 0`` (``a``, ``b_k``: ``sqrt(k (m - k))``
    at ``best`` and at ``k``): two linear conditions in ``D``, one per sign of
    ``c_k + D``. Outside the window the per-block bound, and in the end zone
    ``k (m - k)``, must stay below the best score ``((c* + D) / a)**2``. Each
    condition bounds ``D`` from one side. The bounds hold for every ``j`` up to
    a level ``J`` at once (``LEVELS``), with the worst ``a``, ``b_k`` and
    ``j`` of that range; ``(lowest[i], highest[i])`` is the interval of level
    ``LEVELS[i]``, shrunk by a rounding margin, and the list ends at the first
    empty one. The bounds from outside the window depend on ``j`` alone and
    cost a few scalar operations, so :meth:`detector.tail.Tail.try_scan` adds them for the
    exact ``j``; ``lowest`` holds only the window's bounds (and ``c* + D > 0``).
    """
    i = best - lo
    c = win_c if win_c[i] > 0 else -win_c
    top = float(c[i])
    levels = np.asarray(LEVELS, dtype=np.float64)[:, None]
    # ratio sqrt(best (m - best)) / sqrt(k (m - k)), worst over m0 < m <= m0 + level
    # (monotone in m, so at one of the ends); the window splits along axis 1
    ratio = np.maximum(_ratio(win_k, best, m0 + 1.0), _ratio(win_k, best, m0 + levels))
    spread = levels * np.abs(win_k - best)
    low = np.full(len(LEVELS), -top)  # c* + D > 0
    high = np.full(len(LEVELS), np.inf)
    broken = np.zeros(len(LEVELS), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for slope, offset in (
            (1.0 - ratio, top - (c + spread) * ratio),  # c_k + D >= 0
            (1.0 + ratio, top + (c - spread) * ratio),  # c_k + D < 0
        ):
            slope[:, i], offset[:, i] = 1.0, np.inf  # best itself: no condition
            edge = -offset / slope  # slope D + offset > 0 holds above (below) the edge
            low = np.maximum(low, np.where(slope > 0.0, edge, -np.inf).max(axis=1))
            high = np.minimum(high, np.where(slope < 0.0, edge, np.inf).min(axis=1))
            broken |= ((slope == 0.0) & (offset <= 0.0)).any(axis=1)
    margin = 1e-7 * top + 1.0  # rounding in the bounds, in units of C
    low, high = low + margin, high - margin
    failed = np.flatnonzero(broken | ~(low < high))
    count = int(failed[0]) if failed.shape[0] else len(LEVELS)
    return low[:count].tolist(), high[:count].tolist()


def _ratio(k: FloatArray, best: int, m: float | FloatArray) -> FloatArray:
    """``sqrt(best (m - best) / (k (m - k)))``: how a split's score scales against
    the best's (in square-root units)."""
    ratio: FloatArray = np.sqrt(best * (m - best) / (k * (m - k)))
    return ratio


def end_bounds(rp: RankPrefix, far: int, d: int) -> list[float]:
    """:attr:`detector.tail._Summary.ends` from the base prefix: for ``j = 1 .. d - 1``, the
    largest over ``k = far .. m0 - d + j`` of ``(|C_k| / sqrt(k (m0 - k)) + j
    sqrt(k / (m0 - k)))**2`` or of ``k (m0 + j - k)`` (``|C_k| <= k (m - k)``),
    whichever is smaller."""
    m0 = rp.size
    k = float_positions(m0)[far:m0]
    base = np.abs(rp.prefix[far:m0] - k * (m0 + 1.0)) / np.sqrt(k * (m0 - k))
    reach = np.sqrt(k / (m0 - k))
    cap = k * (m0 - k)  # no score exceeds k (m - k); with j pending, k (m0 + j - k)
    bounds = []
    for j in range(1, d):
        last = m0 - d + j - far + 1  # splits far .. m0 - d + j
        grown = (base[:last] + j * reach[:last]) ** 2
        bounds.append(float(np.minimum(grown, cap[:last] + j * k[:last]).max()) * SAFETY)
    return bounds
