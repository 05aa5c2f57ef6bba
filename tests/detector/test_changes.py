"""Detector 1.3-1.4: excursions, drifts as their own result, localisation, short steep
ramps, and the
synthetic accuracy targets at default thresholds (seeded, a few seconds)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import detector
from bench_suites.accuracy.evaluate_report import score_synthetic
from bench_suites.accuracy.synthetic import MIX, suite
from detector import ChangePointState, Changes, Drift, detect_change_points, detect_changes


def excursion_series(seed: int) -> tuple[np.ndarray, tuple[int, int]]:
    """1,000 gaussian points, one excursion of 10-50 points at 3-6 sigma."""
    rng = np.random.default_rng(seed)
    x = 100.0 + rng.standard_normal(1000)
    length, start = int(rng.integers(10, 51)), int(rng.integers(100, 850))
    x[start : start + length] += rng.uniform(3.0, 6.0) * rng.choice([-1.0, 1.0])
    return x, (start, start + length)


def drift_series(seed: int, n: int = 1000) -> tuple[np.ndarray, tuple[int, int]]:
    """A ramp of 3-8 sigma over 50-500 points between two flat stretches."""
    rng = np.random.default_rng(seed)
    x = 100.0 + rng.standard_normal(n)
    length = int(rng.integers(50, min(501, n - 100)))
    start = int(rng.integers(50, n - length - 49))
    height = rng.uniform(3.0, 8.0) * rng.choice([-1.0, 1.0])
    level = np.zeros(n)
    level[start : start + length] = np.linspace(0.0, height, length, endpoint=False)
    level[start + length :] = height
    return x + level, (start, start + length)


def test_public_api_exports_changes_and_drift() -> None:
    assert {"detect_changes", "Changes", "Drift"} <= set(detector.__all__)
    assert detector.DETECTOR_VERSION == "1.4.0"
    x, _ = drift_series(3)
    changes = detect_changes(x)
    assert isinstance(changes, Changes)
    assert detect_change_points(x) == changes.steps
    assert detect_changes([]) == Changes([], [])
    with pytest.raises(ValueError):
        detect_changes([1.0, math.nan, 2.0])


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("flat", "ramp"), [(20, 15), (20, 25), (40, 15)])
def test_a_short_steep_ramp_is_not_deflated_away(seed: int, flat: int, ramp: int) -> None:
    """A 6 % rise over 15-25 points at 0.1 % noise (60 sigma) between short flat stretches:
    too short for a drift, and 1.3.0 found nothing at all. Its residuals on either side
    of any cut are a ramp, so their autocorrelation hit the cap and the deflation (x 0.42)
    left no split of 55-95 points significant. A shift of many noise widths is no longer
    deflated: the rise is reported, cut at its ends, and nothing on the flat stretches."""
    rng = np.random.default_rng(seed)
    level = np.concatenate([np.ones(flat), 1 + 0.06 * np.arange(1, ramp + 1) / ramp])
    x = np.concatenate([level, np.full(flat, 1.06)]) * (
        1 + 0.001 * rng.standard_normal(2 * flat + ramp)
    )
    found = [c.index for c in detect_change_points(x)]
    assert found, "the rise was not reported"
    assert all(flat - 5 <= c <= flat + ramp + 5 for c in found)
    # the deflation is what hid it: with every cut deflated, the rise is missed again
    everything_deflated = detector.Thresholds(undeflated_effect=math.inf)
    assert flat > 20 or not detect_change_points(x, thresholds=everything_deflated)


def test_short_excursions_inside_long_segments_are_found() -> None:
    """Both ends of excursions of 10-50 points at 3-6 sigma in 1,000 points:
    recall >= 0.9 within 5 points (detector 1.2.0: 0.33), no other cut."""
    hits = total = extra = 0
    for seed in range(40):
        x, ends = excursion_series(seed)
        found = [c.index for c in detect_change_points(x)]
        for end in ends:
            total += 1
            hits += any(abs(c - end) <= 5 for c in found)
        extra += sum(all(abs(c - end) > 5 for end in ends) for c in found)
    assert hits / total >= 0.9
    assert extra <= 2


def test_excursion_ends_are_the_points_where_the_level_changes() -> None:
    rng = np.random.default_rng(7)
    x = 10.0 + 0.1 * rng.standard_normal(3000)
    x[1200:1225] += 0.5  # 5 sigma for 25 points
    assert [c.index for c in detect_change_points(x)] == [1200, 1225]
    up, down = detect_change_points(x)
    assert up.direction == "increase" and down.direction == "decrease"


def test_a_slow_drift_is_one_drift_and_no_step() -> None:
    """Ramps of 3-8 sigma over 50-500 points: one drift over the ramp, no step
    (detector 1.2.0 cut every one of these series into steps)."""
    right = 0
    for seed in range(40):
        x, (start, end) = drift_series(seed)
        changes = detect_changes(x)
        if changes.steps or len(changes.drifts) != 1:
            continue
        d = changes.drifts[0]
        slack = 0.2 * (end - start) + 5
        right += abs(d.start - start) <= slack and abs(d.end + 1 - end) <= slack
    assert right >= 38


def test_drift_record_fields() -> None:
    x, (start, end) = drift_series(11)
    (d,) = detect_changes(x).drifts
    assert isinstance(d, Drift)
    assert d.start < d.end
    shift = d.after - d.before
    assert d.rel_change == pytest.approx(shift / abs(d.before))
    assert d.slope_per_point == pytest.approx(shift / (d.end + 1 - d.start))
    assert d.direction == ("increase" if shift > 0 else "decrease")
    assert 0.0 <= d.p_value < 0.01
    true_shift = x[end:].mean() - x[:start].mean()
    assert shift == pytest.approx(true_shift, rel=0.2)


def test_a_step_beside_a_drift_stays_a_step_and_no_step_lies_inside_a_drift() -> None:
    rng = np.random.default_rng(5)
    n = 1200
    level = np.zeros(n)
    level[300:] += 6.0  # a sharp step
    level[700:1000] += np.linspace(0.0, 6.0, 300, endpoint=False)
    level[1000:] += 6.0
    x = 50.0 + level + rng.standard_normal(n)
    changes = detect_changes(x)
    assert [c.index for c in changes.steps] == [300]
    (d,) = changes.drifts
    assert abs(d.start - 700) <= 60 and abs(d.end - 999) <= 60
    for c in changes.steps:
        assert not d.start <= c.index <= d.end


def test_a_step_followed_by_a_drift_is_not_placed_late() -> None:
    """The rank scan placed a step one point late when the level kept moving
    after it (19 late against 1 early in 300 seeds); the jump-between-lines
    re-placement balances the two."""
    late = early = exact = 0
    for seed in range(300):
        rng = np.random.default_rng(seed)
        level = np.zeros(400)
        level[200:] = 4.0 + np.linspace(0.0, 6.0, 200)
        x = rng.standard_normal(400) + level
        near = [c.index - 200 for c in detect_change_points(x) if abs(c.index - 200) <= 5]
        late += near == [1]
        early += near == [-1]
        exact += near == [0]
    assert exact >= 270
    assert late - early <= 5


def test_incremental_state_equals_a_full_run_with_drifts_and_excursions() -> None:
    rng = np.random.default_rng(2)
    n = 2500
    level = np.zeros(n)
    level[600:620] += 4.0  # excursion
    level[1000:1300] += np.linspace(0.0, 5.0, 300, endpoint=False)  # drift
    level[1300:] += 5.0
    level[1800:] += -6.0  # step
    for i, start in enumerate(range(2000, 2200, 25)):  # alternating stretch
        level[start : start + 25] += 4.0 * (i % 2)
    x = 100.0 + level + rng.standard_normal(n)
    state = ChangePointState(x[:100])
    for start in range(100, n, 37):
        state.append(x[start : start + 37])
        assert state.changes == detect_changes(state.values)
        assert state.change_points == detect_change_points(state.values)
    final = state.changes
    assert len(final.drifts) == 1 and len(final.steps) >= 6
    for step in range(1, 4):  # point by point near the drift's end too
        state2 = ChangePointState(x[:1250])
        for i in range(1250, 1400, step):
            state2.append(x[i : i + step])
        assert state2.changes == detect_changes(x[:1400])
    assert state.drifts == final.drifts


@pytest.fixture(scope="module")
def scores():  # type: ignore[no-untyped-def]
    data = suite(seed=1, count=160)
    found, drifts = [], []
    for s in data:
        changes = detect_changes(s.values)
        found.append([c.index for c in changes.steps])
        drifts.append([(d.start, d.end) for d in changes.drifts])
    return score_synthetic(data, found, drifts)


def test_synthetic_f1_over_all_families(scores) -> None:  # type: ignore[no-untyped-def]
    assert scores.f1 >= 0.95
    assert set(scores.by_scenario) == {name for name, _ in MIX}


def test_false_alarms_on_quiet_and_drifting_series(scores) -> None:  # type: ignore[no-untyped-def]
    assert scores.false_alarms <= 0.5
    assert scores.drift_alarms <= 0.5
    assert scores.drift_recall >= 0.9


def test_excursion_recall_on_the_synthetic_set(scores) -> None:  # type: ignore[no-untyped-def]
    assert scores.excursion_recall >= 0.9
