"""Epidemic (two-split) rank scan: short excursions inside long segments.

A single-split scan over a long segment is nearly blind to a short stretch
that leaves the level and comes back (a regression landed, then reverted): its
CUSUM rises and falls within a few points. Here every window ``[s, s + L)`` of a
set of lengths is compared with the rest of a *block* of :data:`BLOCK` points by
the standardised Wilcoxon rank-sum of the window (the epidemic alternative of
Levin & Kline 1985, with ranks as in Pettitt 1979). Blocks lie on a fixed grid of
absolute positions (every :data:`STEP` points) inside one segment, plus the two
blocks flush with the segment's ends, so a block's result is a function of its
own values only: appending points never changes it, which keeps incremental
detection exact and cheap. All blocks of a run are scanned in one vectorised
pass (O(block · lengths) per block, O(n) blocks).

Significance: the best window's ``|z|`` is deflated for AR(1) noise (ρ from the
lag-1 correlation of first differences of the ranks, which a level shift barely
touches) and turned into a p-value by a Bonferroni-style count of effectively
independent windows, calibrated by simulation (see ``detector/README.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detector.scan import FloatArray, IntArray

BLOCK = 256
STEP = 176  # blocks overlap by 80 points: every window of LENGTHS lies inside one
#: window lengths tried (those of at least ``min_segment`` points); ~20 % apart;
#: a window of length L starts every ``L // 5`` points (``refine`` finds the ends)
LENGTHS = (8, 10, 12, 14, 17, 20, 24, 28, 34, 40, 48, 57, 68)
#: effectively independent windows per position (simulated null, see README)
WINDOWS_PER_POINT = 0.012
_SQRT2 = math.sqrt(2.0)
REACH = 8  # refine: how far each end of the best window may move
_INDEX: dict[tuple[int, int], tuple[IntArray, IntArray, FloatArray, IntArray]] = {}


@dataclass(frozen=True, slots=True)
class Window:
    """Best window of one block: absolute ``[start, end)``, deflated ``|z|``."""

    start: int
    end: int
    z: float


def block_starts(a: int, b: int) -> list[tuple[int, int]]:
    """The blocks scanned inside segment ``[a, b)``: grid blocks fully inside it
    and the two blocks flush with its ends (or the segment itself when short)."""
    if b - a <= BLOCK:
        return [(a, b)]
    first = -(-a // STEP) * STEP
    out = [(a, a + BLOCK)]
    out += [(s, s + BLOCK) for s in range(first, b - BLOCK + 1, STEP) if s != a]
    if out[-1] != (b - BLOCK, b):
        out.append((b - BLOCK, b))
    return out


def _index(size: int, min_segment: int) -> tuple[IntArray, IntArray, FloatArray, IntArray]:
    """Window start/end offsets, the squared standardising scale of each length and the
    length of each window, for blocks of ``size`` points."""
    key = (size, min_segment)
    found = _INDEX.get(key)
    if found is None:
        starts, ends, scale, lens = [], [], [], []
        for length in LENGTHS:
            if length < min_segment or size - length < 2 * min_segment:
                continue
            s = np.arange(min_segment, size - min_segment - length + 1, max(1, length // 5))
            starts.append(s)
            ends.append(s + length)
            sd = math.sqrt(length * (size - length) * (size + 1.0) / 12.0)
            scale.append(np.full(s.shape[0], 0.25 / (sd * sd)))
            lens.append(np.full(s.shape[0], length))
        if starts:
            found = (
                np.concatenate(starts),
                np.concatenate(ends),
                np.concatenate(scale),
                np.concatenate(lens),
            )
        else:
            empty = np.empty(0, dtype=np.int64)
            found = (empty, empty, np.empty(0), empty)
        if len(_INDEX) > 512:
            _INDEX.clear()
        _INDEX[key] = found
    return found


def doubled_midranks(rows: FloatArray) -> IntArray:
    """Twice the mid-ranks of each row (ties share their mean rank)."""
    r, size = rows.shape
    order = np.argsort(rows, axis=1)  # ties share a mid-rank: any order of ties will do
    ordered = np.take_along_axis(rows, order, axis=1)
    pos = np.broadcast_to(np.arange(size), (r, size))
    new = np.ones((r, size), dtype=bool)
    np.not_equal(ordered[:, 1:], ordered[:, :-1], out=new[:, 1:])
    first = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    last_flag = np.ones((r, size), dtype=bool)
    last_flag[:, :-1] = new[:, 1:]
    rev = np.where(last_flag, pos, size)[:, ::-1]
    last = np.minimum.accumulate(rev, axis=1)[:, ::-1]
    ranks = np.empty((r, size), dtype=np.int64)
    np.put_along_axis(ranks, order, first + last + 2, axis=1)
    return ranks


def scan_blocks(
    x: FloatArray, blocks: list[tuple[int, int]], min_segment: int, max_rho: float
) -> list[Window | None]:
    """Best deflated window of each block: the full-size blocks in one
    vectorised pass with per-window constants, shorter ones (short segments)
    in a second pass padded with +inf, which ranks after every real value and
    so leaves the real values' ranks alone (windows into the padding are
    masked out)."""
    out: dict[int, Window | None] = {}
    full = [i for i, (a, b) in enumerate(blocks) if b - a == BLOCK]
    short = [i for i, (a, b) in enumerate(blocks) if b - a != BLOCK]
    for group in (full, short):
        if group:
            found = _scan_group(x, [blocks[i] for i in group], min_segment, max_rho)
            out.update(zip(group, found, strict=True))
    return [out[i] for i in range(len(blocks))]


def _scan_group(
    x: FloatArray, blocks: list[tuple[int, int]], min_segment: int, max_rho: float
) -> list[Window | None]:
    sizes = np.array([b - a for a, b in blocks], dtype=np.int64)
    width = int(sizes.max())
    s_off, e_off, _, _ = _index(width, min_segment)
    if s_off.shape[0] == 0:
        return [None] * len(blocks)
    starts = np.array([a for a, _ in blocks], dtype=np.int64)
    cols = np.arange(width)
    idx = np.minimum(starts[:, None] + cols, x.shape[0] - 1)
    if (sizes == width).all():
        rows = x[idx]
    else:
        rows = np.where(cols[None, :] < sizes[:, None], x[idx], np.inf)
    ranks = doubled_midranks(rows)
    prefix = np.zeros((len(blocks), width + 1), dtype=np.int64)
    np.cumsum(ranks, axis=1, out=prefix[:, 1:])
    if (sizes == width).all():
        score = _two_sided_full(prefix, width, min_segment)
    else:
        score = two_sided(prefix, sizes, s_off, e_off, min_segment)
    best = np.argmax(score, axis=1)
    zbest = score[np.arange(len(blocks)), best]
    deflate = _deflation(ranks.astype(np.float64), sizes, max_rho)
    out: list[Window | None] = []
    for i, (a, _) in enumerate(blocks):
        j = int(best[i])
        if zbest[i] <= 0.0:
            out.append(None)
            continue
        out.append(Window(a + int(s_off[j]), a + int(e_off[j]), float(zbest[i]) * deflate[i]))
    return out


_CONSTANTS: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}


def _two_sided_full(prefix: IntArray, size: int, min_segment: int) -> np.ndarray:
    """:func:`two_sided` for rows of one size, with the per-window constants
    computed once per size and float32 arithmetic (ranks sums below 2**24 are
    exact; the score only ranks windows and feeds a p-value)."""
    key = (size, min_segment)
    found = _CONSTANTS.get(key)
    if found is None:
        s_off, e_off, _, _ = _index(size, min_segment)
        nw = (e_off - s_off).astype(np.float64)
        nl = s_off.astype(np.float64)
        nr = size - e_off.astype(np.float64)
        var = (size * size - 1.0) / 3.0
        found = tuple(
            a.astype(np.float32)
            for a in (
                1.0 / nw,
                1.0 / nl,
                1.0 / nr,
                1.0 / np.sqrt(var * (1.0 / nw + 1.0 / nl)),
                1.0 / np.sqrt(var * (1.0 / nw + 1.0 / nr)),
            )
        )
        _CONSTANTS[key] = found
    inv_nw, inv_nl, inv_nr, kl, kr = found
    s_off, e_off, _, _ = _index(size, min_segment)
    ps = prefix[:, s_off].astype(np.float32)
    pe = prefix[:, e_off].astype(np.float32)
    mean_w = (pe - ps) * inv_nw
    zl = (mean_w - ps * inv_nl) * kl
    zr = (mean_w - (np.float32(size * (size + 1)) - pe) * inv_nr) * kr
    low: np.ndarray = np.minimum(zl, zr)
    high = np.maximum(zl, zr)
    np.negative(high, out=high)
    np.maximum(low, high, out=low)
    np.maximum(low, np.float32(0.0), out=low)
    return low


def two_sided(
    prefix: IntArray, sizes: IntArray, s_off: IntArray, e_off: IntArray, min_segment: int
) -> FloatArray:
    """Per row and window ``[s, e)``: the smaller of the window's standardised
    mean-rank differences to the points before it and to the points after it,
    when both have the same sign (up, then back); 0 otherwise. A window on a
    trend or a ramp is above one side and below the other, so it scores 0."""
    m = sizes[:, None].astype(np.float64)
    nw = (e_off - s_off).astype(np.float64)
    nl = s_off.astype(np.float64)
    nr = m - e_off
    sw = (prefix[:, e_off] - prefix[:, s_off]).astype(np.float64)
    sl = prefix[:, s_off].astype(np.float64)
    total = prefix[np.arange(prefix.shape[0]), sizes].astype(np.float64)[:, None]
    valid = nr >= min_segment
    nr = np.where(valid, nr, 1.0)
    sr = total - sl - sw
    mw = sw / nw
    var = (m * m - 1.0) / 3.0  # variance of a doubled rank
    zl = (mw - sl / nl) / np.sqrt(var * (1.0 / nw + 1.0 / nl))
    zr = (mw - sr / nr) / np.sqrt(var * (1.0 / nw + 1.0 / nr))
    both = valid & (zl * zr > 0)
    out: FloatArray = np.where(both, np.minimum(np.abs(zl), np.abs(zr)), 0.0)
    return out


def _deflation(ranks: FloatArray, sizes: IntArray, max_rho: float) -> FloatArray:
    """``sqrt((1 - ρ) / (1 + ρ))`` per row, ρ = 1 + 2 corr(Δr_t, Δr_{t-1}) (for AR(1)
    noise the first differences have lag-1 correlation (ρ - 1) / 2; a level
    shift moves two differences only), clipped to ``[0, max_rho]``; only the
    first ``sizes[i]`` ranks of row ``i`` count."""
    d = np.diff(ranks, axis=1)
    used = np.arange(d.shape[1])[None, :] < (sizes[:, None] - 1)
    d = np.where(used, d, 0.0)
    count = np.maximum(sizes - 1, 1).astype(np.float64)
    d -= (d.sum(axis=1) / count)[:, None]
    d = np.where(used, d, 0.0)
    num = np.einsum("ij,ij->i", d[:, 1:], d[:, :-1])
    den = np.einsum("ij,ij->i", d, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(den > 0, 1.0 + 2.0 * num / np.where(den > 0, den, 1.0), 0.0)
    rho = np.clip(rho, 0.0, max_rho)
    out: FloatArray = np.sqrt((1.0 - rho) / (1.0 + rho))
    return out


def window_pvalue(z: float, positions: int) -> float:
    """P-value of the best window's ``|z|`` among windows over ``positions``
    start positions: ``WINDOWS_PER_POINT * positions * len(LENGTHS)`` two-sided
    tests, never below one test's ``2 Φ(-z)``."""
    one = math.erfc(z / _SQRT2)
    return min(1.0, max(one, WINDOWS_PER_POINT * positions * len(LENGTHS) * one))


def refine(x: FloatArray, a: int, b: int, w: Window, min_segment: int) -> tuple[int, int]:
    """Both ends of ``w`` moved (by at most ``REACH`` points each) to the pair with the
    largest two-sided score within the block ``[a, b)``: the place where the
    level changes, not a neighbour (the length grid is ~20 % coarse and
    windows start every ``length // 5`` points)."""
    m = b - a
    ranks = doubled_midranks(x[a:b][None, :])
    prefix = np.zeros((1, m + 1), dtype=np.int64)
    np.cumsum(ranks, axis=1, out=prefix[:, 1:])
    s = np.arange(max(min_segment, w.start - a - REACH), w.start - a + REACH + 1)
    e = np.arange(w.end - a - REACH, min(m - min_segment, w.end - a + REACH) + 1)
    ss, ee = np.meshgrid(s, e, indexing="ij")
    ok = (ee - ss) >= min_segment
    ss, ee = ss[ok], ee[ok]
    if ss.shape[0] == 0:
        return w.start, w.end
    score = two_sided(prefix, np.array([m]), ss, ee, min_segment)[0]
    best = int(np.argmax(score))
    return a + int(ss[best]), a + int(ee[best])
