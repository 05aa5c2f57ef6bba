"""Server-side downsampling of long series for the overview plot.

A 10,000-point series drawn at 1,000 pixels wide shows at most ~2 points per
pixel column, so the overview keeps, per bucket of consecutive points, the
minimum and the maximum (the extremes a reader would otherwise lose, as in M4
aggregation, Jugel et al. 2014), plus every point that must stay visible:
change points (alerts) and annotated commits. Zooming asks for a narrower
index range, which comes back at full resolution once it fits the budget.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np


def select_indices(
    values: list[float], start: int, end: int, max_points: int, keep: Iterable[int] = ()
) -> list[int]:
    """Indices in ``[start, end)`` to draw, ascending.

    All indices when the range holds at most ``max_points``; otherwise the min
    and max of ``max_points // 2`` equal buckets, the range's first and last
    point, and every index of ``keep`` inside the range.
    """
    start = max(0, start)
    end = min(len(values), end)
    if end <= start:
        return []
    if end - start <= max_points:
        return list(range(start, end))
    buckets = max(1, max_points // 2)
    window = np.asarray(values[start:end], dtype=float)
    edges = np.linspace(0, len(window), buckets + 1).astype(int).tolist()
    chosen = {start, end - 1}
    for lo, hi in itertools.pairwise(edges):
        if hi <= lo:
            continue
        chunk = window[lo:hi]
        chosen.add(start + lo + int(np.argmin(chunk)))
        chosen.add(start + lo + int(np.argmax(chunk)))
    chosen.update(i for i in keep if start <= i < end)
    return sorted(chosen)
