"""The compare page: two commits (or two runs), every benchmark, sorted by impact."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from detector.types import Verdict
from web.api.params import whole_number
from web.db import request_session
from web.models import Machine
from web.services.compare import CommitComparison, CompareError, compare_commits, compare_runs
from web.views.access import readable_project

VERDICTS = [v.value for v in Verdict]


def compare_page(project: str) -> str:
    found = readable_project(project)
    session = request_session()
    args = request.args
    kind = "runs" if args.get("kind") == "runs" else "commits"
    baseline, candidate = args.get("baseline", "").strip(), args.get("candidate", "").strip()
    machine = args.get("machine", "")
    verdict = args.get("verdict", "") if args.get("verdict", "") in VERDICTS else ""
    search = args.get("q", "").strip().lower()
    result: CommitComparison | None = None
    error = None
    if baseline and candidate:
        try:
            result = _run(session, found.id, kind, baseline, candidate, machine)
        except CompareError as exc:
            error = str(exc)
    rows = result.rows if result else []
    if verdict:
        rows = [r for r in rows if r.comparison.verdict == verdict]
    if search:
        rows = [r for r in rows if search in r.label.lower() or search in r.suite.lower()]
    machines = list(
        session.scalars(
            select(Machine.name).where(Machine.project_id == found.id).order_by(Machine.name)
        )
    )
    return render_template(
        "dash/compare.html",
        project=found,
        kind=kind,
        baseline=baseline,
        candidate=candidate,
        machine=machine,
        machines=machines,
        verdict=verdict,
        verdicts=VERDICTS,
        search=args.get("q", ""),
        result=result,
        rows=rows,
        error=error,
    )


def _run(
    session: Session, project_id: int, kind: str, baseline: str, candidate: str, machine: str
) -> CommitComparison:
    if kind == "runs":
        baseline_id, candidate_id = whole_number(baseline), whole_number(candidate)
        if baseline_id is None or candidate_id is None:
            raise CompareError("run ids are whole numbers from 1 to 2**63-1")
        return compare_runs(session, project_id, baseline_id, candidate_id)
    return compare_commits(session, project_id, baseline, candidate, machine or None)
