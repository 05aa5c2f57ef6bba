"""The run page: what ran, where, how noisy the machine was, its results and its log.

Issue 16, item 5: pre-flight checks as a checklist (a failed check marks the
run "noisy"), values and memory in human units, the log wrapped with a filter
box (``static/dash/run.js``; the page reads fine without it) and links to each
result's trend and to a comparison with the parent commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.db import request_session
from web.models import Run, Series
from web.queries import catalog
from web.queries.lineage import parent_sha
from web.views.access import readable_project
from web.views.format import format_value
from web.views.preflight import checklist

# Snapshot facts shown in their own unit; everything else is shown as text.
BYTE_FACTS = ("memory_bytes", "free_bytes")


def run_detail(project: str, run_id: int) -> str:
    found = readable_project(project)
    session = request_session()
    detail = catalog.run_detail(session, run_id)
    if detail is None or detail[0].project_id != found.id:
        abort(404, description="No such run in this project.")
    run, commit, machine, branch = detail
    return render_template(
        "dash/run.html",
        project=found,
        run=run,
        commit=commit,
        machine=machine,
        branch=branch,
        results=catalog.run_results(session, run_id),
        series_of=_series_by_benchmark(session, run),
        checks=checklist(run.machine_snapshot),
        facts=machine_facts(run.machine_snapshot),
        took=duration(run.started_at, run.finished_at),
        parent=parent_sha(session, commit, run.branch_id),
        log_lines=(run.log or "").count("\n") + 1 if run.log else 0,
    )


def _series_by_benchmark(session: Session, run: Run) -> set[int]:
    """Benchmarks of the run that have a trend page (i.e. a series on its machine)."""
    return set(
        session.scalars(
            select(Series.benchmark_id).where(
                Series.machine_id == run.machine_id, Series.project_id == run.project_id
            )
        )
    )


def show_fact(key: str, value: Any) -> str:
    """One snapshot fact as text: bytes in KiB/MiB/GiB, lists joined, None as a dash."""
    if value is None or value == [] or value == {}:
        return "—"
    if key in BYTE_FACTS and isinstance(value, int | float):
        return format_value(float(value), "B")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def machine_facts(snapshot: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(name, text) of the machine as the run saw it; pre-flight has its own checklist."""
    if not isinstance(snapshot, dict):  # client data: anything JSON can hold
        return []
    extra = snapshot.get("extra") if isinstance(snapshot.get("extra"), dict) else {}
    rows = [(k, show_fact(k, v)) for k, v in snapshot.items() if k != "extra"]
    rows += [(k, show_fact(k, v)) for k, v in (extra or {}).items() if k != "preflight"]
    return [(k.replace("_", " "), v) for k, v in rows]


def duration(start: datetime | None, end: datetime | None) -> str | None:
    """``12 min 34 s`` from start to end, or None when either is unknown."""
    if start is None or end is None or end < start:
        return None
    seconds = round((end - start).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
