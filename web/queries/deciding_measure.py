"""Which measure decides for a benchmark: its instruction count when it has one.

Wall time on a shared machine varies by 20% and more from one process to the
next; an instruction count under callgrind by under 0.1%. Where a suite counts
instructions, detection, confirmation, bisection and the PR report decide on the
count and show the time beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from web.models import Measure, Series

COUNT = "instructions"
TIME = "time"


def timed_with_counts(session: Session, series_ids: Sequence[int]) -> set[int]:
    """The ``time`` series among ``series_ids`` whose benchmark also has an
    ``instructions`` series on the same machine and branch."""
    if not series_ids:
        return set()
    timed, counted = aliased(Series), aliased(Series)
    timed_measure, counted_measure = aliased(Measure), aliased(Measure)
    rows = session.scalars(
        select(timed.id)
        .join(timed_measure, timed_measure.id == timed.measure_id)
        .join(
            counted,
            and_(
                counted.benchmark_id == timed.benchmark_id,
                counted.machine_id == timed.machine_id,
                counted.branch_id == timed.branch_id,
            ),
        )
        .join(counted_measure, counted_measure.id == counted.measure_id)
        .where(
            timed.id.in_(list(series_ids)),
            timed_measure.name == TIME,
            counted_measure.name == COUNT,
        )
    )
    return set(rows)
