"""The machines page: per machine its facts, noise over time, recent runs and fingerprint changes.

Issue 16, item 6. A reader comes here to ask "is this machine still fit to
benchmark on?": a rising weekly noise, a row of noisy runs (failed pre-flight)
or a fingerprint change answers it before any alert does.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from sqlalchemy import select

from web.db import request_session
from web.models import Machine
from web.queries.alerts import FingerprintChange, fingerprint_changes
from web.queries.machine_noise import RunNoise, WeekNoise, recent_runs, weekly_noise
from web.views.access import readable_project
from web.views.run_page import show_fact

SHOWN_RUNS = 30


@dataclass(frozen=True)
class MachineCard:
    machine: Machine
    runs: list[RunNoise]  # newest first, SHOWN_RUNS of them
    total_runs: int  # runs read for the weekly noise
    weeks: list[WeekNoise]
    changes: list[FingerprintChange]

    def changed(self, change: FingerprintChange) -> list[tuple[str, str, str]]:
        """(fact, before, after) of every fact that differs, removed or added ones included."""
        keys = list(change.before) + [k for k in change.after if k not in change.before]
        return [
            (
                k.replace("_", " "),
                show_fact(k, change.before.get(k)),
                show_fact(k, change.after.get(k)),
            )
            for k in keys
            if change.before.get(k) != change.after.get(k)
        ]

    @property
    def spark(self) -> list[float]:
        """Weekly noise, oldest first, for the sparkline (weeks without a spread skipped)."""
        return [w.cv for w in self.weeks if w.cv is not None]


def machines(project: str) -> str:
    found = readable_project(project)
    session = request_session()
    rows = list(
        session.scalars(
            select(Machine).where(Machine.project_id == found.id).order_by(Machine.name)
        )
    )
    cards = []
    for m in rows:
        runs = recent_runs(session, m.id)
        cards.append(
            MachineCard(
                m, runs[:SHOWN_RUNS], len(runs), weekly_noise(runs), fingerprint_changes(session, m)
            )
        )
    return render_template("dash/machines.html", project=found, cards=cards, show_fact=show_fact)
