"""What confirmation and bisection both read: an alert's series and a run's samples.

Its own module so that confirmation (which starts bisections) and bisection
(which reads samples the same way) import it, not each other.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Alert, Benchmark, Branch, Machine, Measure, Result, Series


def series_context(session: Session, alert: Alert) -> tuple[Series, Benchmark, Measure, str, str]:
    """The alert's series, benchmark, measure, machine name and branch name."""
    series = session.get(Series, alert.series_id)
    assert series is not None
    bench = session.get(Benchmark, series.benchmark_id)
    measure = session.get(Measure, series.measure_id)
    machine = session.get(Machine, series.machine_id)
    branch = session.get(Branch, series.branch_id)
    assert bench is not None and measure is not None and machine is not None and branch
    return series, bench, measure, machine.name, branch.name


def run_samples(session: Session, run_id: int, benchmark_id: int, measure_id: int) -> list[float]:
    """The per-repeat values a run stored for one benchmark and measure."""
    rows = session.execute(
        select(Result.samples, Result.value).where(
            Result.run_id == run_id,
            Result.benchmark_id == benchmark_id,
            Result.measure_id == measure_id,
            Result.status == "ok",
        )
    )
    values: list[float] = []
    for samples, value in rows:
        values.extend(samples or ([] if value is None else [value]))
    return [float(v) for v in values]
