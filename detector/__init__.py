"""Change-point detection and comparison: pure numerics, no I/O."""

from detector.changepoint import detect_change_points, detect_changes
from detector.compare import benjamini_hochberg, compare, compare_many
from detector.incremental import ChangePointState
from detector.noise import noise_profile
from detector.types import (
    ChangePoint,
    Changes,
    Comparison,
    Drift,
    NoiseProfile,
    SummaryStats,
    Thresholds,
    Verdict,
)

#: Stored with every alert; bump when detection results can change.
DETECTOR_VERSION = "1.4.0"

__all__ = [
    "DETECTOR_VERSION",
    "ChangePoint",
    "ChangePointState",
    "Changes",
    "Comparison",
    "Drift",
    "NoiseProfile",
    "SummaryStats",
    "Thresholds",
    "Verdict",
    "benjamini_hochberg",
    "compare",
    "compare_many",
    "detect_change_points",
    "detect_changes",
    "noise_profile",
]
