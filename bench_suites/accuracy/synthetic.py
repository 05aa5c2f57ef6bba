"""Synthetic benchmark-like series with known change points (for evaluation and tests).

Noise families model what benchmark timings look like: gaussian; lognormal
(right-skewed); outliers (gaussian plus rare one-sided hiccups of 5–20 sigma);
bimodal (two close modes, e.g. CPU frequency or allocator states). Each series
has a level of 100, a coefficient of variation (CV) between 0.2% and 5%, and
one scenario:

* ``steps``: 1–3 planted changes; ``none``: no change; ``slow``: a ramp of one
  noise sigma over the whole series (not a change);
* ``excursion``: 1–2 stretches of 10–50 points that leave the level by 2–6
  sigma and come back (both ends are change points);
* ``drift``: a ramp of 3–8 sigma over 50–500 points (the right answer is one
  drift over the ramp and no step);
* ``alternating``: a stretch that switches 3–6 times between two levels 3–6
  sigma apart, every 10–40 points (every switch is a change point);
* ``variance``: a burst of 20–60 points with 3–5 times the noise (no change of
  level: not a change point);
* ``ar1``: AR(1) noise with ρ 0.1–0.5 (marginal CV as above), half with 1–3
  steps of 3–10 sigma, half without change.

A third of the series also carry 1–3-point spikes that return to the level and
are not change points.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from detector.scan import FloatArray

Family = Literal["gaussian", "lognormal", "outliers", "bimodal"]
Scenario = Literal["steps", "none", "slow", "excursion", "drift", "alternating", "variance", "ar1"]
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
    #: ``[start, end)`` of the planted ramp (``drift`` scenario)
    drift: tuple[int, int] | None = None
    #: change points that are ends of excursions (subset of ``change_points``)
    excursion_ends: tuple[int, ...] = ()


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
    elif scenario == "slow":
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


def shaped(rng: np.random.Generator, n: int, scenario: Scenario, family: Family) -> SyntheticSeries:
    """One series of the shaped scenarios (``excursion``, ``drift``,
    ``alternating``, ``variance``, ``ar1``); ``n >= 300``."""
    cv = float(np.exp(rng.uniform(np.log(0.002), np.log(0.05))))
    sigma = cv * LEVEL
    offset = np.zeros(n)  # in noise sigmas
    cps: list[int] = []
    sizes: list[float] = []
    ends: list[int] = []
    drift = None
    scale = np.ones(n)
    if scenario == "excursion":
        starts = _change_positions(rng, n, int(rng.integers(1, 3)), gap=120)
        for start in starts:
            length, size = int(rng.integers(10, 51)), float(rng.uniform(2.0, 6.0))
            offset[start : start + length] += size * rng.choice([-1.0, 1.0])
            cps += [start, start + length]
            sizes += [size, size]
        ends = list(cps)
    elif scenario == "drift":
        length = int(rng.integers(50, min(500, n - 100) + 1))
        start = int(rng.integers(50, n - length - 49))
        height = float(rng.uniform(3.0, 8.0)) * rng.choice([-1.0, 1.0])
        offset[start : start + length] = np.linspace(0.0, height, length, endpoint=False)
        offset[start + length :] = height
        drift = (start, start + length)
    elif scenario == "alternating":
        size = float(rng.uniform(3.0, 6.0)) * rng.choice([-1.0, 1.0])
        at = int(rng.integers(60, n // 2))
        for i in range(int(rng.integers(3, 7))):
            length = int(rng.integers(10, 41))
            if at + length > n - 60:
                break
            if i % 2 == 0:
                offset[at : at + length] = size
            cps.append(at)
            sizes.append(abs(size))
            at += length
        cps.append(at)  # back to the base level for good
        sizes.append(abs(size))
        if len(cps) % 2 == 1:  # an odd number of switches ends on the other level
            offset[at:] = size
    elif scenario == "variance":
        length = int(rng.integers(20, 61))
        start = int(rng.integers(30, n - length - 30))
        scale[start : start + length] = rng.uniform(3.0, 5.0)
    if scenario == "ar1":
        rho = float(rng.uniform(0.1, 0.5))
        shocks = rng.standard_normal(n) * math.sqrt(1.0 - rho * rho)
        e = np.empty(n)
        e[0] = rng.standard_normal()
        for t in range(1, n):
            e[t] = rho * e[t - 1] + shocks[t]
        base = sigma * e
        if rng.random() < 0.5:
            cps = _change_positions(rng, n, int(rng.integers(1, 4)), gap=max(10, n // 20))
            for cp in cps:
                size = float(rng.uniform(3.0, 10.0))
                offset[cp:] += size * rng.choice([-1.0, 1.0])
                sizes.append(size)
    else:
        base = noise(rng, family, n, sigma) * scale
    values = LEVEL + sigma * offset + base
    return SyntheticSeries(
        values,
        tuple(cps),
        tuple(sizes),
        family if scenario != "ar1" else "gaussian",
        scenario,
        cv,
        (),
        drift,
        tuple(ends),
    )


#: share of each scenario in :func:`suite`
MIX: tuple[tuple[Scenario, float], ...] = (
    ("steps", 0.30),
    ("none", 0.15),
    ("slow", 0.05),
    ("excursion", 0.15),
    ("drift", 0.12),
    ("alternating", 0.08),
    ("variance", 0.07),
    ("ar1", 0.08),
)


def suite(seed: int = 0, count: int = 400) -> list[SyntheticSeries]:
    """The evaluation set: ``count`` series cycling through the four noise
    families, scenarios in the shares of :data:`MIX`; lengths 50–1,000 for
    steps, none and slow, 300–2,000 for the shaped scenarios."""
    rng = np.random.default_rng(seed)
    names = [name for name, _ in MIX]
    shares = np.array([share for _, share in MIX])
    out: list[SyntheticSeries] = []
    for i in range(count):
        scenario: Scenario = names[int(rng.choice(len(names), p=shares / shares.sum()))]
        family = FAMILIES[i % len(FAMILIES)]
        if scenario in ("steps", "none", "slow"):
            out.append(generate(rng, int(rng.choice((50, 100, 200, 500, 1000))), scenario, family))
        else:
            out.append(shaped(rng, int(rng.choice((300, 500, 1000, 2000))), scenario, family))
    return out
