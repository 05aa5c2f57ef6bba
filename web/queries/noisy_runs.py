"""Which runs came from a noisy machine: their pre-flight checks found problems.

The runner records its checks in the run's machine snapshot
(``extra.preflight.problems``, see ``runner/preflight.py``); a non-empty list of
problems (load, other busy processes, frequency scaling) marks the run noisy.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from web.models import Measure, Run
from web.queries.deciding_measure import TIME

# JSON path to the first pre-flight problem: present only when there are problems.
PREFLIGHT_PROBLEM = ("extra", "preflight", "problems", 0)


def is_noisy() -> ColumnElement[bool]:
    """SQL: the run's pre-flight checks reported at least one problem."""
    problem: ColumnElement[str] = Run.machine_snapshot[PREFLIGHT_PROBLEM].as_string()
    return problem.is_not(None)


def noisy_time() -> ColumnElement[bool]:
    """SQL: a wall time measured by a noisy run (needs ``Run`` and ``Measure`` joined).

    Such results are stored and drawn hollow, but left out of what decides or
    summarises: detection's points, "Last" and sparklines, and compare by
    default. A busy machine's slow processes are not a change of the code.
    Instruction counts of the same run stay in, since load does not move them.
    """
    return and_(is_noisy(), Measure.name == TIME)
