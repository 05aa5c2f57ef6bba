"""TCPDBench's "binseg-default", re-implemented so the accuracy table can show it.

TCPDBench's best default-parameter method (F1 0.744 over its univariate
series) is binary segmentation from R's ``changepoint`` package, called as
``cpt.mean(scale(x), method="BinSeg", test.stat="Normal", penalty="MBIC",
Q=5)``. R and that package cannot be installed here (CRAN is unreachable and
Debian does not package it), so this module follows the package's published
algorithm step for step; ``tests/detector/test_evaluate_binseg.py`` checks it
against the change points TCPDBench itself published for that method:

* the series is standardised (mean 0, sample standard deviation 1), because
  the Normal mean cost assumes unit variance;
* the cost of a segment of ``m`` points is its residual sum of squares plus
  ``log m`` (the MBIC segment term), and a split's gain is half the drop in
  cost;
* ``Q = 5`` rounds, each taking the split with the largest gain over all
  current segments, with the gains made non-increasing from round to round;
  the first ``k`` splits whose doubled gain reaches the penalty ``3 log n``
  are kept;
* candidate splits leave at least two points on the left and one on the
  right, and only split positions 2 .. n-3 (1-based) are tried, as in the
  package's C loop;
* locations are reported as TCPDBench reports them: the 0-based index of the
  last point before the change, without 0 and n-1.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt

ROUNDS = 5


Positions = int | npt.NDArray[np.int64]


def _segment_costs(
    sums: npt.NDArray[np.float64],
    squares: npt.NDArray[np.float64],
    starts: Positions,
    ends: Positions,
) -> npt.NDArray[np.float64]:
    """MBIC Normal-mean cost of the points ``start .. end-1`` (0-based), pairwise."""
    count = np.subtract(ends, starts)
    total = sums[ends] - sums[starts]
    cost: npt.NDArray[np.float64] = (
        squares[ends] - squares[starts] - total * total / count + np.log(count)
    )
    return cost


def _gains(
    sums: npt.NDArray[np.float64], squares: npt.NDArray[np.float64], bounds: list[int], n: int
) -> npt.NDArray[np.float64]:
    """Half the cost drop of splitting after 1-based point ``j``, at every ``j``.

    Positions that are not candidates keep the gain 0, as in the package, so a
    series where every split costs more than it saves yields position 0.
    """
    gains = np.zeros(n)
    for start, end in itertools.pairwise(bounds):
        # 1-based j: the left part is points start+1 .. j, the right j+1 .. end.
        j = np.arange(max(start + 2, 2), min(end - 1, n - 3) + 1)
        if j.size:
            whole = _segment_costs(sums, squares, start, end)
            left = _segment_costs(sums, squares, start, j)
            right = _segment_costs(sums, squares, j, end)
            gains[j] = 0.5 * (whole - left - right)
    return gains


def binseg_default(values: npt.ArrayLike) -> list[int]:
    """Change point locations of binseg-default on one series, as TCPDBench reports them.

    The package caps each round's gain at the previous round's and keeps the
    leading rounds whose capped gain passes the penalty; that keeps the same
    splits as stopping at the first round whose own gain fails it.
    """
    x = np.asarray(values, dtype=float)
    n = x.shape[0]
    if n < 4:
        return []
    spread = float(np.std(x, ddof=1))
    if not math.isfinite(spread) or spread == 0.0:
        return []
    x = (x - x.mean()) / spread
    sums = np.concatenate(([0.0], np.cumsum(x)))
    squares = np.concatenate(([0.0], np.cumsum(x * x)))
    penalty = 3.0 * math.log(n)
    bounds = [0, n]
    accepted: list[int] = []
    for _ in range(ROUNDS):
        gains = _gains(sums, squares, bounds, n)
        best = int(np.argmax(gains))
        if 2.0 * gains[best] < penalty:
            break
        accepted.append(best)
        bounds = sorted([*bounds, best])
    return sorted({c - 1 for c in accepted if 1 <= c - 1 < n - 1})
