"""The compare page: two commits (or two runs), every benchmark, sorted by impact.

With nothing asked it compares the default branch's latest commit with its
parent; a pull request's commit is compared with its merge-base. The picker
offers the usual baselines (parent, merge-base, latest, last release), each
side is described (commit message, runs, machines) and the page warns when a
side stands on a noisy machine or too few samples. Wall times from noisy runs
are left out of a comparison of commits unless ``noisy=1`` asks for them (the
page says how many it left out). An unknown commit answers
404 and a malformed run id 400, with the page and its message.
"""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from detector.types import Verdict
from web.api.params import whole_number
from web.db import request_session
from web.models import Commit, Machine, Project, Run
from web.queries import compare_picker as picker
from web.queries.compare_sides import Side, commit_side, run_side
from web.services.compare import (
    CommitComparison,
    CompareError,
    ComparisonRow,
    compare_commits,
    compare_runs,
)
from web.services.pr_compare import find_baseline
from web.views.access import readable_project
from web.views.charts import ratio_bars
from web.views.format import commit_url
from web.views.labels import plural

VERDICTS = [v.value for v in Verdict]
CHART_ROWS = 60  # bars in the ratio chart; the table below has every row


class BadInput(ValueError):
    """The request is malformed (400), as opposed to naming something unknown (404)."""


def compare_page(project: str) -> tuple[str, int]:
    found = readable_project(project)
    session = request_session()
    args = request.args
    kind = "runs" if args.get("kind") == "runs" else "commits"
    baseline, candidate = args.get("baseline", "").strip(), args.get("candidate", "").strip()
    machine = args.get("machine", "")
    verdict = args.get("verdict", "") if args.get("verdict", "") in VERDICTS else ""
    search = args.get("q", "").strip().lower()
    include_noisy = args.get("noisy") == "1"
    picks: list[picker.Pick] = []
    if kind == "commits":
        baseline, candidate, picks = _defaults(session, found, baseline, candidate)
    result: CommitComparison | None = None
    error, status = None, 200
    if baseline and candidate:
        try:
            result = _run(session, found.id, kind, baseline, candidate, machine, include_noisy)
        except BadInput as exc:
            error, status = str(exc), 400
        except CompareError as exc:
            error, status = str(exc), 404
    rows = _filtered(result.rows if result else [], verdict, search)
    sides = _sides(session, found.id, kind, baseline, candidate, machine) if result else []
    bars, centre = ratio_bars(
        [
            (
                f"{r.label} · {r.measure}",
                r.baseline_center,
                r.candidate_center,
                r.comparison.verdict,
            )
            for r in rows[:CHART_ROWS]
        ]
    )
    page = render_template(
        "dash/compare.html",
        project=found,
        kind=kind,
        baseline=baseline,
        candidate=candidate,
        machine=machine,
        include_noisy=include_noisy,
        machines=_machines(session, found.id),
        verdict=verdict,
        verdicts=VERDICTS,
        search=args.get("q", ""),
        result=result,
        rows=rows,
        error=error,
        picks=picks,
        recent=picker.recent_commits(session, found.id) if kind == "commits" else [],
        sides=sides,
        warnings=_warnings(sides),
        bars=bars,
        centre=centre,
        commit_url=commit_url,
    )
    return page, status


def _filtered(rows: list[ComparisonRow], verdict: str, search: str) -> list[ComparisonRow]:
    """The rows of one verdict and whose name or suite contains ``search`` (either optional)."""
    if verdict:
        rows = [r for r in rows if r.comparison.verdict == verdict]
    if search:
        rows = [r for r in rows if search in r.label.lower() or search in r.suite.lower()]
    return rows


def _machines(session: Session, project_id: int) -> list[str]:
    query = select(Machine.name).where(Machine.project_id == project_id).order_by(Machine.name)
    return list(session.scalars(query))


def _defaults(
    session: Session, project: Project, baseline: str, candidate: str
) -> tuple[str, str, list[picker.Pick]]:
    """Fill an empty side and list the usual baselines for the candidate."""
    latest = picker.latest_on_branch(session, project.id, project.default_branch)
    chosen = picker.find_commit(session, project.id, candidate) if candidate else latest
    picks: list[picker.Pick] = []
    usual: Commit | None = None
    if chosen is not None:
        parent = picker.parent_with_runs(session, project.id, chosen)
        if parent is not None:
            picks.append(picker.Pick("parent", f"parent of {chosen.sha[:7]}", parent))
        merge_base = _merge_base(session, project, chosen)
        if merge_base is not None:
            picks.append(picker.Pick("merge_base", "merge-base", merge_base))
        usual = merge_base or parent
    if latest is not None:
        picks.append(picker.Pick("latest", f"latest on {project.default_branch}", latest))
    release = picker.last_release(session, project.id)
    if release is not None:
        picks.append(picker.Pick("release", f"release {release[0]}", release[1]))
    if not candidate and chosen is not None:
        candidate = chosen.sha
    if not baseline and usual is not None:
        baseline = usual.sha
    return baseline, candidate, picks


def _merge_base(session: Session, project: Project, commit: Commit) -> Commit | None:
    """Where a pull request's commit left the default branch, when benchwarden holds it."""
    pr = picker.pr_of(session, commit)
    if pr is None:
        return None
    found = find_baseline(session, project, pr[0], commit, pr[1], pr[2])
    if found.merge_base_sha is None:
        return None
    return picker.find_commit(session, project.id, found.merge_base_sha)


def _run(
    session: Session,
    project_id: int,
    kind: str,
    baseline: str,
    candidate: str,
    machine: str,
    include_noisy: bool,
) -> CommitComparison:
    if kind == "runs":
        baseline_id, candidate_id = whole_number(baseline), whole_number(candidate)
        if baseline_id is None or candidate_id is None:
            raise BadInput("run ids are whole numbers from 1 to 2**63-1")
        return compare_runs(session, project_id, baseline_id, candidate_id)
    return compare_commits(
        session, project_id, baseline, candidate, machine or None, include_noisy=include_noisy
    )


def _sides(
    session: Session, project_id: int, kind: str, baseline: str, candidate: str, machine: str
) -> list[tuple[str, Commit | None, Side | None]]:
    """(which, its commit, its runs' facts) for the baseline and the candidate."""
    out: list[tuple[str, Commit | None, Side | None]] = []
    for name, asked in (("baseline", baseline), ("candidate", candidate)):
        if kind == "runs":
            run_id = whole_number(asked)
            run = session.get(Run, run_id) if run_id is not None else None
            commit = session.get(Commit, run.commit_id) if run is not None else None
            side = run_side(session, project_id, run_id) if run_id is not None else None
        else:
            commit = picker.find_commit(session, project_id, asked)
            side = commit_side(session, project_id, commit, machine) if commit else None
        out.append((name, commit, side))
    return out


def _warnings(sides: list[tuple[str, Commit | None, Side | None]]) -> list[tuple[str, str]]:
    """(code, sentence) for each side on a noisy machine or with too few samples."""
    out: list[tuple[str, str]] = []
    for name, _, side in sides:
        if side is None:
            continue
        for run in side.noisy[:3]:
            out.append(
                (
                    "noisy",
                    f"The {name} ran on a noisy machine: run {run.run_id} on {run.machine} "
                    f"failed pre-flight checks ({'; '.join(run.problems)}).",
                )
            )
        if side.few_samples and side.median_samples is not None:
            samples = plural(int(side.median_samples), "sample")
            out.append(
                (
                    "few_samples",
                    f"The {name} has {samples} per benchmark (median): one noisy value can "
                    "decide a change; run more repeats before trusting it.",
                )
            )
    return out
