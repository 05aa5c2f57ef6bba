"""Exact rank scan of a segment that grows at the series end, without redoing it.

A :class:`Tail` is the segment ``[start, n)`` of a growing series. Its rank
prefix is materialised at some length ``m0`` (the *base*); the ``j`` points
appended since (*pending*) are not folded in. The scan at the current length
``m = m0 + j`` needs, for every split ``k``, twice the centred rank-sum
``C_k(m) = P_k - k (m + 1)`` (:func:`detector.scan.split_scores`). Appending a
value ``v`` changes it by ``#{i < k: x_i > v} - #{i < k: x_i < v}``, so
``|C_k(m) - C_k(m0)| <= j k`` for ``k <= m0``, and the score
``C_k(m)**2 / (k (m - k))`` is at most ``(t_k + j sqrt(k / (m0 - k)))**2`` with
``t_k**2`` the base score at ``k``.

The scan therefore evaluates exactly only

* a *focus* window of ``2 * _FOCUS + 1`` splits around the base's best split
  away from the end: base prefix plus the pending points' counts (one O(k) pass);
* the *end zone*, the last ``m0 // 32`` splits, where the bound is loose and the
  new split positions are: from the ranks of the last points, found by binary
  search in the sorted base values plus comparisons with the pending points;

and proves with the bound that no other split reaches the exact best: outside
the focus window every base score is at most ``rest`` (one number kept per
base). Before that it tries a cheaper proof that the segment has no significant
split at all: the largest possible score (bound for ``k < far``, exact in the
end zone) gives a p-value above ``alpha`` (the p-value decreases with ``|z|``).
When neither proof holds, or more than ``_MAX_PENDING`` points are pending, the
base is rebuilt at the current length (O(m) per pending point, or a sort).
The floats compared and returned are computed by the same operations as
:func:`detector.scan.scan` on exact integers, so the split and the statistic are
bit-identical to a full run's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detector.scan import (
    FloatArray,
    IntArray,
    RankPrefix,
    ScanResult,
    extend_prefix,
    float_positions,
    rank_prefix_sorted,
    scan_result,
    split_scores,
    tie_factor_of,
)

_MIN_BASE = 512  # shorter tails are rebuilt on every append: their O(m) is small
_MAX_PENDING = 32  # rebuild the base once this many points are pending
_MAX_EXTEND = 32  # above this many new points a prefix is rebuilt by sorting
_FOCUS = 64  # half-width of the exactly evaluated window around the best split
_SAFETY = 1.0 + 1e-9  # relative slack for rounding in the bound


@dataclass(frozen=True, slots=True)
class _Summary:
    """What the bound needs from the base scan (splits ``k = d .. m0 - d``).

    far: splits ``k < far`` are bounded, ``k >= far`` (the end zone) exact.
    lo, hi: the focus window ``[lo, hi]`` around the best split below ``far``.
    rest: largest base score below ``far`` outside the window; top: largest below ``far``.
    k, base_c, den1: the splits ``[lo, hi]`` then ``[far, m0 - d + min(d, 32)]``
    (floats), their base ``C_k`` and ``k (m0 + 1 - k)`` (the denominator after
    one appended point).
    """

    far: int
    lo: int
    hi: int
    rest: float
    top: float
    base_c: FloatArray
    k: FloatArray
    den1: FloatArray


class Tail:
    """Rank statistics of the segment ``[start, n)`` of a growing series.

    Methods take ``xs``, the segment's current values (``x[start:n]``), which
    must extend the values the tail was built from.
    """

    __slots__ = ("_summary", "_ties", "base", "ordered", "prefix", "start")

    def __init__(self, start: int, prefix: RankPrefix, ordered: FloatArray) -> None:
        self.start = start
        self.prefix = prefix
        self.base = prefix.size
        self.ordered = ordered  # the base values, sorted
        self._summary: _Summary | None = None
        self._ties: tuple[int, float] = (self.base, prefix.ties)

    @classmethod
    def build(cls, start: int, xs: FloatArray) -> Tail:
        """A tail materialised from scratch (one sort)."""
        rp, ordered = rank_prefix_sorted(xs)
        return cls(start, rp, ordered)

    def rebuilt(self, xs: FloatArray) -> Tail:
        """This tail materialised at length ``len(xs)`` (identical sums either way)."""
        end = int(xs.shape[0])
        if end == self.base:
            return self
        if end - self.base > _MAX_EXTEND:
            return Tail.build(self.start, xs)
        rp = self.prefix
        for i in range(self.base, end):
            rp = extend_prefix(xs[:i], rp, float(xs[i]))
        new = np.sort(xs[self.base :])
        ordered = np.insert(self.ordered, np.searchsorted(self.ordered, new), new)
        return Tail(self.start, rp, ordered)

    # -- scan ------------------------------------------------------------------

    def scan_base(self, min_segment: int) -> ScanResult | None:
        """:func:`detector.scan.scan` of the base; also keeps the bound summary."""
        found = split_scores(self.prefix, min_segment)
        if found is None:
            return None
        centred, score, tie_factor = found
        best = int(np.argmax(score))
        self._summarise(centred, score, min_segment)
        return scan_result(float(centred[best]), best + min_segment, self.base, tie_factor)

    def try_scan(
        self, xs: FloatArray, min_segment: int, alpha: float
    ) -> tuple[bool, ScanResult | None]:
        """``(True, scan)`` with the exact :func:`detector.scan.scan` of ``xs``
        (None: no split), ``(True, None)`` when no split can be significant at
        ``alpha``, or ``(False, None)`` when neither is proved (rebuild the base)."""
        m, m0, d = int(xs.shape[0]), self.base, min_segment
        j = m - m0
        if j == 0:
            return True, self.scan_base(d)
        sm = self._summary
        if sm is None or j > min(_MAX_PENDING, d):
            return False, None
        pending = xs[m0:]
        if j == 1:  # scalar searches: the common case of one appended point
            v = float(pending[0])
            lo_v = int(np.searchsorted(self.ordered, v, "left"))
            hi_v = int(np.searchsorted(self.ordered, v, "right"))
            equal: IntArray | int = hi_v - lo_v
            total = float(m0 - hi_v - lo_v)
        else:
            left = np.searchsorted(self.ordered, pending, "left")
            right = np.searchsorted(self.ordered, pending, "right")
            equal = right - left
            total = float(np.sum((m0 - right) - left))
        tie_factor = tie_factor_of(m, self.ties(xs, equal))
        if tie_factor is None:
            return True, None
        # Every pending point v moves C_k by sum over i < k of sign(x_i - v); over
        # all base points that is `total`. Since j <= d, every split k <= m0.
        n_win, n_end = sm.hi - sm.lo + 1, m - d + 1 - sm.far
        delta = np.empty(n_win + n_end)
        self._window_moves(xs, pending, sm, total, delta[:n_win])
        moves = _moves(xs[sm.far : m0], pending)  # the end zone: k = far .. m - d
        delta[n_win] = total - float(moves.sum())
        np.cumsum(moves[: m - d - sm.far], out=delta[n_win + 1 :])
        delta[n_win + 1 :] += delta[n_win]
        centred = sm.base_c[: n_win + n_end] + delta
        score = centred * centred
        if j == 1:
            score /= sm.den1[: n_win + n_end]
        else:
            k = sm.k[: n_win + n_end]
            score /= k * (m - k)
        best_end = n_win + int(np.argmax(score[n_win:]))
        reach = math.sqrt(sm.far / (m0 - sm.far)) * j  # bound on the growth of sqrt(score)
        top = max((math.sqrt(sm.top) + reach) ** 2 * _SAFETY, float(score[best_end]))
        z_top = math.sqrt(3.0 * top / tie_factor) * _SAFETY
        if alpha <= 0.3 and not ScanResult(0, z_top, m).significant(alpha, d):
            return True, None
        best = int(np.argmax(score))  # the first of equal maxima, as in a full scan
        if (math.sqrt(sm.rest) + reach) ** 2 * _SAFETY >= float(score[best]):
            return False, None
        return True, scan_result(float(centred[best]), int(sm.k[best]), m, tie_factor)

    def _summarise(self, centred: FloatArray, score: FloatArray, d: int) -> None:
        m0 = self.base
        if m0 < _MIN_BASE:
            return
        far = m0 - max(64, m0 // 32)
        body = score[: far - d]  # splits d .. far - 1
        kf = int(np.argmax(body)) + d
        lo, hi = max(d, kf - _FOCUS), min(far - 1, kf + _FOCUS)
        left = float(body[: lo - d].max()) if lo > d else 0.0
        right = float(body[hi + 1 - d :].max()) if hi < far - 1 else 0.0
        # window [lo, hi] then end zone [far, m0 - d + min(d, 32)]: C_k, k, k (m0 + 1 - k)
        pos = float_positions(m0)
        top_k = m0 - d + min(_MAX_PENDING, d)
        k = np.concatenate((pos[lo : hi + 1], float_positions(top_k)[far:]))
        base_c = self.prefix.prefix[k.astype(np.int64)] - k * (m0 + 1.0)
        den1 = k * (m0 + 1 - k)
        rest, top = max(left, right), float(body[kf - d])
        self._summary = _Summary(far, lo, hi, rest, top, base_c, k, den1)

    # -- exact statistics at the current length ---------------------------------

    def ties(self, xs: FloatArray, equal: IntArray | int | None = None) -> float:
        """``sum(t**3 - t)`` over tie groups of ``xs`` (exact integer in a float);
        ``equal``: counts of each pending value among the base, if known."""
        m = int(xs.shape[0])
        if self._ties[0] == m:
            return self._ties[1]
        pending = xs[self.base :]
        if equal is None:
            equal = np.searchsorted(self.ordered, pending, "right") - np.searchsorted(
                self.ordered, pending, "left"
            )
        # a group of t growing to t + 1 adds 3t^2 + 3t
        if isinstance(equal, int) or pending.shape[0] == 1:
            t1 = float(equal if isinstance(equal, int) else equal[0])
            total = self.prefix.ties + (3.0 * t1 * t1 + 3.0 * t1)
        else:
            earlier = np.tril(pending[:, None] == pending[None, :], -1).sum(axis=1)
            t = (equal + earlier).astype(np.float64)
            total = self.prefix.ties + float(np.sum(3.0 * t * t + 3.0 * t))
        self._ties = (m, total)
        return total

    def centred_at(self, xs: FloatArray, k: int) -> float:
        """``C_k`` of ``xs``: twice the centred rank-sum of its first ``k`` points."""
        m, m0 = int(xs.shape[0]), self.base
        if m == m0:
            return float(self.prefix.prefix[k] - k * (m + 1.0))
        if k >= m0:
            return float(self._centred_end(xs, xs[m0:], k, m, m - k)[0])
        pending = xs[m0:]
        if k <= m0 - k:
            delta = float(_moves(xs[:k], pending).sum())
        else:
            above = m0 - np.searchsorted(self.ordered, pending, "right")
            below = np.searchsorted(self.ordered, pending, "left")
            delta = float(np.sum(above - below)) - float(_moves(xs[k:m0], pending).sum())
        return float(self.prefix.prefix[k] - k * (m0 + 1.0)) + delta

    def _window_moves(
        self, xs: FloatArray, pending: FloatArray, sm: _Summary, total: float, out: FloatArray
    ) -> None:
        """The pending points' moves of ``C_k`` over the focus window, into ``out``."""
        lo, hi, m0 = sm.lo, sm.hi, self.base
        if hi <= m0 - lo:
            moves = _moves(xs[:hi], pending)
            out[0] = float(moves[:lo].sum())
            inside = moves[lo:hi]
        else:  # cheaper from the other side: all base points less [lo, m0)
            rest = _moves(xs[lo:m0], pending)
            out[0] = total - float(rest.sum())
            inside = rest[: hi - lo]
        np.cumsum(inside, out=out[1:])
        out[1:] += out[0]

    def _centred_end(
        self, xs: FloatArray, pending: FloatArray, first: int, m: int, d: int
    ) -> FloatArray:
        """``C_k`` for ``k = first .. m - d`` from the ranks of the points after ``k``:
        ``C_k = r (m + 1) - (doubled rank sum of the last r = m - k points)``."""
        m0 = self.base
        doubled: IntArray = np.empty(m - first, dtype=np.int64)  # 2 * less + equal + 1
        split = max(0, m0 - first)  # doubled[:split]: base points, the rest pending
        # A base point's doubled rank among the base is the step of the base prefix.
        steps = self.prefix.prefix
        np.subtract(steps[first + 1 : m0 + 1], steps[first:m0], out=doubled[:split])
        own = xs[max(first, m0) :]  # the pending points among them: ranks among the base
        doubled[split:] = np.searchsorted(self.ordered, own, "left")
        doubled[split:] += np.searchsorted(self.ordered, own, "right")
        u = xs[first:]
        doubled += (pending < u[:, None]).sum(axis=1)
        doubled += (pending <= u[:, None]).sum(axis=1)
        doubled[split:] += 1
        sums = np.cumsum(doubled[::-1])  # sums[r - 1]: the last r points
        r = np.arange(m - first, d - 1, -1, dtype=np.int64)
        return (r * (m + 1) - sums[r - 1]).astype(np.float64)


def _moves(seg: FloatArray, pending: FloatArray) -> FloatArray:
    """``sum over pending v of sign(x_i - v)`` for each point ``x_i`` of ``seg``:
    how much each point's rank-sum contribution rises (exact small integers)."""
    out: FloatArray
    if pending.shape[0] == 1:
        out = np.sign(seg - pending[0])
    else:
        out = np.sign(seg[:, None] - pending).sum(axis=1)
    return out
