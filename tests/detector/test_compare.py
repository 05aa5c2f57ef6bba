from __future__ import annotations

import numpy as np
import pytest

from detector import SummaryStats, Thresholds, Verdict, benjamini_hochberg, compare, compare_many

FAST = Thresholds(bootstrap_resamples=200)


def test_a_a_comparisons_report_no_regression_at_default_fdr() -> None:
    clean = 0
    trials = 40
    for trial in range(trials):
        rng = np.random.default_rng(trial)
        pairs = {
            f"bench{i}": (
                100 * (1 + 0.01 * rng.standard_normal(10)),
                100 * (1 + 0.01 * rng.standard_normal(10)),
            )
            for i in range(100)
        }
        result = compare_many(pairs, thresholds=FAST)
        clean += all(c.verdict != Verdict.REGRESSION for c in result.values())
    assert clean >= 0.95 * trials


def test_planted_5_percent_slowdown_at_1_percent_noise_is_found() -> None:
    rng = np.random.default_rng(1)
    base = 100 * (1 + 0.01 * rng.standard_normal(10))
    cand = 105 * (1 + 0.01 * rng.standard_normal(10))
    c = compare(base, cand)
    assert c.verdict == Verdict.REGRESSION
    assert c.direction == "increase"
    assert c.rel_change == pytest.approx(0.05, abs=0.01)
    assert c.ci_low < c.rel_change < c.ci_high
    assert c.pvalue < 0.01
    assert 0 < c.min_detectable_effect < 0.05
    # Among 100 A/A benchmarks the slowdown survives FDR control.
    pairs = {
        f"b{i}": (
            100 * (1 + 0.01 * rng.standard_normal(10)),
            100 * (1 + 0.01 * rng.standard_normal(10)),
        )
        for i in range(99)
    }
    pairs["slow"] = (base, cand)
    result = compare_many(pairs, thresholds=FAST)
    assert result["slow"].verdict == Verdict.REGRESSION
    assert result["slow"].qvalue >= result["slow"].pvalue


def test_higher_is_better_maps_an_increase_to_improvement() -> None:
    base, cand = np.linspace(99, 101, 20), np.linspace(109, 111, 20)
    assert compare(base, cand, lower_is_better=False).verdict == Verdict.IMPROVEMENT
    assert compare(base, cand).verdict == Verdict.REGRESSION


def test_summary_stats_use_welch() -> None:
    c = compare(SummaryStats(100.0, 1.0, 10), SummaryStats(95.0, 1.0, 10))
    assert c.method == "welch" and c.verdict == Verdict.IMPROVEMENT
    assert c.rel_change == pytest.approx(-0.05)
    assert c.ci_low < -0.05 < c.ci_high


def test_wide_interval_is_inconclusive_and_tight_one_is_no_change() -> None:
    rng = np.random.default_rng(3)
    noisy = compare(
        100 * (1 + 0.2 * rng.standard_normal(4)),
        100 * (1 + 0.2 * rng.standard_normal(4)),
        thresholds=FAST,
    )
    assert noisy.verdict == Verdict.INCONCLUSIVE
    tight = compare(
        100 + 0.01 * rng.standard_normal(50), 100 + 0.01 * rng.standard_normal(50), thresholds=FAST
    )
    assert tight.verdict == Verdict.NO_CHANGE


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        compare([], [1.0])
    with pytest.raises(ValueError):
        compare([1.0, float("nan")], [1.0])
    with pytest.raises(ValueError):
        compare(SummaryStats(1.0, 0.1, 5), [1.0, 2.0])
    with pytest.raises(ValueError):
        compare([0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        compare_many([("a", [1.0], [1.0]), ("a", [1.0], [1.0])])


def test_identical_constant_samples() -> None:
    c = compare([5.0] * 5, [5.0] * 5)
    assert c.pvalue == 1.0 and c.direction == "none" and c.verdict == Verdict.NO_CHANGE


def test_benjamini_hochberg_matches_hand_computation() -> None:
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.20])
    # sorted 0.01, 0.03, 0.04, 0.20 -> p*m/rank 0.04, 0.06, 0.0533, 0.20 -> running min from the top
    assert q == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])
    assert benjamini_hochberg([]) == []
