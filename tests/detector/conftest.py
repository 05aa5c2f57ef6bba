from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def steps(
    rng: np.random.Generator, levels: list[float], length: int, cv: float = 0.01
) -> np.ndarray:
    """Concatenated segments of ``length`` points at each level, gaussian noise of CV ``cv``."""
    level = np.repeat(np.asarray(levels, dtype=float), length)
    return level * (1.0 + cv * rng.standard_normal(level.shape[0]))
