from __future__ import annotations

import numpy as np
import pytest

from detector import noise_profile


def test_noise_of_stepped_gaussian_series() -> None:
    rng = np.random.default_rng(0)
    x = np.repeat([100.0, 110.0], 500) + rng.standard_normal(1000)
    p = noise_profile(x)
    assert p.sigma == pytest.approx(1.0, rel=0.1)
    assert p.rel_noise == pytest.approx(0.0095, rel=0.15)
    assert not p.bimodal and not p.drifting and not p.unstable
    assert p.min_rel_change == pytest.approx(p.rel_noise)


def test_bimodal_series_is_flagged() -> None:
    rng = np.random.default_rng(1)
    x = 100 + rng.standard_normal(600) + 8.0 * (rng.random(600) < 0.4)
    p = noise_profile(x)
    assert p.bimodal and p.unstable


def test_outliers_do_not_make_a_series_bimodal() -> None:
    rng = np.random.default_rng(2)
    x = 100 + rng.standard_normal(600)
    x[::50] += 30
    assert not noise_profile(x).bimodal


def test_drifting_series_is_flagged() -> None:
    rng = np.random.default_rng(3)
    x = 100 + np.linspace(0, 3, 800) + rng.standard_normal(800)
    p = noise_profile(x, [])
    assert p.drifting and p.unstable


def test_minimum_meaningful_change_follows_noise() -> None:
    rng = np.random.default_rng(4)
    noisy = noise_profile(100 * (1 + 0.10 * rng.standard_normal(300)))
    quiet = noise_profile(100 * (1 + 0.002 * rng.standard_normal(300)))
    assert noisy.min_rel_change > 0.02 > quiet.min_rel_change


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        noise_profile([1.0, 2.0])
    with pytest.raises(ValueError):
        noise_profile([1.0, 2.0, float("inf")])
