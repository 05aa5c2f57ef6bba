from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from detector import ChangePointState, detect_change_points

SETTINGS = settings(max_examples=40, deadline=None)

# Integers keep shifting and power-of-two scaling exact, so ranks cannot change
# through rounding; the steps give the detector something to find.
series = st.lists(st.integers(-1000, 1000), min_size=0, max_size=120).map(
    lambda xs: np.array(xs, dtype=float) + np.repeat([0.0, 5000.0, -3000.0], 40)[: len(xs)]
)


@SETTINGS
@given(series, st.integers(-(10**6), 10**6), st.sampled_from([0.25, 0.5, 2.0, 1024.0]))
def test_shift_and_scale_leave_indices_unchanged(x: np.ndarray, shift: int, scale: float) -> None:
    base = [c.index for c in detect_change_points(x)]
    assert [c.index for c in detect_change_points(x + shift)] == base
    assert [c.index for c in detect_change_points(x * scale)] == base


@SETTINGS
@given(st.floats(-1e12, 1e12, allow_nan=False), st.integers(0, 500))
def test_constant_series_has_no_change_points(value: float, n: int) -> None:
    assert detect_change_points([value] * n) == []


@SETTINGS
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=50),
)
def test_any_float_input_is_an_answer_or_value_error(xs: list[float]) -> None:
    finite = all(np.isfinite(xs))
    try:
        cps = detect_change_points(xs)
    except ValueError:
        assert not finite
        return
    assert finite
    indices = [c.index for c in cps]
    assert indices == sorted(set(indices))
    assert all(0 < i < len(xs) for i in indices)


@SETTINGS
@given(series, st.lists(st.integers(1, 30), min_size=1, max_size=6))
def test_incremental_equals_full_run(x: np.ndarray, chunks: list[int]) -> None:
    state = ChangePointState(x[: len(x) // 2])
    pos = len(x) // 2
    for size in chunks:
        state.append(x[pos : pos + size])
        pos += size
    state.append(x[pos:])
    assert state.change_points == detect_change_points(x)
