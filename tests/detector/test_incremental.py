from __future__ import annotations

import numpy as np
import pytest

from detector import ChangePointState, Thresholds, detect_change_points
from detector.synthetic import FAMILIES, generate


@pytest.mark.parametrize("seed", range(6))
def test_point_by_point_equals_full_run(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = generate(rng, 600, "steps", FAMILIES[seed % len(FAMILIES)])
    state = ChangePointState(s.values[:400])
    for i in range(400, 600):
        got = state.append(s.values[i : i + 1])
        if i % 25 == 0 or i == 599:
            assert got == detect_change_points(s.values[: i + 1])
    assert state.change_points == detect_change_points(s.values)


@pytest.mark.parametrize("seed", range(4))
def test_chunked_appends_equal_full_run(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    x = np.concatenate([generate(rng, 300, "steps", f).values for f in FAMILIES])
    state = ChangePointState(thresholds=Thresholds())
    pos = 0
    for size in rng.integers(1, 80, 60):
        state.append(x[pos : pos + size])
        pos += int(size)
        assert state.change_points == detect_change_points(x[:pos])
    np.testing.assert_array_equal(state.values, x[:pos])


def test_ties_and_quantised_values_stay_exact() -> None:
    rng = np.random.default_rng(7)
    x = np.round(np.repeat([10.0, 11.0, 10.0], 150) + rng.standard_normal(450), 0)
    state = ChangePointState()
    for v in x:
        state.append([v])
    assert state.change_points == detect_change_points(x)


def test_bad_append_leaves_state_unchanged() -> None:
    state = ChangePointState([1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        state.append([1.0, float("nan")])
    assert state.values.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError):
        state.values[0] = 5.0
