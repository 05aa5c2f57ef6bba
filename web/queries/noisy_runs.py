"""Which runs came from a noisy machine: their pre-flight checks found problems.

The runner records its checks in the run's machine snapshot
(``extra.preflight.problems``, see ``runner/preflight.py``); a non-empty list of
problems (load, other busy processes, frequency scaling) marks the run noisy.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from web.models import Run

# JSON path to the first pre-flight problem: present only when there are problems.
PREFLIGHT_PROBLEM = ("extra", "preflight", "problems", 0)


def is_noisy() -> ColumnElement[bool]:
    """SQL: the run's pre-flight checks reported at least one problem."""
    problem: ColumnElement[str] = Run.machine_snapshot[PREFLIGHT_PROBLEM].as_string()
    return problem.is_not(None)
