from __future__ import annotations

import math

import numpy as np
import pytest

import detector
from detector import ChangePoint, Thresholds, detect_change_points
from tests.detector.conftest import steps


def test_public_names_and_version() -> None:
    assert isinstance(detector.DETECTOR_VERSION, str) and detector.DETECTOR_VERSION
    for name in detector.__all__:
        assert hasattr(detector, name)


def test_planted_steps_found_at_the_right_index(rng: np.random.Generator) -> None:
    x = steps(rng, [100.0, 110.0, 95.0], 200)
    cps = detect_change_points(x)
    assert [c.index for c in cps] == [200, 400]
    first, second = cps
    assert first.direction == "increase" and second.direction == "decrease"
    assert first.before == pytest.approx(100.0, rel=0.01)
    assert first.after == pytest.approx(110.0, rel=0.01)
    assert first.rel_change == pytest.approx(0.10, abs=0.01)
    assert 0.0 <= first.pvalue < Thresholds().alpha
    assert first.effect_sigma > 5


def test_result_is_a_list_of_frozen_change_points(rng: np.random.Generator) -> None:
    cps = detect_change_points(steps(rng, [1.0, 2.0], 50).tolist())
    assert isinstance(cps, list) and all(isinstance(c, ChangePoint) for c in cps)
    with pytest.raises(AttributeError):
        cps[0].index = 3  # type: ignore[misc]


@pytest.mark.parametrize("width", [1, 2, 3])
def test_spikes_are_not_change_points(rng: np.random.Generator, width: int) -> None:
    x = steps(rng, [100.0], 300)
    for start in (50, 150, 295):
        x[start : start + width] *= 1.5
    assert detect_change_points(x) == []


def test_spike_next_to_a_real_change_keeps_the_change(rng: np.random.Generator) -> None:
    x = steps(rng, [100.0, 120.0], 100)
    x[60:62] = 300.0
    assert [c.index for c in detect_change_points(x)] == [100]


def test_constant_and_short_series_have_no_change_points() -> None:
    assert detect_change_points([5.0] * 1000) == []
    assert detect_change_points([]) == []
    assert detect_change_points([1.0]) == []
    assert detect_change_points(np.arange(9.0)) == []


def test_short_series_with_a_large_step() -> None:
    low = [10.0, 10.1, 9.9, 10.0, 10.05, 9.95, 10.02, 9.98, 10.0, 10.01]
    x = [*low, *(v + 5.0 for v in low)]
    assert [c.index for c in detect_change_points(x)] == [10]


@pytest.mark.parametrize(
    "bad",
    [
        [1.0, float("nan"), 2.0],
        [1.0, math.inf],
        [[1.0, 2.0], [3.0, 4.0]],
        "abc",
        [1 + 2j, 3.0],
        ["x", "y"],
    ],
)
def test_bad_input_raises_value_error(bad: object) -> None:
    with pytest.raises(ValueError):
        detect_change_points(bad)  # type: ignore[arg-type]


def test_input_is_not_mutated(rng: np.random.Generator) -> None:
    x = steps(rng, [1.0, 1.2], 100)
    copy = x.copy()
    detect_change_points(x)
    np.testing.assert_array_equal(x, copy)


def test_small_move_in_noisy_series_is_not_flagged_but_is_in_quiet_series(
    rng: np.random.Generator,
) -> None:
    noisy = steps(rng, [100.0, 102.0], 100, cv=0.10)
    quiet = steps(rng, [100.0, 102.0], 100, cv=0.002)
    assert detect_change_points(noisy) == []
    assert [c.index for c in detect_change_points(quiet)] == [100]


def test_no_false_alarms_on_long_noise(rng: np.random.Generator) -> None:
    for family in ("normal", "lognormal"):
        x = rng.standard_normal(20_000) if family == "normal" else rng.lognormal(0, 1, 20_000)
        assert detect_change_points(x) == []


def test_min_rel_change_threshold(rng: np.random.Generator) -> None:
    x = steps(rng, [100.0, 101.0], 200, cv=0.001)
    assert len(detect_change_points(x)) == 1
    assert detect_change_points(x, thresholds=Thresholds(min_rel_change=0.02)) == []


@pytest.mark.parametrize(
    "kwargs", [{"alpha": 0.0}, {"alpha": 1.5}, {"min_segment": 1}, {"min_effect_sigma": -1.0}]
)
def test_thresholds_are_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Thresholds(**kwargs)  # type: ignore[arg-type]


def test_huge_finite_values_do_not_overflow() -> None:
    """Residuals near 1e154 overflowed when squared (found by the property test)."""
    xs = [0.0] * 9 + [3.75885292e154]
    with np.errstate(over="raise"):
        assert detect_change_points(xs) == []
