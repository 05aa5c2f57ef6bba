"""Change-point detection and comparison: pure numerics, no I/O."""
