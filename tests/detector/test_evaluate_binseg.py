from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench_suites.accuracy.evaluate_binseg import ROUNDS, binseg_default

TCPD = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "tcpd"

# What TCPDBench's own run of R changepoint's BinSeg (default experiment, MBIC,
# Q = 5) reported for these series, after TCPDBench's clean-up that drops 0 and
# n - 1 (its published abed_results/<series>/default_binseg/*.json).
PUBLISHED = {
    "bank": [19, 315, 368],
    "brent_spot": [139, 279, 378],
    "centralia": [9],
    "lga_passengers": [86, 253, 422],
    "nile": [27],
    "ozone": [10, 35],
    "quality_control_4": [157, 287, 341, 467],
    "quality_control_5": [],
    "us_population": [218, 459, 621],
}


@pytest.mark.corpus  # reads ../shared: runs again in place in .ci/run
@pytest.mark.skipif(not TCPD.is_dir(), reason="TCPD data not beside the repository")
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_matches_the_locations_tcpdbench_published(name: str) -> None:
    data = json.loads((TCPD / "series" / f"{name}.json").read_text())
    assert binseg_default(data["series"][0]["raw"]) == PUBLISHED[name]


def test_reports_the_last_point_before_a_step() -> None:
    rng = np.random.default_rng(3)
    values = np.r_[np.zeros(60), np.full(60, 4.0)] + 0.3 * rng.standard_normal(120)
    assert binseg_default(values) == [59]


def test_stops_after_five_rounds_however_many_steps() -> None:
    # Seven clear steps (every 50 points) but only five rounds of splitting.
    rng = np.random.default_rng(1)
    values = np.tile(np.repeat([0.0, 10.0], 50), 4) + 0.5 * rng.standard_normal(400)
    found = binseg_default(values)
    assert len(found) == ROUNDS
    assert set(found) <= {50 * k - 1 for k in range(1, 8)}


def test_penalty_keeps_noise_unsplit() -> None:
    values = np.random.default_rng(7).standard_normal(300)
    assert binseg_default(values) == []


def test_degenerate_series_give_nothing() -> None:
    assert binseg_default([]) == []
    assert binseg_default([1.0, 2.0, 3.0]) == []
    assert binseg_default(np.full(50, 2.5)) == []
