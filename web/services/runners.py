"""Runner liveness: heartbeats in, "who serves this machine?" out.

A runner worker reports every ``BENCHWARDEN_HEARTBEAT_INTERVAL`` seconds (60 by
default) and when a job starts; a machine is *live* when a heartbeat arrived
within `LIVE_WINDOW`, three intervals, so one lost report does not make it look
dead. ``schedule`` uses this to refuse queueing jobs that no runner will take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import RunnerHeartbeat
from web.models.base import utcnow

LIVE_WINDOW = timedelta(seconds=180)


@dataclass(frozen=True)
class MachineStatus:
    machine: str
    last_seen_at: datetime | None
    live: bool

    def describe(self, now: datetime) -> str:
        if self.last_seen_at is None:
            return f"{self.machine} (no runner ever seen)"
        ago = int((now - self.last_seen_at).total_seconds())
        return f"{self.machine} (runner seen {ago} s ago{'' if self.live else ': gone'})"


def record_heartbeat(session: Session, machine: str, hostname: str = "") -> RunnerHeartbeat:
    """Remember that a runner serving ``machine`` is alive now."""
    beat = session.get(RunnerHeartbeat, machine)
    if beat is None:
        beat = RunnerHeartbeat(machine=machine)
        session.add(beat)
    beat.hostname, beat.last_seen_at = hostname[:255], utcnow()
    session.flush()
    return beat


def machine_status(
    session: Session, machines: Sequence[str], now: datetime | None = None
) -> list[MachineStatus]:
    """Liveness of each of ``machines``, in the order given."""
    now = now or utcnow()
    query = select(RunnerHeartbeat.machine, RunnerHeartbeat.last_seen_at).where(
        RunnerHeartbeat.machine.in_(list(machines))
    )
    seen = {machine: last for machine, last in session.execute(query).tuples()}
    return [
        MachineStatus(m, seen.get(m), seen.get(m) is not None and now - seen[m] <= LIVE_WINDOW)
        for m in machines
    ]


def live_machines(session: Session, now: datetime | None = None) -> list[str]:
    """Every machine with a live runner, by name."""
    since = (now or utcnow()) - LIVE_WINDOW
    query = select(RunnerHeartbeat.machine).where(RunnerHeartbeat.last_seen_at >= since)
    return sorted(session.scalars(query))
