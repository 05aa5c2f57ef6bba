"""Exact rank scan of a segment that grows at the series end, without redoing it.

A :class:`Tail` is the segment ``[start, n)`` of a growing series. Its rank
prefix is materialised at some length ``m0`` (the *base*); the ``j`` points
appended since (*pending*) are not folded into it. The scan at the current
length ``m = m0 + j`` needs, for every split ``k``, twice the centred rank-sum
``C_k(m) = P_k - k (m + 1)`` (:func:`detector.scan.split_scores`). Appending a
value ``v`` changes it by ``S_k(v) = #{i < k: x_i > v} - #{i < k: x_i < v}``
for ``k <= m0``, so ``|C_k(m) - C_k(m0)| <= j k``: the score ``C_k(m)**2 / (k
(m - k))`` is at most ``(t_k + j sqrt(k / (m0 - k)))**2`` with ``t_k**2`` the
base score. Two splits' sums move apart by at most ``j`` times the number of
points between them. And every score is at most ``k (m - k)``, since ``|C_k|
<= k (m - k)`` whatever the values.

A base with a significant best split keeps a summary (:class:`_Summary`). A
scan with ``j`` points pending tries, in order:

1. the *certificate*: from ``S_best`` of the pending points alone (one binary
   search per point in a sorted copy of the values before ``best``), the best
   split's exact sum; interval bounds computed once per base say whether any
   split near it can have overtaken it, per-block bounds cover the rest, and
   ``k (m - k)`` the end zone. No other split is looked at;
2. the *focus window* of ``2 * _FOCUS + 1`` splits around the best, exactly
   (running sums of ``S_k``), with the per-block bound outside it;
3. the *end zone*, the last ``max(64, m0 // 32)`` splits and those among the
   pending points, exactly, and a proof that no split can be significant or
   that the window's best beats everything.

A base without a significant split keeps only bounds (:class:`_Quiet`): for
fewer than ``d`` pending points a bound that looks at no value, then (long
bases) the exact end zone. When no proof holds, or more than ``MAX_PENDING``
points are pending, the base is rebuilt at the current length from counts of
the pending points per place in the sorted base (O(m), no sort).

The floats compared and returned are computed by the same operations as
:func:`detector.scan.scan` on exact integers, so the split and the statistic
are bit-identical to a full run's; every bound carries a relative slack for
rounding (``SAFETY``).
"""

from __future__ import annotations

import bisect
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
from detector.tail_bounds import (
    LEVELS,
    MAX_PENDING,
    SAFETY,
    Blocks,
    certificate,
    end_bounds,
)

_MIN_BASE = 512  # shorter tails are rebuilt on every append: their O(m) is small
_FOCUS = 512  # half-width of the exactly evaluated window around the best split
_QUIET_Z = 4.5  # a base whose best |z| is below this is first proved to have no split
_QUIET_DIRECT = 4096  # such bases shorter than this are rescanned after a few points
_QUIET_MIN = 128  # quiet bases this long keep bounds (others are always rescanned)


@dataclass(frozen=True, slots=True)
class _Summary:
    """What the proofs need from the base scan (splits ``k = d .. m0 - d``).

    far: splits ``k < far`` are bounded, ``k >= far`` (the end zone) exact.
    best: the best split below ``far``; lo, hi: the focus window ``[lo, hi]`` around it.
    blocks: bounds on the scores below ``far`` with points pending (:class:`Blocks`).
    win_k, win_c: the window's splits (floats) and their base ``C_k``.
    end_c: base ``C_k`` of the end zone ``[far, m0]``.
    side: sorted base values of ``[0, lo)`` (``side_is_prefix``) or of
    ``[lo, m0)``, whichever is shorter: ``S_lo`` by binary search.
    star_side, star_is_prefix: the same for ``best``.
    lowest, highest: the certificate; with ``j`` pending points, ``S`` the sum
    of their ``S_best`` and ``i`` the first level with ``LEVELS[i] >= j``,
    ``best`` is the best split whenever ``lowest[i] < sign(C_best) S <
    highest[i]`` (see :func:`detector.tail_bounds.certificate`); empty when there is none.
    ends: for ``j = 1 .. d - 1`` pending points, the largest score a split of
    the end zone can have (every split is then within the base, so the base
    score plus ``j sqrt(k / (m0 - k))`` bounds it): with ``blocks``, a proof
    that no split is significant that looks at no value.
    """

    far: int
    best: int
    lo: int
    hi: int
    blocks: Blocks
    win_k: FloatArray
    win_c: FloatArray
    end_c: FloatArray
    side: FloatArray
    side_is_prefix: bool
    star_side: FloatArray
    star_is_prefix: bool
    lowest: list[float]
    highest: list[float]
    top_c: float
    ends: list[float]


