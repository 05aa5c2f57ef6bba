"""Values in readable units on every page: the unit ladders of ``web.views.format``."""

from __future__ import annotations

import pytest

from web.views.format import format_value


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.00123, "s", "1.23 ms"),
        (2.5e-7, "s", "250 ns"),
        (3 * 1024**2, "bytes", "3.00 MiB"),
        (20_970_299, "instructions", "21.0 M instr"),
        (6_249_432_000, "instructions", "6.25 G instr"),
        (512, "instructions", "512 instr"),
        (7.0, "widgets", "7.00 widgets"),
        (None, "s", "—"),
    ],
)
def test_values_read_in_their_unit(value: float | None, unit: str, shown: str) -> None:
    assert format_value(value, unit) == shown
