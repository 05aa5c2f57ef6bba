from __future__ import annotations

import numpy as np
import pytest

from bench_suites.accuracy.synthetic import FAMILIES, generate
from detector import ChangePointState, Thresholds, detect_change_points


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


@pytest.mark.parametrize("kind", ["steps", "noise", "ties", "late_step", "extremes"])
def test_tail_proofs_equal_a_full_scan(kind: str) -> None:
    """Every scan a Tail proves without rebuilding equals the full scan, bit for bit."""
    from detector.scan import rank_prefix, scan
    from detector.tail import Tail

    rng = np.random.default_rng(11)
    n = 1500
    x = rng.standard_normal(n)
    if kind == "steps":
        x += np.repeat([0.0, 3.0, 1.0], n // 3)
    elif kind == "ties":
        x = np.round(x + np.repeat([0.0, 2.0, 1.0], n // 3))
    elif kind == "late_step":
        x[-120:] += 2.5
    elif kind == "extremes":  # appended values beyond everything, then far below
        x += np.repeat([0.0, 3.0], [400, n - 400])
        x[1000:] = np.where(np.arange(n - 1000) % 40 < 20, 1e9, -1e9)
    tail = Tail.build(0, x[:1000])
    tail.scan_base(5)
    proved = 0
    for end in range(1001, n + 1):
        ok, found = tail.try_scan(x[:end], 5, 0.01)
        full = scan(rank_prefix(x[:end]), 5)
        if ok:
            proved += 1
            if found is not None:
                assert found == full
            else:  # proved not significant
                assert full is None or not full.significant(0.01, 5)
        else:
            tail = tail.rebuilt(x[:end])
            assert tail.scan_base(5) == full
    assert proved > 0


@pytest.mark.parametrize("pattern", ["extremes", "ties", "new_level", "mirror"])
def test_adversarial_appends_equal_full_runs(pattern: str) -> None:
    """Appended values chosen to move the rank sums as far as possible (all above
    or below everything, exact repeats of earlier values, a new level, values that
    undo the last change) keep every append equal to a full run; these are the
    cases the tails' certificates and bounds must survive."""
    rng = np.random.default_rng(5)
    base = np.concatenate(
        (rng.normal(0.0, 1.0, 1200), rng.normal(4.0, 1.0, 900), rng.normal(1.0, 1.0, 700))
    )
    state = ChangePointState(base)
    x = list(base)
    for i in range(260):
        if pattern == "extremes":
            v = 1e6 if (i // 7) % 2 else -1e6
        elif pattern == "ties":
            v = float(base[int(rng.integers(0, base.shape[0]))])
        elif pattern == "new_level":
            v = float(rng.normal(9.0 if i > 60 else 1.0, 1.0))
        else:
            v = float(rng.normal(4.0, 1.0))  # back to the middle level
        x.append(v)
        assert state.append([v]) == detect_change_points(np.array(x)), i


def test_a_tail_with_a_clear_change_is_proved_without_looking_at_its_splits() -> None:
    """The certificate holds: appends to a segment with one clear change are
    proved from the best split's own sum (the window is never evaluated)."""
    from detector.scan import rank_prefix, scan
    from detector.tail import Tail

    rng = np.random.default_rng(3)
    x = rng.standard_normal(4100) + np.repeat([0.0, 3.0], [1500, 2600])
    tail = Tail.build(0, x[:4000])
    tail.scan_base(5)
    for end in range(4001, 4101):
        ok, found = tail.try_scan(x[:end], 5, 0.01)
        assert ok and found == scan(rank_prefix(x[:end]), 5)
    assert tail._win_folded == 0 and tail._end_folded == 0


@pytest.mark.parametrize("n", [700, 5000])
def test_quiet_series_stay_equal_to_full_runs(n: int) -> None:
    """Series without a change take the value-free quiet proofs (short ones are
    rescanned after a few points, long ones keep their bounds); a late step
    must still be found exactly when a full run finds it."""
    rng = np.random.default_rng(n)
    x = rng.lognormal(0.0, 0.05, n + 300)
    x[n + 150 :] *= 1.08
    state = ChangePointState(x[:n])
    for end in range(n + 1, n + 301):
        got = state.append(x[end - 1 : end])
        if end % 10 == 0 or end > n + 150:
            assert got == detect_change_points(x[:end]), end
    assert any(c.index >= n + 140 for c in state.change_points)
