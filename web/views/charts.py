"""Geometry of the small server-rendered SVG charts: sparklines, the zoomed plot, ratio bars.

Drawn on the server so they need no script (the pages' Content-Security-Policy
allows none inline) and read the same without JavaScript.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SPARK_W, SPARK_H = 120, 24


@dataclass(frozen=True)
class Spark:
    points: str  # SVG polyline points
    marker_x: float | None  # where the change begins, None when outside the line
    count: int


def spark(values: list[float], marker: int | None = None) -> Spark:
    """A 120 x 24 line, larger values higher, with the change's first point marked."""
    if not values:
        return Spark("", None, 0)
    lo, hi = min(values), max(values)
    # At least 5% of the level tall: noise of a flat series stays a flat line, not a zigzag.
    floor = 0.05 * abs(sorted(values)[len(values) // 2])
    if hi - lo < floor:
        mid = (hi + lo) / 2
        lo, hi = mid - floor / 2, mid + floor / 2
    span = (hi - lo) or 1.0
    step = SPARK_W / max(1, len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{SPARK_H - 2 - (v - lo) / span * (SPARK_H - 4):.1f}"
        for i, v in enumerate(values)
    )
    x = None
    if marker is not None and 0 < marker < len(values):
        x = round((marker - 0.5) * step, 1)
    return Spark(points, x, len(values))


@dataclass(frozen=True)
class RatioBar:
    label: str
    ratio: float
    x: float  # left edge, in chart units (0..width)
    width: float
    verdict: str
    text: str


def ratio_bars(
    rows: list[tuple[str, float, float, str]], width: float = 400.0, limit: float = 4.0
) -> tuple[list[RatioBar], float]:
    """Bars of candidate / baseline on a log scale centred on 1 (no change).

    ``rows`` are (label, baseline, candidate, verdict); ratios are clipped to
    [1/limit, limit] so one outlier does not flatten the rest. Returns the bars
    and the x of the centre line.
    """
    extent = max([abs(math.log(c / b)) for _, b, c, _ in rows if b > 0 and c > 0] + [math.log(1.1)])
    extent = min(extent, math.log(limit)) * 1.05
    centre = width / 2
    bars = []
    for label, base, cand, verdict in rows:
        if not (base > 0 and cand > 0 and math.isfinite(base) and math.isfinite(cand)):
            continue
        ratio = cand / base
        logged = max(-extent, min(extent, math.log(ratio)))
        end = centre + logged / extent * centre
        bars.append(
            RatioBar(
                label,
                ratio,
                round(min(centre, end), 1),
                round(max(abs(end - centre), 1.0), 1),
                verdict,
                f"×{ratio:.3f}",
            )
        )
    return bars, centre


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    value: float
    commit_id: int
    changed: bool  # at or after the first changed commit


@dataclass(frozen=True)
class ZoomPlot:
    """An alert's range drawn at full resolution: one dot per commit, levels, the range band."""

    width: int
    height: int
    dots: list[Dot]
    band: tuple[float, float]  # x from the last good commit to the first changed one
    before: tuple[float, float, float]  # x1, x2, y of the level before the change
    after: tuple[float, float, float]
    y_ticks: list[tuple[float, float]]  # (y, value)
    left: int  # x where the plot area starts; tick labels end just before it


def zoom_plot(
    points: list[tuple[int, float, int]],
    first_position: int,
    levels: tuple[float, float],
    width: int = 640,
    height: int = 220,
) -> ZoomPlot | None:
    """``points`` are (position, value, commit id) in order; ``levels`` the detector's before/after.

    The y range covers the points and both levels, padded 5%, so the step
    between the levels fills the plot instead of the series' whole history.
    """
    if not points:
        return None
    pad_l, pad_r, pad_t, pad_b = 90, 10, 10, 20
    values = [v for _, v, _ in points] + list(levels)
    lo, hi = min(values), max(values)
    span = (hi - lo) or abs(hi) or 1.0
    lo, hi = lo - span * 0.05, hi + span * 0.05
    step = (width - pad_l - pad_r) / max(1, len(points) - 1)

    def y_of(v: float) -> float:
        return round(pad_t + (hi - v) / (hi - lo) * (height - pad_t - pad_b), 1)

    dots = [
        Dot(round(pad_l + i * step, 1), y_of(v), v, c, p >= first_position)
        for i, (p, v, c) in enumerate(points)
    ]
    first = next((i for i, d in enumerate(dots) if d.changed), len(dots))
    band_start = dots[first - 1].x if first > 0 else float(pad_l)
    band_end = dots[first].x if first < len(dots) else float(width - pad_r)
    ticks = [(y_of(lo + (hi - lo) * k / 4), lo + (hi - lo) * k / 4) for k in range(5)]
    return ZoomPlot(
        width,
        height,
        dots,
        (band_start, band_end),
        (float(pad_l), band_start, y_of(levels[0])),
        (band_end, float(width - pad_r), y_of(levels[1])),
        ticks,
        pad_l,
    )
