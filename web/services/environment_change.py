"""A change of the measuring machine is not a change of the code.

When a runner's machine is replaced or upgraded (another CPU model, kernel or
Python), every benchmark on it jumps at the first run after, and the detector
sees a step there. Detection asks this module about each change point: if the
machine's fingerprint differs between the runs of the point and of the point
before it, the step is recorded as an ``environment`` annotation on the series
(shown on the trend) instead of an alert that would blame an innocent commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Annotation, Result, Run

KIND = "environment"
# What makes two runs of one machine name measure differently (MachineInfo fields).
_FIELDS = (
    ("cpu_model", "CPU model"),
    ("cores", "cores"),
    ("os", "OS"),
    ("kernel", "kernel"),
    ("python", "Python"),
)
# A change point can land a point off the run where the machine changed.
_RADIUS = 1


def environment_change(
    session: Session, series_id: int, commit_ids: Sequence[int], index: int
) -> tuple[int, str] | None:
    """(commit id, description) of a machine change at or next to point ``index``, or None."""
    for at in range(max(index - _RADIUS, 1), min(index + _RADIUS, len(commit_ids) - 1) + 1):
        before = _snapshot(session, series_id, commit_ids[at - 1])
        after = _snapshot(session, series_id, commit_ids[at])
        if before is None or after is None:
            continue
        changes = [
            f"{label} {before.get(key)} → {after.get(key)}"
            for key, label in _FIELDS
            if before.get(key) is not None
            and after.get(key) is not None
            and before.get(key) != after.get(key)
        ]
        if changes:
            return commit_ids[at], "environment changed: " + "; ".join(changes)
    return None


def record(session: Session, series_id: int, commit_id: int, note: str) -> None:
    """Keep one ``environment`` annotation per series and commit."""
    found = session.scalar(
        select(Annotation.id).where(
            Annotation.series_id == series_id,
            Annotation.commit_id == commit_id,
            Annotation.kind == KIND,
        )
    )
    if found is None:
        annotation = Annotation(series_id=series_id, commit_id=commit_id, kind=KIND, note=note)
        annotation.author = "benchwarden"
        session.add(annotation)


def _snapshot(session: Session, series_id: int, commit_id: int) -> dict[str, object] | None:
    """The machine snapshot of the newest run with a result of the series at the commit."""
    snapshot = session.scalar(
        select(Run.machine_snapshot)
        .join(Result, Result.run_id == Run.id)
        .where(Result.series_id == series_id, Result.commit_id == commit_id)
        .order_by(Run.id.desc())
        .limit(1)
    )
    return dict(snapshot) if isinstance(snapshot, dict) else None
