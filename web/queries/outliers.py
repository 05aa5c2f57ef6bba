"""Which points of a series are outliers: drawn hollow and left out of the plot's y range.

One slow process (2.37 ms in a 1 ms series) stretched the demo's y axis so far
that a 15 % step looked flat (issue 16). A point is an outlier when it sits
further from the median of its segment than both ``SIGMAS`` robust standard
deviations and ``MIN_REL`` of that median. Segments are cut at the stored
change points (house style 7: pages never run detection), so a step is never an
outlier; the noise is 1.4826 × the median absolute residual, as in
``detector.noise`` (robust to the very outliers it looks for).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detector.noise import residuals

SIGMAS = 5.0
MIN_REL = 0.05
_MAD_TO_SIGMA = 1.482602218505602


def outlier_mask(values: np.ndarray, cuts: Sequence[int]) -> np.ndarray:
    """Boolean array, True where ``values[i]`` is an outlier of its segment.

    ``values`` is the series in branch order (NaN for a point without a value,
    never an outlier); ``cuts`` are indices of first changed points.
    """
    out = np.zeros(values.shape[0], dtype=bool)
    known = np.flatnonzero(np.isfinite(values))
    if known.shape[0] < 5:
        return out
    dense = values[known]
    # cut indices counted in the dense array (points without a value removed)
    dense_cuts = sorted({int(c) for c in np.searchsorted(known, list(cuts))} - {0, len(dense)})
    resid = residuals(dense, dense_cuts)
    level = np.abs(dense - resid)  # the segment median each point belongs to
    sigma = _MAD_TO_SIGMA * float(np.median(np.abs(resid)))
    limit = np.maximum(SIGMAS * sigma, MIN_REL * level)
    out[known] = np.abs(resid) > limit
    return out
