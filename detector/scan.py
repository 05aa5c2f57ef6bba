"""Rank-based CUSUM scan of one segment, in O(m log m) time and O(m) memory.

For a segment ``x[0:m]`` the statistic at split ``k`` is the standardised
Wilcoxon rank-sum of the first ``k`` points (Pettitt 1979, "A non-parametric
approach to the change-point problem"), computed for every ``k`` at once from
prefix sums of mid-ranks. Ranks make the scan invariant under any increasing
transformation of the data (so under shifting and positive scaling), immune to
outliers and heavy tails, and free of any noise-distribution assumption.

All prefix sums are sums of half-integers, hence exact in float64 up to 2**52:
a prefix extended point by point (:func:`extend_prefix`) is bit-identical to
one computed from scratch, which makes incremental detection exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_SQRT2 = math.sqrt(2.0)
_UNIT_GRID = tuple(i / 8.0 - 1.0 for i in range(17))
_GRIDS: dict[tuple[int, int], tuple[float, ...]] = {}
_POSITIONS = np.arange(1024, dtype=np.float64)
_DOUBLED_RANKS = 2 * np.arange(1024, dtype=np.int64) + 2


@dataclass(frozen=True, slots=True)
class RankPrefix:
    """Prefix sums of mid-ranks of one segment.

    prefix: int64, shape ``(m + 1,)``; ``prefix[k]`` is twice the sum of the
        mid-ranks of the first ``k`` points (``prefix[0] == 0``); doubling keeps
        every sum an exact integer.
    ties: ``sum(t**3 - t)`` over groups of ``t`` equal values (variance
        correction for ties).
    """

    prefix: IntArray
    ties: float

    @property
    def size(self) -> int:
        return int(self.prefix.shape[0]) - 1


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Best split of a segment: ``split`` points before the change, standardised
    statistic ``z`` (positive: later values are larger), segment length ``m``."""

    split: int
    z: float
    m: int

    def significant(self, alpha: float, min_segment: int) -> bool:
        """Whether the scan p-value is below ``alpha`` (cheap bounds first). For
        ``alpha <= 0.3`` this is monotone: true for every larger ``|z|``."""
        tail = 0.5 * math.erfc(abs(self.z) / _SQRT2)
        if 2.0 * (self.m - 2 * min_segment + 1) * tail < alpha:
            return True
        if 2.0 * tail >= alpha:  # the p-value is at least 2 Phi(-|z|)
            return False
        return scan_pvalue(abs(self.z), self.m, min_segment) < alpha


def rank_prefix(segment: FloatArray) -> RankPrefix:
    """Mid-rank prefix sums of ``segment`` (1-D, finite)."""
    return rank_prefix_sorted(segment)[0]


def rank_prefix_sorted(segment: FloatArray) -> tuple[RankPrefix, FloatArray]:
    """Mid-rank prefix sums of ``segment`` and its values in increasing order."""
    m = int(segment.shape[0])
    prefix = np.zeros(m + 1, dtype=np.int64)
    if m == 0:
        return RankPrefix(prefix, 0.0), segment.copy()
    order = np.argsort(segment)
    ordered = segment[order]
    starts_flag = np.empty(m, dtype=bool)
    starts_flag[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_flag[1:])
    ranks = np.empty(m, dtype=np.int64)
    if starts_flag.all():  # no ties: doubled rank of the i-th smallest is 2i + 2
        ranks[order] = _positions_int(m)
        np.cumsum(ranks, out=prefix[1:])
        return RankPrefix(prefix, 0.0), ordered
    starts = np.flatnonzero(starts_flag)
    counts = np.diff(np.append(starts, m))
    twice_mid = 2 * starts + counts + 1
    ranks[order] = twice_mid[np.cumsum(starts_flag) - 1]
    np.cumsum(ranks, out=prefix[1:])
    tied = counts[counts > 1].astype(np.float64)
    return RankPrefix(prefix, float(np.sum(tied**3 - tied))), ordered


def extend_prefix(
    segment: FloatArray, old: RankPrefix, value: float, place: tuple[int, int] | None = None
) -> RankPrefix:
    """Prefix of ``segment`` followed by ``value``, from the prefix of ``segment``.

    O(m) vectorised and no sort: every earlier point above ``value`` moves up one
    rank, every equal point half a rank. ``place``: how many points of
    ``segment`` are below ``value`` and how many are not above it, if known.
    """
    m = int(segment.shape[0])
    if place is None:
        n_less = int(np.count_nonzero(segment < value))
        n_equal = int(np.count_nonzero(segment == value))
    else:
        n_less, n_equal = place[0], place[1] - place[0]
    greater = segment > value
    prefix = np.empty(m + 2, dtype=np.int64)
    prefix[0] = 0
    body = prefix[1 : m + 1]
    if n_equal:  # doubled ranks: +2 for each earlier point above value, +1 per equal one
        bump = greater.view(np.int8) * np.int8(2) + (segment == value).view(np.int8)
        np.cumsum(bump, dtype=np.int64, out=body)
    else:
        np.cumsum(greater, dtype=np.int64, out=body)
        body *= 2
    body += old.prefix[1:]
    prefix[m + 1] = prefix[m] + 2 * n_less + n_equal + 2
    # A tie group of size t growing to t + 1 adds 3t^2 + 3t to sum(t^3 - t).
    return RankPrefix(prefix, old.ties + 3.0 * n_equal * n_equal + 3.0 * n_equal)


def scan(rp: RankPrefix, min_segment: int) -> ScanResult | None:
    """Best split of the segment whose rank prefix is ``rp``.

    Returns ``None`` when the segment is shorter than ``2 * min_segment`` or has
    no variation (all values tied).
    """
    found = split_scores(rp, min_segment)
    if found is None:
        return None
    centred, score, tie_factor = found
    best = int(np.argmax(score))
    return scan_result(float(centred[best]), best + min_segment, rp.size, tie_factor)


