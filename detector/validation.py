"""Input checks shared by the public functions."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def as_series(values: Iterable[float] | npt.ArrayLike, name: str = "values") -> FloatArray:
    """Return a new 1-D float64 array holding ``values`` (never a view).

    Raises ValueError when ``values`` is not 1-D, is complex or not numeric, or
    holds NaN or infinity. An empty input gives an empty array.
    """
    if isinstance(values, str | bytes):
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got a string")
    if not isinstance(values, np.ndarray) and not hasattr(values, "__len__"):
        values = list(values)  # type: ignore[arg-type]
    if np.iscomplexobj(values):  # type: ignore[arg-type]
        raise ValueError(f"{name} must be real numbers, got complex values")
    try:
        array = np.array(values, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D sequence of numbers: {exc}") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name} must be finite; position {bad} holds {array[bad]!r}")
    return array
