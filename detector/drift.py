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

from detector.scan import FloatArray

_MAD_TO_SIGMA = 1.482602218505602
_GRID = 40  # coarse grid of ramp ends per region, then a fine pass around the best


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
    centre = float(np.median(seg))
    y = seg - centre
    fitted = np.empty(m)
    for a, b in itertools.pairwise(bounds):
        fitted[a - lo : b - lo] = np.median(y[a - lo : b - lo])
    resid = y - fitted
    sigma = _MAD_TO_SIGMA * float(np.median(np.abs(resid)))
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
    return Ramp(lo + s, lo + e, centre + sigma * c0, centre + sigma * c1)


def _best_ramp(y: FloatArray, min_length: int) -> tuple[float, int, int, float, float] | None:
    m = int(y.shape[0])
    t = np.arange(m, dtype=np.float64)
    cy = np.concatenate(([0.0], np.cumsum(y)))
    cty = np.concatenate(([0.0], np.cumsum(t * y)))
    syy = float(np.dot(y, y))
    coarse = np.unique(np.linspace(0, m, _GRID + 1).round().astype(np.int64))
    found = _fit(coarse, coarse, cy, cty, syy, m, min_length)
    if found is None:
        return None
    step = max(1, m // _GRID)
    s0, e0 = found[1], found[2]
    fine_s = np.arange(max(0, s0 - step), min(m, s0 + step) + 1)
    fine_e = np.arange(max(0, e0 - step), min(m, e0 + step) + 1)
    return _fit(fine_s, fine_e, cy, cty, syy, m, min_length) or found


def _fit(
    starts: np.ndarray,
    ends: np.ndarray,
    cy: FloatArray,
    cty: FloatArray,
    syy: float,
    m: int,
    min_length: int,
) -> tuple[float, int, int, float, float] | None:
    """Least-squares ramp over every pair ``s < e`` of the two grids."""
    s, e = np.meshgrid(starts, ends, indexing="ij")
    ok = (e - s) >= min_length
    if not ok.any():
        return None
    s, e = s[ok].astype(np.float64), e[ok].astype(np.float64)
    si, ei = s.astype(np.int64), e.astype(np.int64)
    length = e - s
    # g = 0 before s, (t - s) / L on [s, e), 1 from e on
    sg = (length - 1.0) / 2.0 + (m - e)
    sgg = (length - 1.0) * (2.0 * length - 1.0) / (6.0 * length) + (m - e)
    ramp_y = cy[ei] - cy[si]
    syg = (cty[ei] - cty[si] - s * ramp_y) / length + (cy[m] - cy[ei])
    sy = cy[m]
    a11 = m - 2.0 * sg + sgg
    a12 = sg - sgg
    a22 = sgg
    b1 = sy - syg
    b2 = syg
    det = a11 * a22 - a12 * a12
    with np.errstate(divide="ignore", invalid="ignore"):
        c0 = (a22 * b1 - a12 * b2) / det
        c1 = (a11 * b2 - a12 * b1) / det
    sse = syy - (c0 * b1 + c1 * b2)
    sse = np.where(det > 1e-9, sse, np.inf)
    i = int(np.argmin(sse))
    if not np.isfinite(sse[i]):
        return None
    return float(sse[i]), int(si[i]), int(ei[i]), float(c0[i]), float(c1[i])
