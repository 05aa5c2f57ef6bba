"""Server-side downsampling of long series for the overview plot.

A 10,000-point series drawn at 1,000 pixels wide shows at most ~2 points per
pixel column, so the overview keeps, per bucket of consecutive points, the
minimum and the maximum (the extremes a reader would otherwise lose, as in M4
aggregation, Jugel et al. 2014), plus every point that must stay visible:
change points (alerts) and annotated commits. Zooming asks for a narrower
index range, which comes back at full resolution once it fits the budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def select_indices(
    values: Sequence[float] | np.ndarray,
    start: int,
    end: int,
    max_points: int,
    keep: Iterable[int] = (),
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
    window = np.asarray(values[start:end], dtype=float)
    chosen = set(_bucket_extremes(window, max(1, max_points // 2)).tolist())
    chosen.update((0, len(window) - 1))
    picked = {start + int(i) for i in chosen}
    picked.update(i for i in keep if start <= i < end)
    return sorted(picked)


def _bucket_extremes(window: np.ndarray, buckets: int) -> np.ndarray:
    """Offsets of the minimum and maximum of each of ``buckets`` equal slices of ``window``.

    One stable sort by (bucket, value) instead of a Python loop over the
    buckets: the first entry of each bucket is its minimum (lowest offset on
    ties), the last its maximum (highest offset on ties).
    """
    edges = np.linspace(0, len(window), buckets + 1).astype(int)
    bucket = np.searchsorted(edges, np.arange(len(window)), side="right") - 1
    order = np.lexsort((window, bucket))
    sorted_bucket = bucket[order]
    first = np.flatnonzero(np.r_[True, sorted_bucket[1:] != sorted_bucket[:-1]])
    last = np.r_[first[1:] - 1, len(order) - 1]
    return np.concatenate((order[first], order[last]))
