"""Synthetic benchmark-like series with known change points (for evaluation and tests).

Noise families model what benchmark timings look like: gaussian; lognormal
(right-skewed); outliers (gaussian plus rare one-sided hiccups of 5–20 sigma);
bimodal (two close modes, e.g. CPU frequency or allocator states). Each series
has a level of 100, a coefficient of variation (CV) between 0.2% and 5%, and
one of three scenarios: steps (1–3 planted changes), no change, or slow drift
(a linear ramp of one noise sigma over the series, which is not a change
point). A third of the series also carry 1–3-point spikes that return to the
level and are not change points.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np

from detector.scan import FloatArray

Family = Literal["gaussian", "lognormal", "outliers", "bimodal"]
Scenario = Literal["steps", "none", "drift"]
FAMILIES: tuple[Family, ...] = ("gaussian", "lognormal", "outliers", "bimodal")
LEVEL = 100.0


@dataclass(frozen=True)
class SyntheticSeries:
    """One generated series: ``values`` (shape ``(n,)``), true change indices,
    step sizes in noise sigmas (one per change), and how it was made."""

    values: FloatArray
    change_points: tuple[int, ...]
    step_sigmas: tuple[float, ...]
    family: Family
    scenario: Scenario
    cv: float
    spikes: tuple[int, ...]


def noise(rng: np.random.Generator, family: Family, n: int, sigma: float) -> FloatArray:
    """Zero-median noise of ``family`` with standard deviation about ``sigma``."""
    if family == "gaussian":
        return np.asarray(sigma * rng.standard_normal(n), dtype=np.float64)
    if family == "lognormal":
        shape = 0.5
        raw = rng.lognormal(0.0, shape, n)
        scale = sigma / (np.exp(shape**2 / 2) * np.sqrt(np.exp(shape**2) - 1))
        return np.asarray(scale * (raw - 1.0), dtype=np.float64)
    if family == "outliers":
        base = sigma * rng.standard_normal(n)
        hits = rng.random(n) < 0.02
        base[hits] += sigma * rng.uniform(5.0, 20.0, int(hits.sum()))
        return base
    # bimodal: modes 2.5 within-sigmas apart, the upper one holding 30 %
    within = sigma / np.sqrt(1.0 + 2.5**2 * 0.21)
    upper = rng.random(n) < 0.3
    return np.asarray(within * (rng.standard_normal(n) + 2.5 * upper), dtype=np.float64)


def _change_positions(rng: np.random.Generator, n: int, count: int, gap: int) -> list[int]:
    for _ in range(100):
        cps = sorted(int(c) for c in rng.integers(gap, n - gap, count))
        bounds = [0, *cps, n]
        if all(b - a >= gap for a, b in itertools.pairwise(bounds)):
            return cps
    return [n // 2]


def _step_size(rng: np.random.Generator, cv: float) -> tuple[float, float]:
    """(relative step, CV) with the step at least 2 noise sigmas: half the steps
    are 2–10 sigmas, half are 1–50 % (with the CV lowered to half the step when
    needed, since smaller moves are below the meaningful change by design)."""
    if rng.random() < 0.5:
        return float(rng.uniform(2.0, 10.0)) * cv, cv
    rel = float(np.exp(rng.uniform(np.log(0.01), np.log(0.5))))
    return rel, min(cv, rel / 2.0)


def generate(
    rng: np.random.Generator, n: int, scenario: Scenario, family: Family
) -> SyntheticSeries:
    """One series of ``n`` points (``n >= 40``)."""
    cv = float(np.exp(rng.uniform(np.log(0.002), np.log(0.05))))
    level = np.full(n, LEVEL)
    cps: list[int] = []
    rels: list[float] = []
    if scenario == "steps":
        cps = _change_positions(rng, n, int(rng.integers(1, 4)), gap=max(10, n // 20))
        for _ in cps:
            rel, cv = _step_size(rng, cv)
            rels.append(rel if rng.random() < 0.5 else -rel / (1 + rel))
        for cp, rel in zip(cps, rels, strict=True):
            level[cp:] *= 1.0 + rel
    elif scenario == "drift":
        level *= 1.0 + cv * np.linspace(0.0, 1.0, n)
    sigma = cv * LEVEL
    values = level + noise(rng, family, n, sigma) * level / LEVEL
    spikes: list[int] = []
    if rng.random() < 1 / 3:
        for _ in range(int(rng.integers(1, 4))):
            start, width = int(rng.integers(0, n - 3)), int(rng.integers(1, 4))
            values[start : start + width] += sigma * rng.uniform(5.0, 20.0)
            spikes.append(start)
    steps = tuple(
        abs(np.prod(1 + np.array(rels[: i + 1])) - np.prod(1 + np.array(rels[:i]))) / cv
        for i in range(len(rels))
    )
    return SyntheticSeries(
        values, tuple(cps), tuple(float(s) for s in steps), family, scenario, cv, tuple(spikes)
    )


def suite(seed: int = 0, count: int = 320) -> list[SyntheticSeries]:
    """The evaluation set: ``count`` series cycling through the four families,
    60 % with steps, 25 % without change, 15 % drifting; lengths 50–1,000."""
    rng = np.random.default_rng(seed)
    lengths = (50, 100, 200, 500, 1000)
    out: list[SyntheticSeries] = []
    for i in range(count):
        u = rng.random()
        scenario: Scenario = "steps" if u < 0.6 else ("none" if u < 0.85 else "drift")
        n = int(rng.choice(lengths))
        out.append(generate(rng, n, scenario, FAMILIES[i % len(FAMILIES)]))
    return out
