"""How a benchmark is named to people: its name and, when parametrized, its params.

One parametrized test (``test_x`` with ``n=1``, ``n=2``) is several benchmarks
that share a name; shown by name alone they read as identical rows. Every page,
PR comment, CLI line and notification names a benchmark through
:func:`benchmark_label`, so the params are never dropped in one place only.
"""

from __future__ import annotations

from collections.abc import Mapping


def params_text(params: Mapping[str, object] | None) -> str:
    """``k=v`` pairs by key, comma-separated (empty for no params)."""
    return ", ".join(f"{key}={value}" for key, value in sorted((params or {}).items()))


def benchmark_label(
    name: str, params: Mapping[str, object] | None, display_name: str | None = None
) -> str:
    """``test_x[n=1, size=big]``: the shown name (a rename wins) with its params.

    A name that already ends with exactly those params (some tools put them in
    the name too) is not given them twice.
    """
    shown = display_name or name
    text = params_text(params)
    if not text or shown.endswith(f"[{text}]"):
        return shown
    return f"{shown}[{text}]"