@dataclass(frozen=True, slots=True)
class _Quiet:
    """What a base without a significant split keeps: scans only try to prove
    that nothing became significant, and the tail is rescanned when they cannot
    (a split that became significant has to be found exactly anyway).

    tops: for ``j`` pending points, the largest score below ``far`` (per-block
    bound, :class:`Blocks`). ends: the largest score in the end zone for ``j =
    1 .. d - 1``, which needs no value. far, end_c: base ``C_k`` of the end zone
    ``[far, m0]``, evaluated exactly for more pending points; None for a short
    base, which is rescanned instead (cheaper than the proofs).
    """

    tops: list[float]
    ends: list[float]
    far: int
    end_c: FloatArray | None


class Tail:
    """Rank statistics of the segment ``[start, n)`` of a growing series.

    Methods take ``xs``, the segment's current values (``x[start:n]``), which
    must extend the values the tail has seen.
    """

    __slots__ = (
        "_counts",
        "_den",
        "_end_cache",
        "_end_delta",
        "_end_folded",
        "_fixed",
        "_merged",
        "_pending",
        "_positions",
        "_quiet",
        "_star",
        "_summary",
        "_ties",
        "_win_delta",
        "_win_folded",
        "base",
        "ordered",
        "prefix",
        "start",
    )

    def __init__(self, start: int, prefix: RankPrefix, ordered: FloatArray) -> None:
        self.start = start
        self.prefix = prefix
        self.base = prefix.size
        self.ordered = ordered  # the base values, sorted
        self._summary: _Summary | None = None
        self._quiet: _Quiet | None = None
        self._star = (0, 0)  # (pending folded, sum of S_best over them)
        # (pending count, pending values sorted, their places among all values)
        self._merged: tuple[int, list[float], list[int]] | None = None
        self._den: tuple[FloatArray, int] = (np.empty(0), -1)  # window k (m - k), at m
        self._pending: list[float] = []  # values appended since the base
        self._positions: list[tuple[int, int]] = []  # their (left, right) places in ordered
        self._counts: dict[float, int] = {}  # how often each pending value occurs
        self._ties = prefix.ties  # sum(t**3 - t) at base + len(pending)
        self._win_delta: FloatArray | None = None  # sum of S_k over pending, window ...
        self._win_folded = 0  # ... over the first this-many pending points
        self._end_delta: FloatArray | None = None  # same for the end zone ...
        self._end_folded = 0  # ... over the first this-many pending points
        self._end_cache: tuple[int, FloatArray, FloatArray] | None = None  # at m
        # split k -> (sorted values of the first k base points, pending folded, sum S_k)
        self._fixed: dict[int, tuple[FloatArray, int, int]] = {}

    @classmethod
    def build(cls, start: int, xs: FloatArray) -> Tail:
        """A tail materialised from scratch (one sort)."""
        rp, ordered = rank_prefix_sorted(xs)
        return cls(start, rp, ordered)

    def current(self, xs: FloatArray) -> Tail:
        """This tail, or one rebuilt at ``len(xs)`` when too many points are pending."""
        return self if int(xs.shape[0]) - self.base <= MAX_PENDING else self.rebuilt(xs)

    def rebuilt(self, xs: FloatArray) -> Tail:
        """This tail materialised at length ``len(xs)`` (identical sums either way).

        Every base point's doubled mid-rank rises by 2 for each pending point
        below it and by 1 for each equal one, counted per place in the sorted
        base; the pending points' own ranks come from their places among the
        base and among each other. O(m + j**2), no search per base point.
        """
        m, m0 = int(xs.shape[0]), self.base
        if m == m0:
            return self
        self._absorb(xs)
        if m == m0 + 1:  # one point: a vector pass, no search
            v, place = self._pending[0], self._positions[0]
            ordered = np.empty(m0 + 1)
            left = place[0]
            ordered[:left] = self.ordered[:left]
            ordered[left] = v
            ordered[left + 1 :] = self.ordered[left:]
            return Tail(self.start, extend_prefix(xs[:m0], self.prefix, v, place), ordered)
        # A pending value v is below the base value at place s when at most s base
        # values are <= v (its right place), and not above it when at most s
        # are < v (its left place): counting both per place gives 2 #below + #equal.
        places = np.array(self._positions, dtype=np.int64)
        below = np.bincount(places[:, 1], minlength=m0 + 1).cumsum()
        below += np.bincount(places[:, 0], minlength=m0 + 1).cumsum()
        prefix = np.empty(m + 1, dtype=np.int64)
        prefix[0] = 0
        np.cumsum(below[self._sorted_places()], out=prefix[1 : m0 + 1])
        prefix[1 : m0 + 1] += self.prefix.prefix[1:]
        np.cumsum(self._pending_doubled_ranks(), out=prefix[m0 + 1 :])
        prefix[m0 + 1 :] += prefix[m0]
        new = np.sort(xs[m0:])
        ordered = np.insert(self.ordered, np.searchsorted(self.ordered, new), new)
        return Tail(self.start, RankPrefix(prefix, self._ties), ordered)

    # -- pending points -----------------------------------------------------------

    def _absorb(self, xs: FloatArray) -> None:
        """Record the points of ``xs`` after the base not seen yet, and the ties."""
        seen = self.base + len(self._pending)
        m = int(xs.shape[0])
        if m < seen:
            raise ValueError("a Tail only ever grows")
        ordered, counts = self.ordered, self._counts
        for v in xs[seen:m].tolist():
            right = int(ordered.searchsorted(v, "right"))
            left = right
            if right and ordered[right - 1] == v:
                left = int(ordered.searchsorted(v, "left"))
            t = right - left + counts.get(v, 0)  # equal values seen before this one
            self._ties += 3.0 * t * t + 3.0 * t  # a group of t growing to t + 1
            counts[v] = counts.get(v, 0) + 1
            self._pending.append(v)
            self._positions.append((left, right))

    def _pending_doubled_ranks(self) -> IntArray:
        """Doubled mid-ranks of the pending points among all ``m`` points."""
        p = np.array(self._pending)
        pos = np.array(self._positions, dtype=np.int64).reshape(-1, 2)
        doubled: IntArray = pos.sum(axis=1) + 1
        doubled += (p[None, :] < p[:, None]).sum(axis=1)
        doubled += (p[None, :] <= p[:, None]).sum(axis=1)
        return doubled

    def _moves_beside(self, side: FloatArray, is_prefix: bool, i: int) -> int:
        """``S_k`` of the ``i``-th pending point, from sorted base values of
        ``[0, k)`` (``is_prefix``) or of ``[k, m0)``."""
        v = self._pending[i]
        right = int(side.searchsorted(v, "right"))
        left = right
        if right and side[right - 1] == v:
            left = int(side.searchsorted(v, "left"))
        below_side = (int(side.shape[0]) - right) - left  # greater minus less in side
        if is_prefix:
            return below_side
        p_left, p_right = self._positions[i]
        return ((self.base - p_right) - p_left) - below_side

    def median(self, xs: FloatArray) -> float:
        """Median of ``xs`` (the value :func:`np.median` gives), from the sorted
        base and the pending points: O(j log m), no pass over the segment."""
        self._absorb(xs)
        m = int(xs.shape[0])
        half = m // 2
        if m % 2:
            return self._order_statistic(half)
        return (self._order_statistic(half - 1) + self._order_statistic(half)) / 2.0

    def _order_statistic(self, h: int) -> float:
        """The ``h``-th smallest value seen (0-based)."""
        pending = self._merged
        if pending is None or pending[0] != len(self._pending):
            values = sorted(self._pending)
            places = np.searchsorted(self.ordered, values).tolist()
            # place of each pending value in the merged order
            pending = self._merged = (
                len(values),
                values,
                [p + i for i, p in enumerate(places)],
            )
        _, values, places = pending
        i = bisect.bisect_left(places, h)
        if i < len(places) and places[i] == h:
            return float(values[i])
        return float(self.ordered[h - i])

    def ties(self, xs: FloatArray) -> float:
        """``sum(t**3 - t)`` over tie groups of ``xs`` (exact integer in a float)."""
        self._absorb(xs)
        return self._ties

    def centred_at(self, xs: FloatArray, k: int, below: FloatArray | None = None) -> float:
        """``C_k`` of ``xs``: twice the centred rank-sum of its first ``k`` points.

        ``below``: the first ``k`` values in increasing order, if the caller has
        them (saves a sort the first time ``k`` is asked for)."""
        m, m0 = int(xs.shape[0]), self.base
        if m == m0:
            return float(self.prefix.prefix[k] - k * (m + 1.0))
        self._absorb(xs)
        if k > m0:
            return float(self._pending_zone(m, k, k)[0])
        found = self._fixed.get(k)
        if found is None:
            if below is not None:
                found = (below, 0, 0)
            else:
                found = (np.sort(xs[:k] if k <= m0 - k else xs[k:m0]), 0, 0)
        side, folded, total = found
        is_prefix = side.shape[0] == k  # else the base values after k
        for i in range(folded, len(self._pending)):
            total += self._moves_beside(side, is_prefix, i)
        self._fixed[k] = (side, len(self._pending), total)
        return float(self.prefix.prefix[k] - k * (m0 + 1.0)) + total

    def _pending_zone(self, m: int, first: int, last: int) -> FloatArray:
        """``C_k`` for ``k = first .. last`` (all above the base) from the ranks of
        the points after ``k``: ``C_k = r (m + 1) - (doubled ranks of the last r)``."""
        doubled = self._pending_doubled_ranks()
        sums = np.cumsum(doubled[::-1])  # sums[r - 1]: the last r points
        r = np.arange(m - first, m - last - 1, -1, dtype=np.int64)
        return (r * (m + 1) - sums[r - 1]).astype(np.float64)

    # -- scan ------------------------------------------------------------------

    def scan_base(self, min_segment: int) -> ScanResult | None:
        """:func:`detector.scan.scan` of the base; also keeps the proof summary."""
        found = split_scores(self.prefix, min_segment)
        if found is None:
            return None
        centred, score, tie_factor = found
        best = int(np.argmax(score))
        result = scan_result(float(centred[best]), best + min_segment, self.base, tie_factor)
        if self._summary is None and self._quiet is None:
            self._summarise(centred, score, min_segment, abs(result.z) < _QUIET_Z)
        return result

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
        if sm is None or j > MAX_PENDING:
            return self._quiet_scan(xs, j, d, alpha), None
        self._absorb(xs)
        tie_factor = tie_factor_of(m, self._ties)
        if tie_factor is None:
            return True, None
        if j <= len(sm.ends) and alpha <= 0.3:  # nothing significant, whatever came
            z_top = math.sqrt(3.0 * max(sm.blocks.top(j), sm.ends[j - 1]) / tie_factor)
            if not ScanResult(0, z_top * SAFETY, m).significant(alpha, d):
                return True, None
        level = bisect.bisect_left(LEVELS, j)
        if level < len(sm.lowest):  # the certificate: no look at any split but the best
            moved = self._star_moves(sm)
            i = sm.best - sm.lo
            signed = moved if sm.win_c[i] > 0 else -moved
            # outside the window and in the end zone: the bounds for exactly j points
            need = max(sm.blocks.rest(j), sm.far * (m - sm.far) * SAFETY)
            low = max(sm.lowest[level], math.sqrt(need * sm.best * (m - sm.best)) - sm.top_c)
            if low < signed < sm.highest[level]:
                return True, scan_result(float(sm.win_c[i]) + moved, sm.best, m, tie_factor)
        # the window, exactly
        win_centred = sm.win_c + self._window_delta(xs, sm)
        win_score = win_centred * win_centred
        win_score /= self._window_den(sm, m)
        best_win = int(win_score.argmax())
        win_top = float(win_score[best_win])
        rest = sm.blocks.rest(j)
        if rest < win_top and sm.far * (m - sm.far) * SAFETY < win_top:
            # no split outside the window, nor in the end zone (k (m - k) at most), wins
            k = int(sm.win_k[best_win])
            return True, scan_result(float(win_centred[best_win]), k, m, tie_factor)
        # the end zone k = far .. m - d, exactly
        end_centred, end_score = self._end_scores(xs, sm, m, d)
        best_end = int(end_score.argmax())
        end_top = float(end_score[best_end])
        if alpha <= 0.3:
            z_top = math.sqrt(3.0 * max(sm.blocks.top(j), end_top) / tie_factor) * SAFETY
            if not ScanResult(0, z_top, m).significant(alpha, d):
                return True, None
        if rest >= max(win_top, end_top):
            return False, None
        if win_top >= end_top:  # the first of equal maxima, as in a full scan
            k = int(sm.win_k[best_win])
            return True, scan_result(float(win_centred[best_win]), k, m, tie_factor)
        return True, scan_result(float(end_centred[best_end]), sm.far + best_end, m, tie_factor)

    def _quiet_scan(self, xs: FloatArray, j: int, d: int, alpha: float) -> bool:
        """Whether a base without a significant split proves that nothing is
        significant with ``j`` points pending (else it is rescanned): first
        with the value-free bound of the end zone, then with its exact scores."""
        quiet = self._quiet
        if quiet is None or j >= len(quiet.tops) or alpha > 0.3:
            return False
        self._absorb(xs)
        m = int(xs.shape[0])
        tie_factor = tie_factor_of(m, self._ties)
        if tie_factor is None:
            return True
        if j <= len(quiet.ends):
            z_top = math.sqrt(3.0 * max(quiet.tops[j], quiet.ends[j - 1]) / tie_factor)
            if not ScanResult(0, z_top * SAFETY, m).significant(alpha, d):
                return True
        if quiet.end_c is None:
            return False
        end_top = self._end_top(xs, quiet, m, d)
        z_top = math.sqrt(3.0 * max(quiet.tops[j], end_top) / tie_factor)
        return not ScanResult(0, z_top * SAFETY, m).significant(alpha, d)

    def _star_moves(self, sm: _Summary) -> float:
        """Sum of ``S_best`` over the pending points (running, exact)."""
        folded, total = self._star
        for i in range(folded, len(self._pending)):
            total += self._moves_beside(sm.star_side, sm.star_is_prefix, i)
        self._star = (len(self._pending), total)
        return float(total)

    def _window_den(self, sm: _Summary, m: int) -> FloatArray:
        """``k (m - k)`` over the window (kept and stepped: the series grows by one)."""
        den, at = self._den
        if at != m:
            if at == m - 1:
                den += sm.win_k  # exact: integers below 2**53
            else:
                den = sm.win_k * (m - sm.win_k)
            self._den = (den, m)
        return den

    def _window_delta(self, xs: FloatArray, sm: _Summary) -> FloatArray:
        """Sum over pending points of ``S_k`` for the window's splits (running)."""
        delta = self._win_delta
        lo, hi = sm.lo, sm.hi
        if delta is None:
            delta = self._win_delta = np.zeros(hi - lo + 1)
        window = xs[lo:hi]
        row = np.empty(hi - lo + 1)
        signs = row[1:]
        for i in range(self._win_folded, len(self._pending)):
            row[0] = self._moves_beside(sm.side, sm.side_is_prefix, i)
            np.subtract(window, self._pending[i], out=signs)
            np.sign(signs, out=signs)
            np.cumsum(row, out=row)
            delta += row
        self._win_folded = len(self._pending)
        return delta

    def _end_scores(
        self, xs: FloatArray, sm: _Summary | _Quiet, m: int, d: int
    ) -> tuple[FloatArray, FloatArray]:
        """``C_k`` and scores of the end zone ``k = far .. m - d`` (kept per ``m``)."""
        cached = self._end_cache
        if cached is not None and cached[0] == m:
            return cached[1], cached[2]
        centred = self._end_centred(xs, sm, m, d)
        score = centred * centred
        k = float_positions(m - d)[sm.far :]
        score /= k * (m - k)
        self._end_cache = (m, centred, score)
        return centred, score

    def _end_top(self, xs: FloatArray, sm: _Summary | _Quiet, m: int, d: int) -> float:
        return float(self._end_scores(xs, sm, m, d)[1].max())

    def _end_centred(self, xs: FloatArray, sm: _Summary | _Quiet, m: int, d: int) -> FloatArray:
        """``C_k(m)`` for the end zone ``k = far .. m - d``."""
        m0 = self.base
        assert sm.end_c is not None
        delta = self._end_delta
        if delta is None:
            delta = self._end_delta = np.zeros(m0 - sm.far + 1)
        zone = xs[sm.far : m0]
        row = np.empty(m0 - sm.far + 1)
        for i in range(self._end_folded, len(self._pending)):
            v = self._pending[i]
            p_left, p_right = self._positions[i]
            np.sign(zone - v, out=row[1:])
            row[0] = float((m0 - p_right) - p_left) - float(row[1:].sum())
            np.cumsum(row, out=row)
            delta += row
        self._end_folded = len(self._pending)
        last = min(m - d, m0)
        centred = sm.end_c[: last - sm.far + 1] + delta[: last - sm.far + 1]
        if m - d > m0:
            centred = np.concatenate((centred, self._pending_zone(m, m0 + 1, m - d)))
        return centred

    def _summarise(self, centred: FloatArray, score: FloatArray, d: int, quiet: bool) -> None:
        m0 = self.base
        if m0 < (_QUIET_MIN if quiet else _MIN_BASE):
            return
        far = m0 - max(64, m0 // 32)
        body = score[: far - d]  # splits d .. far - 1
        kf = int(np.argmax(body)) + d
        if quiet:  # bounds, and the end zone exactly if long; else a rescan
            end_c = None
            if m0 >= _QUIET_DIRECT:
                end_c = self.prefix.prefix[far:] - float_positions(m0)[far:] * (m0 + 1.0)
            tops = Blocks.of(body, kf, kf, d, m0, MAX_PENDING if end_c is not None else d).tops
            self._quiet = _Quiet(tops, end_bounds(self.prefix, far, d), far, end_c)
            return
        lo, hi = max(d, kf - _FOCUS), min(far - 1, kf + _FOCUS)
        pos = float_positions(m0)
        win_k = pos[lo : hi + 1]
        prefix = self.prefix.prefix
        win_c = prefix[lo : hi + 1] - win_k * (m0 + 1.0)
        end_c = prefix[far:] - pos[far:] * (m0 + 1.0)
        blocks = Blocks.of(body, lo, hi, d, m0)
        # values of the shorter side of lo and of kf, sorted
        places = self._sorted_places()
        side_is_prefix = lo <= m0 - lo
        side = self._sorted_part(places, lo, side_is_prefix)
        star_is_prefix = kf <= m0 - kf
        star_side = self._sorted_part(places, kf, star_is_prefix)
        lowest, highest = certificate(win_k, win_c, kf, lo, m0)
        self._summary = _Summary(
            far,
            kf,
            lo,
            hi,
            blocks,
            win_k,
            win_c,
            end_c,
            side,
            side_is_prefix,
            star_side,
            star_is_prefix,
            lowest,
            highest,
            abs(float(win_c[kf - lo])),
            end_bounds(self.prefix, far, d),
        )

    def _sorted_places(self) -> IntArray:
        """Each base point's place in ``ordered``, from its doubled mid-rank: a tie
        group at places ``s .. s + t - 1`` has doubled mid-rank ``2 s + t + 1``,
        and ``(doubled - 1) // 2`` is one of its places (the tail keeps no raw
        segment, only the rank prefix and the sorted values)."""
        places: IntArray = np.diff(self.prefix.prefix)
        places -= 1
        places //= 2
        return places

    def _sorted_part(self, places: IntArray, k: int, prefix_side: bool) -> FloatArray:
        """Base values of ``[0, k)`` or ``[k, m0)`` in increasing order, in O(m0):
        a count per place, then each sorted value repeated that often."""
        picked = places[:k] if prefix_side else places[k:]
        counts = np.bincount(picked, minlength=self.base)
        return np.repeat(self.ordered, counts)
