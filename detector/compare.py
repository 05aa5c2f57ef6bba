"""Two-sample comparison of a candidate against a baseline, with FDR control."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from detector.scan import FloatArray
from detector.types import Comparison, Direction, SummaryStats, Thresholds, Verdict
from detector.validation import as_series

Sample = SummaryStats | Iterable[float] | npt.ArrayLike
_DEFAULT = Thresholds()
_MAX_BOOTSTRAP_CELLS = 4_000_000  # resamples x sample size held in memory at once


def compare(
    baseline: Sample,
    candidate: Sample,
    *,
    lower_is_better: bool = True,
    thresholds: Thresholds | None = None,
) -> Comparison:
    """Compare ``candidate`` with ``baseline``.

    Each side is either raw samples (1-D numbers) or :class:`SummaryStats`; both
    sides must be of the same kind. Raw samples use the Mann–Whitney U test and a
    percentile bootstrap of the ratio of medians; summary stats use Welch's t
    and a delta-method interval of the ratio of means. ``lower_is_better`` maps
    the direction of change to regression/improvement (True for times, False
    for throughputs). Raises ValueError on empty or non-finite samples, on
    mixed kinds, and on a baseline centre of 0.
    """
    th = thresholds or _DEFAULT
    if isinstance(baseline, SummaryStats) != isinstance(candidate, SummaryStats):
        raise ValueError("baseline and candidate must both be samples or both SummaryStats")
    if isinstance(baseline, SummaryStats) and isinstance(candidate, SummaryStats):
        raw = _welch(baseline, candidate, th)
    else:
        assert not isinstance(baseline, SummaryStats) and not isinstance(candidate, SummaryStats)
        raw = _samples(as_series(baseline, "baseline"), as_series(candidate, "candidate"), th)
    return _with_verdict(raw, raw.pvalue, lower_is_better, th)


def compare_many(
    pairs: Mapping[str, tuple[Sample, Sample]] | Sequence[tuple[str, Sample, Sample]],
    *,
    lower_is_better: bool | Mapping[str, bool] = True,
    thresholds: Thresholds | None = None,
) -> dict[str, Comparison]:
    """Compare every named pair and control the false-discovery rate across them.

    q-values are Benjamini–Hochberg adjusted p-values (Benjamini & Hochberg
    1995); a pair is significant when ``q < thresholds.fdr``. Names must be
    unique. ``lower_is_better`` may be given per name.
    """
    th = thresholds or _DEFAULT
    items = (
        list(pairs.items()) if isinstance(pairs, Mapping) else [(n, (b, c)) for n, b, c in pairs]
    )
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        raise ValueError("pair names must be unique")
    raw = {name: compare(b, c, thresholds=th) for name, (b, c) in items}
    qvalues = benjamini_hochberg([raw[name].pvalue for name in names])
    out: dict[str, Comparison] = {}
    for name, q in zip(names, qvalues, strict=True):
        lib = lower_is_better if isinstance(lower_is_better, bool) else lower_is_better[name]
        out[name] = _with_verdict(replace(raw[name], qvalue=q), q, lib, th, fdr=True)
    return out


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """BH-adjusted p-values (q-values), in the input order."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = int(p.shape[0])
    if m == 0:
        return []
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return [float(v) for v in q]


def _with_verdict(
    c: Comparison, p: float, lower_is_better: bool, th: Thresholds, fdr: bool = False
) -> Comparison:
    """Three-way verdict: significant and at least the threshold -> regression or
    improvement; interval inside ±threshold or significant-but-small -> no
    change; otherwise the interval is too wide to tell -> inconclusive."""
    tau = th.compare_min_rel_change
    significant = p < (th.fdr if fdr else th.compare_alpha)
    if significant and abs(c.rel_change) >= tau and c.direction != "none":
        worse = (c.direction == "increase") == lower_is_better
        verdict = Verdict.REGRESSION if worse else Verdict.IMPROVEMENT
    elif (-tau <= c.ci_low and c.ci_high <= tau) or significant:
        verdict = Verdict.NO_CHANGE
    else:
        verdict = Verdict.INCONCLUSIVE
    return replace(c, verdict=verdict)


