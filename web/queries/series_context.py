"""A series with what names it: its benchmark, measure, machine and branch.

Every page, feed and notification shows a series by these four; the join is
written here once so they all name a series the same way.
"""

from __future__ import annotations

from sqlalchemy import Join, join

from web.models import Benchmark, Branch, Machine, Measure, Series


def series_context() -> Join:
    """``Series`` joined to its benchmark, measure, machine and branch (all required)."""
    return (
        join(Series, Benchmark, Benchmark.id == Series.benchmark_id)
        .join(Measure, Measure.id == Series.measure_id)
        .join(Machine, Machine.id == Series.machine_id)
        .join(Branch, Branch.id == Series.branch_id)
    )
