"""Formatting for templates: values in readable units, percentages, times, sparklines.

The JavaScript plot scales its axis with the same unit ladders (see
``web/static/dash/trend.js``); keep the two in step.
"""

from __future__ import annotations

import math
from datetime import datetime

from web.models.naming import benchmark_label

UNIT_LADDERS: dict[str, list[tuple[float, str]]] = {
    "s": [(1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms"), (1.0, "s")],
    "B": [(1.0, "B"), (1024.0, "KiB"), (1024.0**2, "MiB"), (1024.0**3, "GiB")],
    "bytes": [(1.0, "B"), (1024.0, "KiB"), (1024.0**2, "MiB"), (1024.0**3, "GiB")],
    "ops/s": [(1.0, "ops/s"), (1e3, "kops/s"), (1e6, "Mops/s"), (1e9, "Gops/s")],
    "instructions": [(1.0, "instr"), (1e3, "k instr"), (1e6, "M instr"), (1e9, "G instr")],
}


def unit_scale(unit: str, magnitude: float) -> tuple[float, str]:
    """(divisor, label) that shows ``magnitude`` with 1 to 3 digits before the point."""
    ladder = UNIT_LADDERS.get(unit)
    if ladder is None or not math.isfinite(magnitude) or magnitude == 0:
        return 1.0, unit
    chosen = ladder[0]
    for step in ladder:
        if abs(magnitude) >= step[0]:
            chosen = step
    return chosen


def format_value(value: float | None, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    divisor, label = unit_scale(unit, value)
    scaled = value / divisor
    digits = 0 if abs(scaled) >= 100 else (1 if abs(scaled) >= 10 else 2)
    return f"{scaled:.{digits}f} {label}".rstrip()


def format_pct(value: float | None, signed: bool = True) -> str:
    if value is None or math.isnan(value):
        return "—"
    if math.isinf(value):
        return "+∞" if value > 0 else "−∞"
    text = f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"
    return text.replace("-", "−")


def format_ci(low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return "—"
    return f"[{format_pct(low)}, {format_pct(high)}]"


def iso_time(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def utc_text(value: datetime | None) -> str:
    """Shown until the viewer's browser rewrites it in the local zone."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def spark_points(values: list[float], width: int = 120, height: int = 24) -> str:
    """SVG polyline ``points`` for a sparkline, y flipped so larger is higher."""
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    step = width / max(1, len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v - lo) / span * (height - 4):.1f}"
        for i, v in enumerate(values)
    )


def short_sha(sha: str | None) -> str:
    return (sha or "")[:10]


def commit_url(repo_url: str | None, sha: str) -> str | None:
    """The commit's page on its forge (GitHub/GitLab/Gitea all use /commit/<sha>)."""
    if not repo_url or not repo_url.startswith(("https://", "http://")):
        return None
    return f"{repo_url.rstrip('/').removesuffix('.git')}/commit/{sha}"


def safe_link(url: str | None) -> str | None:
    """Only http(s) links become anchors; ``javascript:`` and friends never do."""
    return url if url and url.startswith(("https://", "http://")) else None


def bench_label(bench: object) -> str:
    """A benchmark (or any row with name, params, display_name) named with its params."""
    return benchmark_label(
        str(getattr(bench, "name", "")),
        getattr(bench, "params", None),
        getattr(bench, "display_name", None),
    )


FILTERS = {
    "label": bench_label,
    "value": format_value,
    "pct": format_pct,
    "ci": format_ci,
    "iso": iso_time,
    "utc": utc_text,
    "spark": spark_points,
    "short": short_sha,
    "safe_link": safe_link,
}