def split_scores(rp: RankPrefix, min_segment: int) -> tuple[FloatArray, FloatArray, float] | None:
    """``(centred, score, tie_factor)`` for the splits ``k = min_segment ..
    m - min_segment``, or None when :func:`scan` would return None.

    ``centred[i]`` is twice the centred rank-sum of the first ``k`` points and
    ``score[i] = centred[i]**2 / (k (m - k))``, whose argmax is the argmax of
    ``|Z_k|``; :mod:`detector.tail` reproduces these floats bit for bit.
    """
    m = rp.size
    if m < 2 * min_segment:
        return None
    tie_factor = tie_factor_of(m, rp.ties)
    if tie_factor is None:
        return None
    k = float_positions(m)[min_segment : m - min_segment + 1]
    centred = rp.prefix[min_segment : m - min_segment + 1] - k * (m + 1.0)  # 2 x centred sum
    # argmax of |Z_k| = argmax of centred^2 / (k (m - k)); the constant factor and
    # the square root are applied to the winner only.
    score = centred * centred
    score /= k * (m - k)
    return centred, score, tie_factor


def tie_factor_of(m: int, ties: float) -> float | None:
    """``m + 1`` less the tie correction of the rank-sum variance; None when all
    ``m`` values are tied (no variation to scan)."""
    tie_factor = (m + 1.0) - ties / (m * (m - 1.0))
    return None if tie_factor <= 1e-12 * (m + 1.0) else tie_factor


def scan_result(centred: float, split: int, m: int, tie_factor: float) -> ScanResult:
    """The standardised statistic at ``split`` from twice its centred rank-sum."""
    kb = float(split)
    return ScanResult(split, 0.5 * centred / math.sqrt(kb * (m - kb) / 12.0 * tie_factor), m)


def float_positions(m: int) -> FloatArray:
    """``arange(m + 1)`` as float64, from a shared read-only cache grown by doubling."""
    global _POSITIONS
    if _POSITIONS.shape[0] <= m:
        _POSITIONS = np.arange(max(2 * m, 1024), dtype=np.float64)
        _POSITIONS.flags.writeable = False
    return _POSITIONS[: m + 1]


def _positions_int(m: int) -> IntArray:
    """``2 * arange(m) + 2`` (doubled ranks without ties), from a shared cache."""
    global _DOUBLED_RANKS
    if _DOUBLED_RANKS.shape[0] < m:
        _DOUBLED_RANKS = 2 * np.arange(max(2 * m, 1024), dtype=np.int64) + 2
        _DOUBLED_RANKS.flags.writeable = False
    return _DOUBLED_RANKS[:m]


def _siegmund_rates(m: int, min_segment: int) -> tuple[float, ...]:
    """``0.583 sqrt((2 + 2 cosh(s)) / m)`` on the 17-point log-odds grid ``s`` over
    ``[-edge, edge]``, ``edge = log((m - d) / d)``; cached per ``(m, d)``. Plain
    floats: a series that grows by one point needs a new grid every time, and
    17 scalar evaluations cost less than the array calls."""
    key = (m, min_segment)
    found = _GRIDS.get(key)
    if found is None:
        if len(_GRIDS) > 4096:
            _GRIDS.clear()
        edge = math.log((m - min_segment) / min_segment)
        # sqrt(2 + 2 cosh(s)) = 2 cosh(s / 2); the grid is symmetric about 0
        scale = 2.0 * 0.583 / math.sqrt(m)
        half = [scale * math.cosh(0.5 * edge * u) for u in _UNIT_GRID[8:]]
        found = _GRIDS[key] = (*half[:0:-1], *half)
    return found


def scan_pvalue(z: float, m: int, min_segment: int) -> float:
    """P(max over splits of |Z_k| >= z) under no change, for ``m`` points.

    The standardised rank CUSUM converges to a standardised Brownian bridge,
    an Ornstein–Uhlenbeck process on the log-odds time scale; its two-sided
    exceedance probability over ``[d/m, 1 - d/m]`` is about
    ``2 z phi(z) log((m - d) / d)`` with Siegmund's discreteness correction
    (Siegmund 1988, "Approximate tail probabilities for the maxima of some
    random fields"; James, James & Siegmund 1987). The Bonferroni bound over the
    ``m - 2d + 1`` splits is used when it is smaller (short segments).
    """
    if z <= 0.0:
        return 1.0
    n_splits = m - 2 * min_segment + 1
    tail = 0.5 * math.erfc(z / _SQRT2)
    bonferroni = 2.0 * n_splits * tail
    density = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    # Siegmund's discreteness correction nu(x) ~ exp(-0.583 x), x = z / sqrt(m t (1 - t)),
    # integrated over log-odds time s = logit(t), where dt / (t (1 - t)) = ds and
    # 1 / (t (1 - t)) = 2 + 2 cosh(s).
    rates = _siegmund_rates(m, min_segment)
    # trapezoid rule on the grid (step edge / 8, half weights at both ends)
    inner = sum(math.exp(-z * r) for r in rates[1:-1])
    ends = 0.5 * (math.exp(-z * rates[0]) + math.exp(-z * rates[-1]))
    integral = (inner + ends) * (math.log((m - min_segment) / min_segment) / 8.0)
    siegmund = z * density * integral
    # The maximum is at least any single split's |Z|: never below 2 Phi(-z). (The
    # continuous approximation alone vanishes as the search range shrinks to one
    # split, m = 2 d, and at small z; with this floor p is decreasing in z.)
    return float(min(1.0, bonferroni, max(siegmund, 2.0 * tail)))
