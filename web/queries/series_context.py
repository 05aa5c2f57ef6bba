"""A series with what names it: its benchmark, measure, machine and branch.

Every page, feed and notification shows a series by these four; the join is
written here once so they all name a series the same way.
"""

from __future__ import annotations

from sqlalchemy import Join, join

from web.models import Benchmark, Branch, Machine, Measure, Series

# What names a series, in the order ``SeriesInfo`` and the alert feed read it:
# benchmark id, name, suite, params, display name; measure name, unit, direction;
# machine; branch.
NAMING_COLUMNS = (
    Benchmark.id,
    Benchmark.name,
    Benchmark.suite,
    Benchmark.params,
    Benchmark.display_name,
    Measure.name,
    Measure.unit,
    Measure.direction,
    Machine.name,
    Branch.name,
)


def series_context() -> Join:
    """``Series`` joined to its benchmark, measure, machine and branch (all required)."""
    return (
        join(Series, Benchmark, Benchmark.id == Series.benchmark_id)
        .join(Measure, Measure.id == Series.measure_id)
        .join(Machine, Machine.id == Series.machine_id)
        .join(Branch, Branch.id == Series.branch_id)
    )
