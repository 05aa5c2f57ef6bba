"""Unit normalisation: time to seconds, memory to bytes, everything else as written.

Every parser funnels its values through `normalize` so that one series never
mixes ``ns`` and ``us``: the wire contract (`runner.schema`) promises seconds
(``"s"``) and bytes (``"B"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from runner.schema import BYTES, SECONDS, Direction

Kind = Literal["time", "memory", "other"]

# Factors to seconds. Keys are matched case-sensitively first, then lower-cased,
# because "ms" (milliseconds) and "Ms" (megaseconds) must not be confused and no
# tool writes the latter.
TIME_FACTORS: dict[str, float] = {
    "ps": 1e-12,
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "nanoseconds": 1e-9,
    "microseconds": 1e-6,
    "milliseconds": 1e-3,
    "min": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hours": 3600.0,
}

# Factors to bytes. Decimal prefixes for kB/MB/GB (SI, as the tools that print
# them mean it), binary for KiB/MiB/GiB.
BYTE_FACTORS: dict[str, float] = {
    "b": 1.0,
    "byte": 1.0,
    "bytes": 1.0,
    "kb": 1e3,
    "kilobytes": 1e3,
    "mb": 1e6,
    "megabytes": 1e6,
    "gb": 1e9,
    "gigabytes": 1e9,
    "kib": 1024.0,
    "mib": 1024.0**2,
    "gib": 1024.0**3,
}

# Denominators of throughput units: "ops/ms" is rewritten to "ops/s".
_PER_TIME = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "min": 60.0}


@dataclass(frozen=True)
class Quantity:
    """A value in its base unit, with the kind of quantity it measures."""

    value: float
    unit: str
    kind: Kind


def time_factor(unit: str) -> float | None:
    """Seconds per `unit`, or None when `unit` is not a time unit."""
    unit = unit.strip()
    factor = TIME_FACTORS.get(unit)
    if factor is None and unit != "Ms":
        factor = TIME_FACTORS.get(unit.lower())
    return factor


def byte_factor(unit: str) -> float | None:
    """Bytes per `unit`, or None when `unit` is not a memory unit."""
    return BYTE_FACTORS.get(unit.strip().lower())


def normalize(value: float, unit: str) -> Quantity:
    """Convert `value` given in `unit` to seconds or bytes when it is a time or memory.

    A ``/op`` suffix counts as the same quantity (``us/op`` is a time). Other
    units are returned unchanged (stripped of surrounding blanks), except that
    a rate per millisecond/microsecond is rewritten per second so that
    ``ops/ms`` and ``ops/s`` land in one series.
    """
    unit = unit.strip()
    # "per operation" is implied for a benchmark: ns/op is a time, B/op a memory.
    amount = unit.removesuffix("/op") if unit.endswith("/op") and unit != "/op" else unit
    factor = time_factor(amount)
    if factor is not None:
        return Quantity(value * factor, SECONDS, "time")
    factor = byte_factor(amount)
    if factor is not None:
        return Quantity(value * factor, BYTES, "memory")
    numerator, slash, denominator = unit.rpartition("/")
    per = _PER_TIME.get(denominator) if slash and numerator else None
    if per is not None and denominator != "s":
        return Quantity(value / per, f"{numerator}/s", "other")
    return Quantity(value, unit, "other")


def scale_for(unit: str) -> tuple[float, str, Kind]:
    """The factor that `normalize` applies to `unit`, the base unit and the kind.

    Lets a parser convert a whole sample array with one multiplication.
    """
    quantity = normalize(1.0, unit)
    return quantity.value, quantity.unit, quantity.kind


def throughput_direction(unit: str) -> Direction:
    """Higher is better for rates (anything per unit of time), else lower."""
    _, slash, denominator = unit.strip().rpartition("/")
    is_rate = slash and (denominator in _PER_TIME or time_factor(denominator) is not None)
    return "higher_is_better" if is_rate else "lower_is_better"


def finite(value: float | None) -> float | None:
    """`value` when it is a finite number, else None (NaN and infinities carry no data)."""
    if value is None or not math.isfinite(value):
        return None
    return value
