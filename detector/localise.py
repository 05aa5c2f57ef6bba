"""Where exactly a level changes: a cut re-placed by a jump-between-two-lines fit.

The rank scan's best split is biased toward the side where the level keeps
moving: a step followed by a drift was placed one point late in about one case
in ten. Each final cut is re-placed among its two neighbours on either side by
least squares of two straight lines with a jump between them, over at most
:data:`REACH` points on each side (within the cut's neighbours): a drift after
the step is absorbed by the right line, and on flat segments the fit is the
two-mean fit. O(reach) per cut, all candidates at once from prefix sums.
"""

from __future__ import annotations

import numpy as np

from detector.scan import FloatArray

REACH = 64
MOVE = 2


def relocate(x: FloatArray, prev: int, cut: int, nxt: int, min_segment: int) -> int:
    """The index among ``cut ± MOVE`` (keeping ``min_segment`` points from the
    neighbours) where two lines with a jump fit ``x`` best."""
    lo, hi = max(prev, cut - REACH), min(nxt, cut + REACH)
    first = max(cut - MOVE, prev + min_segment, lo + 3)
    last = min(cut + MOVE, nxt - min_segment, hi - 3)
    if last <= first:
        return cut
    y = x[lo:hi] - x[cut]
    scale = float(np.max(np.abs(y)))
    if not scale > 0:
        return cut
    y = y / scale
    t = np.arange(hi - lo, dtype=np.float64)
    c1 = np.concatenate(([0.0], np.cumsum(np.ones_like(y))))
    ct = np.concatenate(([0.0], np.cumsum(t)))
    ctt = np.concatenate(([0.0], np.cumsum(t * t)))
    cy = np.concatenate(([0.0], np.cumsum(y)))
    cyy = np.concatenate(([0.0], np.cumsum(y * y)))
    cty = np.concatenate(([0.0], np.cumsum(t * y)))
    k = np.arange(first, last + 1) - lo
    end = hi - lo
    sse = _line_sse(c1, ct, ctt, cy, cyy, cty, 0, k) + _line_sse(c1, ct, ctt, cy, cyy, cty, k, end)
    return int(first + int(np.argmin(sse)))


def _line_sse(
    c1: FloatArray,
    ct: FloatArray,
    ctt: FloatArray,
    cy: FloatArray,
    cyy: FloatArray,
    cty: FloatArray,
    a: np.ndarray | int,
    b: np.ndarray | int,
) -> FloatArray:
    """Residual sum of squares of the least-squares line on ``[a, b)``."""
    n = c1[b] - c1[a]
    st, stt = ct[b] - ct[a], ctt[b] - ctt[a]
    sy, syy, sty = cy[b] - cy[a], cyy[b] - cyy[a], cty[b] - cty[a]
    vtt = stt - st * st / n
    vty = sty - st * sy / n
    vyy = syy - sy * sy / n
    out: FloatArray = vyy - np.where(vtt > 0, vty * vty / np.where(vtt > 0, vtt, 1.0), 0.0)
    return out
