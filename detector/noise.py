"""Robust noise profile of one series."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from detector.changepoint import DEFAULT_THRESHOLDS, detect_change_points
from detector.scan import FloatArray
from detector.types import ChangePoint, NoiseProfile, Thresholds
from detector.validation import as_series

_MAD_TO_SIGMA = 1.482602218505602


def noise_profile(
    values: Iterable[float] | npt.ArrayLike,
    change_points: Sequence[ChangePoint] | None = None,
    *,
    thresholds: Thresholds | None = None,
) -> NoiseProfile:
    """Noise of ``values`` around its segment medians, and stability flags.

    ``change_points`` defaults to ``detect_change_points(values)``. Residuals
    are the values minus the median of their segment; sigma is 1.4826 × their
    MAD (robust to outliers and heavy tails). Raises ValueError on bad input or
    fewer than 3 points.
    """
    th = thresholds or DEFAULT_THRESHOLDS
    x = as_series(values)
    n = int(x.shape[0])
    if n < 3:
        raise ValueError(f"a noise profile needs at least 3 points, got {n}")
    cps = detect_change_points(x, thresholds=th) if change_points is None else change_points
    resid = residuals(x, [c.index for c in cps])
    sigma = _MAD_TO_SIGMA * float(np.median(np.abs(resid)))
    if sigma == 0.0:
        sigma = float(np.mean(np.abs(resid))) * math.sqrt(math.pi / 2.0)
    level = abs(float(np.median(x)))
    rel = sigma / level if level > 0 else math.inf
    bimodal = is_bimodal(resid, th) if sigma > 0 else False
    drifting = is_drifting(resid, sigma, th) if sigma > 0 else False
    return NoiseProfile(
        sigma=sigma,
        rel_noise=rel,
        bimodal=bimodal,
        drifting=drifting,
        unstable=bimodal or drifting,
        min_rel_change=max(th.min_rel_change, th.min_effect_sigma * rel),
        n=n,
    )


def residuals(x: FloatArray, cuts: Sequence[int]) -> FloatArray:
    """``x`` minus the median of the segment each point belongs to."""
    bounds = [0, *sorted(cuts), int(x.shape[0])]
    out = np.empty_like(x)
    for a, b in itertools.pairwise(bounds):
        out[a:b] = x[a:b] - np.median(x[a:b])
    return out


def is_bimodal(resid: FloatArray, th: Thresholds) -> bool:
    """Two separated modes: the best 1-D two-cluster split (exact, by sorting and
    prefix sums; Fisher 1958) explains more than ``bimodal_explained`` of the
    variance and its minor cluster holds at least ``bimodal_min_fraction``.
    Residuals are winsorised at the 1st/99th percentiles so single outliers
    cannot dominate the variance.
    """
    lo_q, hi_q = np.quantile(resid, [0.01, 0.99])
    y = np.sort(np.clip(resid, lo_q, hi_q))
    n = int(y.shape[0])
    lo = max(2, math.ceil(th.bimodal_min_fraction * n))
    total = float(np.sum((y - y.mean()) ** 2))
    if n - lo < lo or total == 0.0:
        return False
    s1, s2 = np.cumsum(y), np.cumsum(y * y)
    k = np.arange(lo, n - lo + 1)
    left = s2[k - 1] - s1[k - 1] ** 2 / k
    right = (s2[-1] - s2[k - 1]) - (s1[-1] - s1[k - 1]) ** 2 / (n - k)
    within = float(np.min(left + right))
    return 1.0 - within / total > th.bimodal_explained


def is_drifting(resid: FloatArray, sigma: float, th: Thresholds) -> bool:
    """Residuals trend with commit order: the least-squares line through the
    3-sigma-winsorised residuals moves more than ``drift_sigma`` sigmas over the
    series and its slope is significant at 0.1 % (Spearman-free t-test)."""
    n = int(resid.shape[0])
    if n < 10:
        return False
    w = np.clip(resid, -3.0 * sigma, 3.0 * sigma)
    t = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    slope = float(np.dot(t, w)) / float(np.dot(t, t))
    fitted = w - w.mean() - slope * t
    se = math.sqrt(float(np.dot(fitted, fitted)) / (n - 2) / float(np.dot(t, t)))
    if se == 0.0:
        return slope != 0.0
    return abs(slope) * (n - 1) > th.drift_sigma * sigma and abs(slope / se) > 3.3