def _direction(delta: float) -> Direction:
    return "increase" if delta > 0 else ("decrease" if delta < 0 else "none")


def _samples(base: FloatArray, cand: FloatArray, th: Thresholds) -> Comparison:
    # scipy.stats takes seconds to import; every `benchwarden` command imports
    # this package (project settings hold Thresholds), few of them compare.
    from scipy import stats

    if base.shape[0] == 0 or cand.shape[0] == 0:
        raise ValueError("baseline and candidate need at least one sample each")
    mb, mc = float(np.median(base)), float(np.median(cand))
    if mb == 0.0:
        raise ValueError("the baseline median is 0; a relative change is undefined")
    rel = mc / mb - 1.0
    if np.ptp(np.concatenate((base, cand))) == 0.0:
        pvalue = 1.0
    else:
        pvalue = float(stats.mannwhitneyu(base, cand, alternative="two-sided").pvalue)
    lo, hi, se = _bootstrap_ratio(base, cand, th)
    z = stats.norm.ppf(1 - th.compare_alpha / 2) + stats.norm.ppf(th.power)
    return Comparison(
        rel,
        lo,
        hi,
        pvalue,
        pvalue,
        _direction(mc - mb),
        Verdict.INCONCLUSIVE,
        float(z * se),
        mb,
        mc,
        "mann-whitney",
    )


def _bootstrap_ratio(
    base: FloatArray, cand: FloatArray, th: Thresholds
) -> tuple[float, float, float]:
    """Percentile bootstrap interval and standard error of median(cand)/median(base) - 1."""
    rng = np.random.default_rng(th.seed)
    reps = th.bootstrap_resamples
    chunk = max(1, _MAX_BOOTSTRAP_CELLS // max(base.shape[0], cand.shape[0]))
    ratios = np.empty(reps)
    for start in range(0, reps, chunk):
        k = min(chunk, reps - start)
        mb = np.median(rng.choice(base, size=(k, base.shape[0])), axis=1)
        mc = np.median(rng.choice(cand, size=(k, cand.shape[0])), axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios[start : start + k] = mc / mb - 1.0
    ratios = ratios[np.isfinite(ratios)]
    half = (1 - th.ci_level) / 2
    lo, hi = np.quantile(ratios, [half, 1 - half])
    return float(lo), float(hi), float(np.std(ratios, ddof=1))


def _welch(b: SummaryStats, c: SummaryStats, th: Thresholds) -> Comparison:
    from scipy import stats  # slow to import; see _samples

    for name, s in (("baseline", b), ("candidate", c)):
        if s.n < 2 or s.stddev < 0 or not all(map(math.isfinite, (s.mean, s.stddev))):
            raise ValueError(f"{name} summary needs n >= 2 and finite mean and stddev >= 0")
    if b.mean == 0.0:
        raise ValueError("the baseline mean is 0; a relative change is undefined")
    vb, vc = b.stddev**2 / b.n, c.stddev**2 / c.n
    rel = c.mean / b.mean - 1.0
    # Delta method for the ratio of means: Var(c/b) ~ (vc + r^2 vb) / b^2.
    ratio = c.mean / b.mean
    se = math.sqrt(vc + ratio * ratio * vb) / abs(b.mean)
    if vb + vc == 0.0:
        pvalue, df = (1.0 if c.mean == b.mean else 0.0), math.inf
    else:
        t = (c.mean - b.mean) / math.sqrt(vb + vc)
        df = (vb + vc) ** 2 / (vb**2 / (b.n - 1) + vc**2 / (c.n - 1))
        pvalue = float(2 * stats.t.sf(abs(t), df))
    tq = float(stats.t.ppf(1 - (1 - th.ci_level) / 2, df)) if math.isfinite(df) else 0.0
    z = stats.norm.ppf(1 - th.compare_alpha / 2) + stats.norm.ppf(th.power)
    return Comparison(
        rel,
        rel - tq * se,
        rel + tq * se,
        pvalue,
        pvalue,
        _direction(c.mean - b.mean),
        Verdict.INCONCLUSIVE,
        float(z * se),
        b.mean,
        c.mean,
        "welch",
    )
