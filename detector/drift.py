"""Gradual drift: a run of same-direction cuts that a ramp explains better.

Binary segmentation cuts a slow drift (a level moving by a few noise sigmas over
tens to hundreds of commits) into steps at arbitrary commits; each would become
an alert naming an innocent commit. After the search, every maximal run of
consecutive cuts in one direction is refitted, on the values between the cuts
around it, by a *ramp*: flat, a straight line from ``s`` to ``e``, flat again
(least squares over a grid of ``(s, e)``, all pairs at once from prefix sums).
The run becomes one drift when the ramp, at least ``drift_min_length`` points
long, fits better than the steps by the BIC (Schwarz 1978; a ramp has 4
parameters, ``k`` steps ``2k + 1``), in units of the robust noise variance.
Values are winsorised at 4 robust sigmas around the step fit first, so a
spike cannot decide between the two models.

Every quantity is a function of the values between the run's neighbours, so
results are memoised by those bounds and an append recomputes only the run at
the end (incremental detection stays exactly equal to a full run).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from detector.scan import FloatArray, IntArray

_MAD_TO_SIGMA = 1.482602218505602
#: |t| of a jump at a cut, on top of the ramp, above which the cut stays a step
JUMP_T = 3.0
_GRID = 32  # coarse grid of ramp ends per region, then finer grids around the best


@dataclass(frozen=True, slots=True)
class Ramp:
    """Fitted ramp over ``[start, end)``: level ``before`` then ``after``."""

    start: int
    end: int
    before: float
    after: float


def ramp_or_steps(x: FloatArray, bounds: list[int], min_length: int) -> Ramp | None:
    """The ramp that explains ``x[bounds[0]:bounds[-1]]`` better than the steps at
    ``bounds[1:-1]`` (all in one direction), or None when the steps fit better."""
    lo, hi = bounds[0], bounds[-1]
    m = hi - lo
    k = len(bounds) - 2
    if m < min_length + 4:
        return None
    seg = x[lo:hi]
    centre = _median(seg)
    y = seg - centre
    fitted = np.empty(m)
    for a, b in itertools.pairwise(bounds):
        fitted[a - lo : b - lo] = _median(y[a - lo : b - lo])
    resid = y - fitted
    sigma = _MAD_TO_SIGMA * _median(np.abs(resid))
    if not sigma > 0:
        return None
    y = (fitted + np.clip(resid, -4.0 * sigma, 4.0 * sigma)) / sigma
    sse_steps = 0.0
    for a, b in itertools.pairwise(bounds):
        part = y[a - lo : b - lo]
        dev = part - part.mean()
        sse_steps += float(np.dot(dev, dev))
    best = _best_ramp(y, min_length)
    if best is None:
        return None
    sse_ramp, s, e, c0, c1 = best
    penalty = math.log(m)
    if sse_ramp + 4.0 * penalty >= sse_steps + (2 * k + 1) * penalty:
        return None
    if any(abs(_jump_t(y, s, e, c - lo)) >= JUMP_T for c in bounds[1:-1]):
        return None  # a step on a ramp is still a step
    return Ramp(lo + s, lo + e, centre + sigma * c0, centre + sigma * c1)


def _jump_t(y: FloatArray, s: int, e: int, c: int) -> float:
    """t statistic of a jump at ``c`` added to the ramp ``[s, e)`` model."""
    m = int(y.shape[0])
    t = np.arange(m, dtype=np.float64)
    g = np.clip((t - s) / max(e - s, 1), 0.0, 1.0)
    design = np.stack([1.0 - g, g, (t >= c).astype(np.float64)], axis=1)
    gram = design.T @ design
    try:
        inv = np.linalg.inv(gram)
    except np.linalg.LinAlgError:
        return 0.0
    coef = inv @ (design.T @ y)
    resid = y - design @ coef
    dof = max(m - 3, 1)
    var = float(resid @ resid) / dof * float(inv[2, 2])
    return float(coef[2]) / math.sqrt(var) if var > 0 else 0.0


def _best_ramp(y: FloatArray, min_length: int) -> tuple[float, int, int, float, float] | None:
    m = int(y.shape[0])
    t = np.arange(m, dtype=np.float64)
    cy = np.zeros(m + 1)
    np.cumsum(y, out=cy[1:])
    cty = np.zeros(m + 1)
    np.cumsum(t * y, out=cty[1:])
    syy = float(np.dot(y, y))
    step = -(-m // _GRID)
    grid = np.arange(0, m + 1, step)
    found = _fit(grid, grid, cy, cty, syy, m, min_length)
    while found is not None and step > 1:  # finer grids around the best pair
        stride = -(-step // 32)
        s0, e0 = found[1], found[2]
        fine_s = np.arange(max(0, s0 - step), min(m, s0 + step) + 1, stride)
        fine_e = np.arange(max(0, e0 - step), min(m, e0 + step) + 1, stride)
        found = _fit(fine_s, fine_e, cy, cty, syy, m, min_length) or found
        step = stride if stride > 1 else 0
    return found


def _fit(
    starts: IntArray,
    ends: IntArray,
    cy: FloatArray,
    cty: FloatArray,
    syy: float,
    m: int,
    min_length: int,
) -> tuple[float, int, int, float, float] | None:
    """Least-squares ramp over every pair ``s < e`` of the two grids (pairs
    shorter than ``min_length`` excluded)."""
    s = starts.astype(np.float64)[:, None]
    e = ends.astype(np.float64)[None, :]
    length = np.maximum(e - s, 1.0)
    # g = 0 before s, (t - s) / L on [s, e), 1 from e on
    after = m - e
    sg = (length - 1.0) / 2.0 + after
    sgg = (length - 1.0) * (2.0 * length - 1.0) / (6.0 * length) + after
    ramp_y = cy[ends][None, :] - cy[starts][:, None]
    syg = (cty[ends][None, :] - cty[starts][:, None] - s * ramp_y) / length + (cy[m] - cy[ends])
    b1 = cy[m] - syg
    a12 = sg - sgg
    a11 = m - sg - a12
    det = a11 * sgg - a12 * a12
    ok = ((e - s) >= min_length) & (det > 1e-9)
    det = np.where(ok, det, 1.0)
    c0 = (sgg * b1 - a12 * syg) / det
    c1 = (a11 * syg - a12 * b1) / det
    sse = np.where(ok, syy - (c0 * b1 + c1 * syg), np.inf)
    i = int(np.argmin(sse))
    if not np.isfinite(sse.flat[i]):
        return None
    r, c = divmod(i, sse.shape[1])
    return float(sse.flat[i]), int(starts[r]), int(ends[c]), float(c0.flat[i]), float(c1.flat[i])


def sharp(
    x: FloatArray, prev: int, cut: int, nxt: int, before: float, after: float, half: int
) -> bool:
    """Whether the points next to ``cut`` already sit at the two levels: the
    medians of the ``h`` points on each side (``half``, at most a third of the
    adjacent segment) are at least 0.85 of the shift apart. A ramp through the
    cut puts them near the middle; a run of such cuts is steps without a ramp
    fit (a speed-up: the fit would say the same)."""
    h = min(half, (cut - prev) // 3, (nxt - cut) // 3)
    shift = after - before
    if h < 3 or shift == 0:
        return False
    left = (_median(x[cut - h : cut]) - before) / shift
    right = (_median(x[cut : cut + h]) - before) / shift
    return right - left >= 0.85


def _median(v: FloatArray) -> float:
    half = v.shape[0] // 2
    part = np.partition(v, (half - 1, half))
    return float(part[half]) if v.shape[0] % 2 else (float(part[half - 1]) + float(part[half])) / 2
