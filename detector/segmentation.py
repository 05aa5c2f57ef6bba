"""Binary segmentation on the rank scan, with a merge pass, memoised by segment.

Every quantity the search uses is a pure function of the values inside one
segment ``[a, b)`` (or one triple ``(prev, cut, next)``), so results are cached
by those bounds. Appending points only changes segments that end at the series
end; in incremental mode those are :class:`detector.tail.Tail` objects whose
scan is proved unchanged or recomputed exactly (see :mod:`detector.tail`).
This is what makes incremental detection both cheap and identical to a full run.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from detector.drift import Ramp, ramp_or_steps, sharp
from detector.excursion import Window, block_starts, refine, scan_blocks, window_pvalue
from detector.localise import MOVE, REACH, relocate
from detector.scan import FloatArray, RankPrefix, ScanResult, rank_prefix, scan
from detector.scan import scan_pvalue as _scan_pvalue
from detector.tail import Tail
from detector.types import Thresholds

_MAD_TO_SIGMA = 1.482602218505602  # 1 / Phi^-1(3/4): MAD of a normal -> sigma
#: rounds of the excursion search: each looks inside the segments the last one made
EXCURSION_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class CutStats:
    """Evidence for one cut between its neighbours ``prev < cut < next``."""

    pvalue: float
    effect_sigma: float
    before: float
    after: float


class Segmenter:
    """Change-point search over a growing series (not thread-safe).

    ``values`` must be a 1-D finite float64 array; the segmenter keeps a
    reference and the caller must only ever extend it (never modify the prefix
    already seen). ``incremental=True`` keeps the segments that end at the series
    end as :class:`detector.tail.Tail` objects between runs, so that a run after
    appending a few points does not rescan them; results are identical.
    """

    def __init__(self, thresholds: Thresholds, *, incremental: bool = False) -> None:
        self.th = thresholds
        self.incremental = incremental
        self._live: dict[int, Tail] = {}  # incremental: segments [a, n) of this run
        self._old_live: dict[int, Tail] = {}
        self.x: FloatArray = np.empty(0, dtype=np.float64)
        self._scans: dict[tuple[int, int], int | None] = {}
        self._cuts: dict[tuple[int, int, int], CutStats] = {}
        self._medians: dict[tuple[int, int], float] = {}
        self._sorted_segments: dict[tuple[int, int, int], FloatArray] = {}
        self._tails: dict[int, RankPrefix] = {}  # segments [a, n) of this run
        self._used: set[tuple[int, ...]] = set()
        # incremental: the last run's scans of segments [a, n) (start -> cut or
        # None), and its result when its merge pass removed no cut
        self._chain: dict[int, int | None] = {}
        self._kept: list[tuple[int, CutStats]] | None = None
        # excursions: per segment of the steps' result, and per scanned block
        self._excursion_memo: dict[tuple[int, int], list[int]] = {}
        self._block_memo: dict[tuple[int, int], Window | None] = {}
        self._blocks_used: set[tuple[int, int]] = set()
        self._last_n = 0
        self._relocation_memo: dict[tuple[int, int, int], int] = {}
        self._drift_memo: dict[tuple[int, ...], Ramp | None] = {}
        self.drifts: list[tuple[Ramp, float]] = []

    def run(self, x: FloatArray) -> list[tuple[int, CutStats]]:
        """Change points of ``x`` (which extends the previous ``x``) with their stats:
        binary segmentation and merge, then excursions inside its segments."""
        steps = self._run_steps(x)
        found = self._relocated(self._with_excursions(steps))
        found, self.drifts = self._split_drifts(found)
        self._old_live = {}
        return found

    # -- localisation (detector.localise) and drifts (detector.drift) -------------

    def _relocated(self, cuts: list[tuple[int, CutStats]]) -> list[tuple[int, CutStats]]:
        """Each cut re-placed where the level changes (at most 2 points away);
        the evidence of moved cuts and their neighbours recomputed."""
        n = int(self.x.shape[0])
        bounds = [0, *(c for c, _ in cuts), n]
        memo = self._relocation_memo
        # the fit sees at most REACH points past the cut: beyond, the next
        # neighbour (or the series end) does not matter
        keys = [
            (bounds[i - 1], bounds[i], min(bounds[i + 1], bounds[i] + REACH + MOVE + 1))
            for i in range(1, len(bounds) - 1)
        ]
        todo = [key for key in keys if key not in memo]
        memo.update(zip(todo, relocate(self.x, todo, self.th.min_segment), strict=True))
        moved = [memo[key] for key in keys]
        self._relocation_memo = {key: memo[key] for key in keys if key[2] != n}
        if moved == bounds[1:-1]:
            return cuts
        new = [0, *moved, n]
        return [(new[i], self._cut(new[i - 1], new[i], new[i + 1])) for i in range(1, len(new) - 1)]

    def _split_drifts(
        self, cuts: list[tuple[int, CutStats]]
    ) -> tuple[list[tuple[int, CutStats]], list[tuple[Ramp, float]]]:
        """Runs of same-direction cuts that a ramp explains better, as drifts
        ``(ramp, pvalue)``; the other cuts stay steps."""
        n = int(self.x.shape[0])
        index = [0, *(c for c, _ in cuts), n]  # index[t + 1] is cut t
        used: dict[tuple[int, ...], Ramp | None] = {}
        steps: list[tuple[int, CutStats]] = []
        drifts: list[tuple[Ramp, float]] = []
        i = 0
        while i < len(cuts):
            j = i + 1
            up = cuts[i][1].after > cuts[i][1].before
            while j < len(cuts) and (cuts[j][1].after > cuts[j][1].before) == up:
                j += 1
            ramp, lo, hi = None, i, j
            if not all(self._sharp(index[t], cuts[t], index[t + 2]) for t in range(i, j)):
                ramp = self._ramp(index[i : j + 2], used)
                # a sharp step at an end of the run (the larger shift) may sit
                # beside a ramp: peel it and fit the rest, at most 3 times
                for _ in range(3):
                    if ramp is not None or hi - lo < 2:
                        break
                    if cuts[lo][1].effect_sigma >= cuts[hi - 1][1].effect_sigma:
                        lo += 1
                    else:
                        hi -= 1
                    ramp = self._ramp(index[lo : hi + 2], used)
            if ramp is None:
                steps.extend(cuts[i:j])
            else:
                steps.extend([*cuts[i:lo], *cuts[hi:j]])
                p = min(1.0, (hi - lo) * min(st.pvalue for _, st in cuts[lo:hi]))
                drifts.append((ramp, p))
            i = j
        self._drift_memo = used
        steps.sort(key=lambda cut: cut[0])
        return steps, drifts

    def _ramp(self, bounds: list[int], used: dict[tuple[int, ...], Ramp | None]) -> Ramp | None:
        """:func:`detector.drift.ramp_or_steps`, memoised by bounds."""
        key = tuple(bounds)
        if key in self._drift_memo:
            ramp = self._drift_memo[key]
        else:
            ramp = ramp_or_steps(self.x, bounds, self.th.drift_min_length)
        if key[-1] != int(self.x.shape[0]):
            used[key] = ramp
        return ramp

    def _sharp(self, prev: int, cut: tuple[int, CutStats], nxt: int) -> bool:
        index, st = cut
        return sharp(self.x, prev, index, nxt, st.before, st.after, self.th.drift_min_length // 2)

    def _run_steps(self, x: FloatArray) -> list[tuple[int, CutStats]]:
        old_n = int(self.x.shape[0])
        self.x = x
        live, self._live = self._live, {}
        self._old_live = live if x.shape[0] >= old_n else {}
        if self.incremental and x.shape[0] > old_n and self._kept is not None:
            unchanged = self._rerun_tails(old_n)
            if unchanged is not None:
                return unchanged
        self._used = set()
        self._tails = {}
        self._chain = {}
        found = self._split()
        cuts = self._merge(found)
        self._kept = cuts if len(cuts) == len(found) else None
        self._forget()
        return cuts

    def _rerun_tails(self, old_n: int) -> list[tuple[int, CutStats]] | None:
        """The result after appending, when only the segments ending at the end
        need a look; None when a full search is needed.

        Segments that do not end at the series end are unchanged, and so are
        their cached scans. If every segment ``[a, n)`` of the last search still
        splits at the same point (or still does not split), the search visits
        the same segments and finds the same cuts. If the last merge pass
        removed nothing, every cut but the last keeps its (cached, passing)
        evidence; when the last cut's new evidence passes too, nothing is
        removed now either. Both shortcuts give exactly the full run's result.
        """
        n = int(self.x.shape[0])
        for a, cut in self._chain.items():
            split = self._scan(a, n)
            if (None if split is None else a + split) != cut:
                return None
        kept = self._kept
        assert kept is not None
        if kept:
            last = kept[-1][0]
            prev = kept[-2][0] if len(kept) > 1 else 0
            stats = self._cut(prev, last, n)
            if self._badness(stats) > 0.0:
                return None
            self._cuts.pop((prev, last, old_n), None)
            self._medians.pop((last, old_n), None)
            kept = [*kept[:-1], (last, stats)]
        for a in self._chain:
            self._scans.pop((a, old_n), None)
        self._kept = kept
        return list(kept)

    # -- excursions (detector.excursion) ---------------------------------------

    def _with_excursions(self, steps: list[tuple[int, CutStats]]) -> list[tuple[int, CutStats]]:
        """``steps`` plus the significant excursions inside its segments, the
        union re-judged by the merge pass (each excursion end between its
        neighbours, with the same tests as every cut)."""
        n = int(self.x.shape[0])
        if self.incremental and n != self._last_n:  # evidence ending at the old end is stale
            old = self._last_n
            self._cuts = {k: v for k, v in self._cuts.items() if k[2] != old}
            self._medians = {k: v for k, v in self._medians.items() if k[1] != old}
        self._last_n = n
        self._blocks_used = set()
        cuts, used = steps, {}
        for _ in range(EXCURSION_ROUNDS):  # excursions inside excursions' segments
            bounds = [0, *(c for c, _ in cuts), n]
            segments = list(itertools.pairwise(bounds))
            todo = [seg for seg in segments if seg not in self._excursion_memo]
            self._windows([blk for a, b in todo for blk in self._blocks(a, b)])
            extra: list[int] = []
            for a, b in segments:
                found = self._excursion_memo.get((a, b))
                if found is None:
                    found = self._excursion_memo[(a, b)] = self._excursions(a, b)
                used[(a, b)] = found
                extra.extend(found)
            if not extra:
                break
            merged = self._merge(sorted({*bounds[1:-1], *extra}))
            if [c for c, _ in merged] == bounds[1:-1]:
                break
            cuts = merged
        self._excursion_memo = used
        memo = self._block_memo
        self._block_memo = {k: memo[k] for k in self._blocks_used}
        return cuts

    def _excursions(self, a: int, b: int) -> list[int]:
        """Both ends of every significant excursion inside segment ``[a, b)``."""
        th = self.th
        blocks = self._blocks(a, b)
        if not blocks:
            return []
        windows = self._windows(blocks)
        ranked = sorted(
            (w.z, blk, w)
            for blk, w in zip(blocks, windows, strict=True)
            if w is not None and window_pvalue(w.z, b - a) < th.alpha
        )
        taken: list[tuple[int, int]] = []
        for _, (lo, hi), w in reversed(ranked):
            s, e = refine(self.x, lo, hi, w, th.min_segment)
            if s - a < th.min_segment or b - e < th.min_segment:
                continue
            if any(s < e2 + th.min_segment and s2 < e + th.min_segment for s2, e2 in taken):
                continue
            taken.append((s, e))
        return sorted(i for pair in taken for i in pair)

    def _blocks(self, a: int, b: int) -> list[tuple[int, int]]:
        """Blocks scanned for excursions in segment ``[a, b)`` (none when too short)."""
        return [] if b - a < 3 * self.th.min_segment else block_starts(a, b)

    def _windows(self, blocks: list[tuple[int, int]]) -> list[Window | None]:
        """Best window of each block, the new ones scanned in one batch, memoised
        by absolute bounds (a block's values never change)."""
        memo = self._block_memo
        self._blocks_used.update(blocks)
        todo = list(dict.fromkeys(blk for blk in blocks if blk not in memo))
        if todo:
            found = scan_blocks(self.x, todo, self.th.min_segment, self.th.max_autocorrelation)
            memo.update(zip(todo, found, strict=True))
        return [memo[blk] for blk in blocks]

    # -- search ----------------------------------------------------------------

    def _split(self) -> list[int]:
        """Binary segmentation: split while the scan is significant (Vostrikova 1981)."""
        n = int(self.x.shape[0])
        found: list[int] = []
        stack = [(0, n)]
        while stack:
            a, b = stack.pop()
            split = self._scan(a, b)
            if b == n:
                self._chain[a] = None if split is None else a + split
            if split is None:
                continue
            cut = a + split
            found.append(cut)
            stack.extend(((a, cut), (cut, b)))
        return sorted(found)

    def _merge(self, cuts: list[int]) -> list[tuple[int, CutStats]]:
        """Drop the weakest cut that fails a threshold until all pass.

        Like Otava's merge step (Fleming et al. 2023), each cut is re-judged
        against its current neighbours only, so evidence that was split across
        spurious neighbours is pooled again after they go.
        """
        n = int(self.x.shape[0])
        while cuts:
            bounds = [0, *cuts, n]
            stats = [self._cut(bounds[i], bounds[i + 1], bounds[i + 2]) for i in range(len(cuts))]
            worst, badness = -1, 0.0
            for i, st in enumerate(stats):
                score = self._badness(st)
                if score > badness:
                    worst, badness = i, score
            if worst < 0:
                return list(zip(cuts, stats, strict=True))
            cuts = cuts[:worst] + cuts[worst + 1 :]
        return []

    def _badness(self, st: CutStats) -> float:
        """0 when the cut passes every threshold, else how far it fails (larger: worse)."""
        th = self.th
        bad = 0.0
        if st.pvalue >= th.alpha:
            bad = max(bad, 1.0 + math.log10(st.pvalue / th.alpha))
        if st.effect_sigma < th.min_effect_sigma:
            bad = max(bad, 1.0 + (th.min_effect_sigma - st.effect_sigma) / th.min_effect_sigma)
        if th.min_rel_change > 0.0:
            level = abs(st.before)
            rel = abs(st.after - st.before) / level if level > 0 else math.inf
            if rel < th.min_rel_change:
                bad = max(bad, 1.0 + (th.min_rel_change - rel) / th.min_rel_change)
        return bad

    # -- memoised pieces ---------------------------------------------------------

    def _prefix(self, a: int, b: int) -> RankPrefix:
        n = int(self.x.shape[0])
        if b != n:
            return rank_prefix(self.x[a:b])
        cached = self._tails.get(a)
        if cached is None:
            cached = self._tails[a] = rank_prefix(self.x[a:b])
        return cached

    def _scan(self, a: int, b: int) -> int | None:
        """Offset of the significant best split of ``[a, b)``, or None."""
        key = (a, b)
        self._used.add(key)
        if key not in self._scans:
            if self.incremental and b == self.x.shape[0]:
                found = self._tail_scan(a)
            else:
                found = scan(self._prefix(a, b), self.th.min_segment)
            keep = found is not None and found.significant(self.th.alpha, self.th.min_segment)
            self._scans[key] = found.split if keep and found is not None else None
        return self._scans[key]

    def _tail(self, a: int) -> Tail:
        """The live tail ``[a, n)``, carried over from the previous run if possible."""
        tail = self._live.get(a)
        if tail is None:
            old = self._old_live.get(a)
            n = int(self.x.shape[0])
            xs = self.x[a:n]
            tail = old.current(xs) if old is not None and old.base <= n - a else Tail.build(a, xs)
            self._live[a] = tail
        return tail

    def _tail_scan(self, a: int) -> ScanResult | None:
        tail = self._tail(a)
        xs = self.x[a:]
        proved, found = tail.try_scan(xs, self.th.min_segment, self.th.alpha)
        if not proved:
            tail = self._live[a] = tail.rebuilt(xs)
            found = tail.scan_base(self.th.min_segment)
        return found

    def _median(self, a: int, b: int) -> float:
        key = (a, b)
        self._used.add(key)
        if key not in self._medians:
            self._medians[key] = fast_median(self.x[a:b])
        return self._medians[key]

    def _cut(self, prev: int, cut: int, nxt: int) -> CutStats:
        key = (prev, cut, nxt)
        self._used.add(key)
        found = self._cuts.get(key)
        if found is None:
            found = self._cut_stats(prev, cut, nxt)
            self._cuts[key] = found
        return found

    def _cut_stats(self, prev: int, cut: int, nxt: int) -> CutStats:
        m, k = nxt - prev, cut - prev
        if self.incremental and nxt == self.x.shape[0]:
            tail, xs = self._tail(prev), self.x[prev:nxt]
            ties, centred = tail.ties(xs), tail.centred_at(xs, k, self._sorted(prev, cut))
        else:
            rp = self._prefix(prev, nxt)
            ties, centred = rp.ties, float(rp.prefix[k] - k * (m + 1.0))
        tie_factor = (m + 1.0) - ties / (m * (m - 1.0))
        z = 0.0
        if tie_factor > 1e-12 * (m + 1.0):
            z = 0.5 * centred / math.sqrt(k * (m - k) / 12.0 * tie_factor)
        before = self._median(prev, cut)
        right = self._live.get(cut) if self.incremental and nxt == self.x.shape[0] else None
        after = self._median(cut, nxt) if right is None else right.median(self.x[cut:nxt])
        # the noise that judges the cut: residuals of the points next to it
        window = self.th.noise_window
        lo, hi = max(prev, cut - window), min(nxt, cut + window)
        resid = np.empty(hi - lo)
        np.subtract(self.x[lo:cut], before, out=resid[: cut - lo])
        np.subtract(self.x[cut:hi], after, out=resid[cut - lo :])
        sigma = _robust_sigma(resid)
        shift = abs(after - before)
        effect = shift / sigma if sigma > 0 else (math.inf if shift > 0 else 0.0)
        if effect < self.th.undeflated_effect:
            z *= _autocorrelation_deflation(resid, sigma, self.th.max_autocorrelation)
        pvalue = _scan_pvalue(abs(z), m, self.th.min_segment)
        return CutStats(pvalue, effect, before, after)

    def _sorted(self, a: int, b: int) -> FloatArray:
        """The values of ``[a, b)`` in increasing order (memoised; incremental mode)."""
        key = (a, b, -1)
        self._used.add(key)
        found = self._sorted_segments.get(key)
        if found is None:
            found = self._sorted_segments[key] = np.sort(self.x[a:b])
        return found

    def _forget(self) -> None:
        """Keep only cache entries used by the latest run (bounded memory)."""
        used = self._used
        self._scans = {k: v for k, v in self._scans.items() if k in used}
        self._cuts = {k: v for k, v in self._cuts.items() if k in used}
        self._medians = {k: v for k, v in self._medians.items() if k in used}
        self._sorted_segments = {k: v for k, v in self._sorted_segments.items() if k in used}
        self._old_live = {}


def _robust_sigma(resid: FloatArray) -> float:
    """Robust noise sigma of residuals around segment medians.

    MAD scaled to a normal sigma; falls back to the mean absolute deviation
    (× sqrt(pi/2)) when more than half the residuals are 0 (quantised data).
    """
    dev = np.abs(resid)
    mad = fast_median(dev)
    if mad > 0:
        return _MAD_TO_SIGMA * mad
    return float(np.mean(dev)) * math.sqrt(math.pi / 2.0)


def _autocorrelation_deflation(resid: FloatArray, sigma: float, max_rho: float) -> float:
    """Factor ``sqrt((1 - rho) / (1 + rho))`` for lag-1 autocorrelation ``rho > 0``.

    Positively autocorrelated residuals (trends, seasonality, slow drift) carry
    fewer independent observations than points; scaling the statistic by the
    AR(1) long-run variance ratio keeps the test honest on such series (e.g.
    Antoch, Hušková & Prášková 1997). Residuals are winsorised at 3 sigma so that
    outliers neither create nor hide correlation. Independent benchmark noise
    gives rho near 0 and a factor near 1. ``rho`` is capped at ``max_rho``
    (``Thresholds.max_autocorrelation``): a further, unmodelled change inside
    the two segments also shows up as lag-1 correlation of the residuals, and
    an uncapped estimate let such segments deflate away their own evidence.
    """
    if resid.shape[0] < 3 or sigma <= 0:
        return 1.0
    # In noise units: rho does not depend on the scale, and the squares of raw
    # residuals near 1e154 overflow.
    w = resid / sigma
    np.minimum(w, 3.0, out=w)  # winsorise (the values of np.clip)
    np.maximum(w, -3.0, out=w)
    w -= np.add.reduce(w) / w.shape[0]  # the value of w.mean(), less overhead
    denom = float(np.dot(w, w))
    if denom <= 0:
        return 1.0
    rho = float(np.dot(w[1:], w[:-1])) / denom
    if rho <= 0:
        return 1.0
    rho = min(rho, max_rho)
    return math.sqrt((1.0 - rho) / (1.0 + rho))


def fast_median(v: FloatArray) -> float:
    """Median of a non-empty 1-D array (same value as ``np.median``, less overhead)."""
    m = int(v.shape[0])
    half = m // 2
    if m % 2:  # two (equal) kth: numpy 2.x selects several kth faster than one
        return float(np.partition(v, (half, half))[half])
    part = np.partition(v, (half - 1, half))
    return (float(part[half - 1]) + float(part[half])) / 2.0
