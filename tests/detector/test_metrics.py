from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench_suites.accuracy.evaluate_report import score_synthetic
from bench_suites.accuracy.metrics import covering, f_measure, true_positives
from bench_suites.accuracy.synthetic import SyntheticSeries

TCPD = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "tcpd"


def test_true_positives_match_one_to_one_within_margin() -> None:
    assert true_positives({10, 12}, {11}, margin=5) == {10}
    assert true_positives({10, 30}, {14, 36}, margin=5) == {10}


def test_f_measure_with_index_zero_convention() -> None:
    # Annotators {0,50} and {0,52}; predictions {0,51,90}: precision 2/3 (0 and 51
    # match the union {0,50,52}), recall 1 for both annotators.
    f1, p, r = f_measure({"a": [50], "b": [52]}, [51, 90])
    assert p == pytest.approx(2 / 3) and r == pytest.approx(1.0)
    assert f1 == pytest.approx(2 * (2 / 3) / (2 / 3 + 1))
    # Reporting nothing still scores through index 0.
    f1_zero, p0, r0 = f_measure({"a": [50]}, [])
    assert p0 == 1.0 and r0 == 0.5 and f1_zero == pytest.approx(2 / 3)


def test_f_measure_without_index_zero() -> None:
    assert f_measure({"a": []}, [], zero_convention=False)[0] == 1.0
    assert f_measure({"a": [50]}, [], zero_convention=False)[0] == 0.0
    _, p, r = f_measure({"a": [50], "b": []}, [50], zero_convention=False)
    assert (p, r) == (1.0, 1.0)


def test_covering_hand_made() -> None:
    # Truth [0,50)[50,100); prediction [0,60)[60,100): segment one overlaps 50/60,
    # segment two 40/50 -> (50 * 50/60 + 50 * 40/50) / 100.
    assert covering({"a": [50]}, [60], 100) == pytest.approx((50 * 50 / 60 + 50 * 0.8) / 100)
    assert covering({"a": [50], "b": []}, [50], 100) == pytest.approx((1.0 + 0.5) / 2)
    assert covering({"a": [50]}, [0, 50], 100) == 1.0


def test_synthetic_scoring_counts_alarms_and_recall() -> None:
    values = np.zeros(200)
    steps = SyntheticSeries(values, (100,), (4.0,), "gaussian", "steps", 0.01, ())
    quiet = SyntheticSeries(values, (), (), "gaussian", "none", 0.01, ())
    scores = score_synthetic([steps, quiet], [[102], [50]])
    assert scores.f1_no0 == pytest.approx(0.5)
    assert scores.false_alarms == pytest.approx(5.0) and scores.drift_alarms == 0.0
    assert scores.recall_by_step[1] == 1.0 and scores.median_error == 2.0
    assert scores.by_scenario == {"none": pytest.approx(2 / 3), "steps": 1.0}


def test_synthetic_scoring_of_drifts_and_excursions() -> None:
    """A drift reported as a drift is right and no alarm; steps inside it are
    alarms; excursion recall counts ends of at least 3 sigmas."""
    values = np.zeros(400)
    ramp = SyntheticSeries(values, (), (), "gaussian", "drift", 0.01, (), drift=(100, 300))
    exc = SyntheticSeries(
        values,
        (50, 70, 200, 220),
        (4.0, 4.0, 2.0, 2.0),
        "gaussian",
        "excursion",
        0.01,
        (),
        excursion_ends=(50, 70, 200, 220),
    )
    good = score_synthetic([ramp, exc], [[], [50, 71]], [[(98, 301)], []])
    assert good.drift_recall == 1.0 and good.drift_alarms == 0.0
    assert good.excursion_recall == 1.0  # the 2-sigma excursion is not counted
    bad = score_synthetic([ramp, exc], [[150, 200], [50]], None)
    assert bad.drift_recall == 0.0 and bad.drift_alarms == pytest.approx(5.0)
    assert bad.excursion_recall == 0.5


@pytest.mark.corpus  # reads ../shared: runs again in place in .ci/run
@pytest.mark.skipif(not TCPD.is_dir(), reason="TCPD data not beside the repository")
def test_tcpd_loads_all_32_series() -> None:
    from bench_suites.accuracy.evaluate import load_tcpd

    data = load_tcpd(TCPD)
    assert len(data) == 32
    names = {name for name, _, _ in data}
    assert {"nile", "run_log", "uk_coal_employ"} <= names
    cols = dict((name, cols) for name, cols, _ in data)
    assert len(cols["run_log"]) == 2
    assert all(np.isfinite(c).all() for c in cols["uk_coal_employ"])


def test_tuning_ceiling_orders_default_global_and_oracle() -> None:
    """The per-series oracle is never below the best single setting, which is
    never below any setting of the grid; a setting that suits one series and
    not the other separates the two."""
    from bench_suites.accuracy.evaluate_ceiling import tuning_ceiling
    from detector.types import Thresholds

    rng = np.random.default_rng(6)
    step = np.r_[rng.normal(0, 1, 40), rng.normal(2.0, 1, 40)]  # a real 2σ step at 40
    quiet = rng.normal(0, 1, 80)  # no change; a loose setting may cut it
    data = [("step", [list(step)], {"a": [40]}), ("quiet", [list(quiet)], {"a": []})]
    # (a seed where the loose setting finds the step and only the step; at
    # alpha 0.5 the excursion scan of detector 1.3 also cuts the step series)
    grid = [Thresholds(alpha=0.2, min_segment=3, min_effect_sigma=0.0), Thresholds(alpha=1e-9)]
    ceiling = tuning_ceiling(data, grid)
    assert ceiling.settings == 2
    assert ceiling.oracle_f1 >= ceiling.best_global_f1
    assert ceiling.best_setting in grid
    assert 0.0 <= ceiling.default_f1 <= 1.0
    strict = tuning_ceiling(data, [Thresholds(alpha=1e-9)])
    assert strict.best_global_f1 == strict.oracle_f1  # one setting: nothing to choose per series
    assert ceiling.oracle_f1 >= strict.oracle_f1
    # the oracle is the mean over series of each series' best setting
    per_series = [max(tuning_ceiling([item], [th]).best_global_f1 for th in grid) for item in data]
    assert ceiling.oracle_f1 == pytest.approx(float(np.mean(per_series)))
    # the loose setting finds the step exactly (and cuts the quiet series), the
    # strict one keeps the quiet series clean (and misses the step)
    assert ceiling.oracle_f1 == 1.0 > ceiling.best_global_f1
