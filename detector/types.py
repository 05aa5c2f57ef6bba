"""Frozen value types of the detector: thresholds in, results out.

Every tunable number of the package lives in :class:`Thresholds`; the reasons
for each default are in ``detector/README.md``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

Direction = Literal["increase", "decrease", "none"]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """All thresholds of change-point detection, noise profiling and comparison.

    Change-point detection:
        alpha: significance level of one split, after the scan correction for
            searching every split position (Siegmund 1988 approximation).
        min_segment: fewest points on each side of a change; excursions shorter
            than this (1–3-point spikes) can never form a segment.
        min_effect_sigma: smallest level shift, in robust noise standard
            deviations of the two adjacent segments, that is reported.
        min_rel_change: smallest relative level shift reported (0 disables it,
            which keeps the result invariant under shifting the series).
        max_autocorrelation: cap on the lag-1 autocorrelation used to deflate a
            cut's statistic (the deflation factor is at least
            sqrt((1 - cap) / (1 + cap)), 0.42 at 0.7).
        undeflated_effect: level shift, in robust noise standard deviations,
            from which a cut's statistic is not deflated for autocorrelation:
            around so large a shift the residuals' correlation is the change's
            own shape (a short ramp, the edge of a trend), not noise that could
            fake it.
        noise_window: points on each side of a cut whose residuals give the
            noise (robust sigma, autocorrelation) that judges it; the levels
            and the rank statistic use the whole segments.
        drift_min_length: fewest points of a ramp reported as a drift instead
            of steps (a sharp change is a step however it is fitted).

    Noise profile:
        bimodal_explained: share of the residual variance explained by the best
            two-cluster split above which residuals are called bimodal (a normal
            distribution gives 1 - 2/pi = 0.64, two modes 4 sigmas apart 0.8).
        bimodal_min_fraction: smallest share of the minor mode to call it a mode.
        drift_sigma: residual drift over the series, in noise sigmas, that marks
            the benchmark as drifting.

    Two-sample comparison:
        compare_alpha: p-value (or q-value in ``compare_many``) for significance.
        compare_min_rel_change: smallest relative change called a regression or
            improvement; also the bound that decides ``inconclusive``.
        fdr: Benjamini–Hochberg false-discovery rate for ``compare_many``.
        ci_level: confidence level of the reported interval.
        power: power used for the minimum detectable effect.
        bootstrap_resamples: bootstrap replicates for the ratio-of-medians CI.
        seed: seed of the bootstrap generator (results are deterministic).
    """

    alpha: float = 0.01
    min_segment: int = 5
    min_effect_sigma: float = 1.0
    min_rel_change: float = 0.0
    max_autocorrelation: float = 0.7
    undeflated_effect: float = 4.0
    noise_window: int = 512
    drift_min_length: int = 40
    bimodal_explained: float = 0.8
    bimodal_min_fraction: float = 0.1
    drift_sigma: float = 1.0
    compare_alpha: float = 0.05
    compare_min_rel_change: float = 0.01
    fdr: float = 0.05
    ci_level: float = 0.95
    power: float = 0.8
    bootstrap_resamples: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("alpha", "compare_alpha", "fdr", "ci_level", "power"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ValueError(f"Thresholds.{name} must be in (0, 1), got {value!r}")
        if self.min_segment < 2:
            raise ValueError(f"Thresholds.min_segment must be >= 2, got {self.min_segment!r}")
        for name in ("min_effect_sigma", "min_rel_change", "compare_min_rel_change"):
            if getattr(self, name) < 0.0:
                raise ValueError(f"Thresholds.{name} must be >= 0")
        if not 0.0 <= self.max_autocorrelation < 1.0:
            raise ValueError("Thresholds.max_autocorrelation must be in [0, 1)")
        if not self.undeflated_effect > 0.0:
            raise ValueError("Thresholds.undeflated_effect must be > 0")
        if self.noise_window < self.min_segment:
            raise ValueError("Thresholds.noise_window must be at least min_segment")
        if self.drift_min_length < 2:
            raise ValueError("Thresholds.drift_min_length must be >= 2")
        if self.bootstrap_resamples < 100:
            raise ValueError("Thresholds.bootstrap_resamples must be >= 100")


@dataclass(frozen=True, slots=True)
class ChangePoint:
    """One change in a series.

    index: 0-based position of the first point after the change.
    before, after: medians of the segments before and after the change.
    rel_change: ``(after - before) / |before|``; ``±inf`` when ``before == 0``.
    direction: ``"increase"`` or ``"decrease"`` of the value; the caller knows
        whether that is a regression for its measure.
    pvalue: scan-corrected p-value of the split between its neighbours.
    effect_sigma: ``|after - before|`` in robust noise standard deviations.
    """

    index: int
    before: float
    after: float
    rel_change: float
    direction: Direction
    pvalue: float
    effect_sigma: float


@dataclass(frozen=True, slots=True)
class Drift:
    """A gradual change: the level ramps from ``before`` to ``after``.

    start, end: first and last index of the ramp (0-based, inclusive).
    before, after: fitted levels before and after the ramp.
    rel_change: ``(after - before) / |before|``; ``±inf`` when ``before == 0``.
    slope_per_point: ``(after - before)`` per point (commit) of the ramp.
    direction: ``"increase"`` or ``"decrease"`` of the value.
    p_value: evidence that the level moved over the range: the smallest
        p-value of the step cuts the ramp replaces, times their number.
    """

    start: int
    end: int
    before: float
    after: float
    rel_change: float
    slope_per_point: float
    direction: Direction
    p_value: float


@dataclass(frozen=True, slots=True)
class Changes:
    """Everything that changed in one series: sharp ``steps`` and gradual
    ``drifts`` (no step lies inside a drift), each in increasing index order."""

    steps: list[ChangePoint]
    drifts: list[Drift]


class Verdict(enum.StrEnum):
    """Outcome of a two-sample comparison, already mapped through the measure's
    direction (``lower_is_better``)."""

    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    NO_CHANGE = "no_change"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class SummaryStats:
    """Summary of one sample when raw values are not stored: mean, sample
    standard deviation (ddof=1) and count."""

    mean: float
    stddev: float
    n: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """Result of comparing a candidate with a baseline.

    rel_change: relative change of the candidate's centre (median for samples,
        mean for summary stats) against the baseline's.
    ci_low, ci_high: confidence interval of ``rel_change`` at ``ci_level``.
    pvalue: two-sided p-value (Mann–Whitney U for samples, Welch's t otherwise).
    qvalue: Benjamini–Hochberg adjusted p-value; equals ``pvalue`` outside
        ``compare_many``.
    direction: ``"increase"``, ``"decrease"`` or ``"none"`` (equal centres).
    verdict: regression / improvement / no_change / inconclusive.
    min_detectable_effect: smallest relative change this comparison would find
        with the configured power, given the observed noise and sample sizes.
    method: ``"mann-whitney"`` or ``"welch"``.
    """

    rel_change: float
    ci_low: float
    ci_high: float
    pvalue: float
    qvalue: float
    direction: Direction
    verdict: Verdict
    min_detectable_effect: float
    baseline_center: float
    candidate_center: float
    method: str


@dataclass(frozen=True, slots=True)
class NoiseProfile:
    """Robust noise description of one series.

    sigma: robust standard deviation of residuals around segment medians
        (1.4826 × MAD, in the series' units).
    rel_noise: ``sigma / |median level|`` (coefficient of variation; inf when
        the level is 0).
    bimodal: residuals form two separated modes.
    drifting: residuals trend with commit order by more than ``drift_sigma``.
    unstable: ``bimodal or drifting``.
    min_rel_change: smallest relative change the detector reports for this
        series: ``max(min_rel_change, min_effect_sigma * rel_noise)``.
    """

    sigma: float
    rel_noise: float
    bimodal: bool
    drifting: bool
    unstable: bool
    min_rel_change: float
    n: int
