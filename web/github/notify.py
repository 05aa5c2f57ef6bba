"""Build a PR's report from the database and post it: one sticky comment plus a status.

Called only from the ``notify`` tasks, never from a web request. Nothing here
commits; the task does. A project without ``settings["github"]`` gets no
GitHub call at all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.db import begin_reading
from web.github.client import GitHubClient, GitHubConfig, PullInfo
from web.github.profile_table import profile_table
from web.github.render import marker, render_comment
from web.github.report import (
    Category,
    MachineBaseline,
    PrReport,
    ReportRow,
    categorize,
    check_conclusion,
    status_state,
)
from web.models import Commit, PrComment, Project
from web.models.base import utcnow
from web.queries.deciding_measure import COUNT, TIME
from web.services.compare import ComparisonRow
from web.services.pr_compare import MachineComparison, compare_pr

log = logging.getLogger(__name__)
ClientFactory = Callable[[GitHubConfig], GitHubClient]


def notify_pull_request(
    session: Session,
    project_id: int,
    pr_number: int,
    candidate_sha: str,
    *,
    base_url: str,
    make_client: ClientFactory = GitHubClient,
) -> PrReport | None:
    """Compare the PR's results at ``candidate_sha`` and update its comment and status.

    ``candidate_sha`` is the benchmarked commit: the PR head, or GitHub's test
    merge commit of it. Results of an older push are not posted over a newer
    report. Returns the report, or None when nothing was posted.
    """
    begin_reading(session)
    project = session.get(Project, project_id)
    if project is None:
        return None
    config = GitHubConfig.from_settings(project.settings)
    if config is None:
        return None
    client = make_client(config)
    _end_transaction(session)  # GitHub is called with no transaction open
    pull = client.pull_request(pr_number)
    begin_reading(session)
    status_sha = _status_target(session, project_id, candidate_sha, pull)
    stored = session.scalar(
        select(PrComment).where(
            PrComment.project_id == project_id, PrComment.pr_number == pr_number
        )
    )
    if status_sha != pull.head_sha and stored is not None and stored.head_sha == pull.head_sha:
        log.info("PR #%s: results for %s are older than the posted report", pr_number, status_sha)
        return None
    comparisons = compare_pr(session, project, pr_number, candidate_sha)
    report = build_report(project, pr_number, status_sha, comparisons, config, pull, base_url)
    table = profile_table(session, project_id, report, comparisons)
    report = dataclasses.replace(report, profile=table)
    body = render_comment(report)
    _end_transaction(session)
    comment_id, _created = client.upsert_comment(pr_number, marker(project.name), body)
    _post_status(client, config, status_sha, report, body)
    if stored is not None:
        stored = session.get(PrComment, stored.id)  # read again: the row may have moved on
    _remember(session, stored, project_id, pr_number, status_sha, comment_id, body, report)
    return report


def _end_transaction(session: Session) -> None:
    """End the (read-only so far) transaction before a call to GitHub.

    A task's session would otherwise keep its transaction open across the
    HTTP round trips; on SQLite that is the one write lock, and ingests queued
    behind a slow GitHub. Nothing is pending here: only reads came before.
    """
    assert not (session.new or session.dirty or session.deleted), "no writes before a call"
    session.commit()


def _status_target(session: Session, project_id: int, candidate_sha: str, pull: PullInfo) -> str:
    """The PR head when the candidate is the head or GitHub's merge commit of it."""
    if candidate_sha == pull.head_sha:
        return candidate_sha
    commit = session.scalar(
        select(Commit).where(Commit.project_id == project_id, Commit.sha == candidate_sha)
    )
    if commit is not None and len(commit.parents) >= 2 and pull.head_sha in commit.parents[1:]:
        return pull.head_sha
    return candidate_sha


def build_report(
    project: Project,
    pr_number: int,
    head_sha: str,
    comparisons: list[MachineComparison],
    config: GitHubConfig,
    pull: PullInfo,
    base_url: str,
) -> PrReport:
    """The report of one PR from its per-machine comparisons (no I/O)."""
    baselines, rows, missing, added = [], [], [], []
    several_measures = len({r.measure for mc in comparisons for r in _rows_of(mc)}) > 1
    for mc in comparisons:
        page = _compare_url(base_url, project.name, mc) if mc.baseline.sha else ""
        baselines.append(
            MachineBaseline(
                mc.baseline.machine,
                mc.candidate_sha,
                mc.baseline.sha,
                mc.baseline.merge_base_sha,
                mc.baseline.note,
                page,
            )
        )
        counted = {r.label for r in _rows_of(mc) if r.measure == COUNT}
        for row in _rows_of(mc):
            report_row = _report_row(row, mc, config.threshold, several_measures, page)
            if row.measure == TIME and row.label in counted:
                report_row = dataclasses.replace(report_row, category=Category.BESIDE)
            rows.append(report_row)
        if mc.comparison is not None:
            missing += [m.label for m in mc.comparison.only_in_baseline]
            added += [m.label for m in mc.comparison.only_in_candidate]
    return PrReport(
        project=project.name,
        pr_number=pr_number,
        head_sha=head_sha,
        default_branch=project.default_branch,
        threshold=config.threshold,
        baselines=tuple(baselines),
        rows=tuple(rows),
        missing=tuple(missing),
        added=tuple(added),
        override_label=config.override_label,
        overridden=config.override_label in pull.labels,
        report_url=baselines[0].compare_url if len(baselines) == 1 else "",
        errors=() if comparisons else ("no results of this PR found",),
    )


def _rows_of(mc: MachineComparison) -> list[ComparisonRow]:
    return list(mc.comparison.rows) if mc.comparison is not None else []


def _report_row(
    row: ComparisonRow, mc: MachineComparison, threshold: float, with_measure: bool, page: str
) -> ReportRow:
    c = row.comparison
    name = row.label
    if with_measure:
        name += f" ({row.measure})"
    return ReportRow(
        name=name,
        machine=mc.baseline.machine,
        measure=row.measure,
        unit=row.unit,
        baseline=row.baseline_center,
        candidate=row.candidate_center,
        rel_change=c.rel_change,
        ci_low=c.ci_low,
        ci_high=c.ci_high,
        pvalue=c.pvalue,
        qvalue=c.qvalue,
        category=categorize(c.verdict.value, c.rel_change, c.ci_low, c.ci_high, threshold),
        compare_url=f"{page}&{urlencode({'q': row.label})}" if page else "",
        why_reason=row.why.reason if row.why else "",
        why_advice=row.why.advice if row.why else "",
    )


def _compare_url(base_url: str, project: str, mc: MachineComparison) -> str:
    query = urlencode(
        {"baseline": mc.baseline.sha, "candidate": mc.candidate_sha, "machine": mc.baseline.machine}
    )
    return f"{base_url}/p/{quote(project)}/compare?{query}"


def _post_status(
    client: GitHubClient, config: GitHubConfig, sha: str, report: PrReport, body: str
) -> None:
    state, description = status_state(report)
    if config.use_check_runs:
        client.create_check_run(sha, check_conclusion(report), description, body, report.report_url)
    else:
        client.set_status(sha, state, description, report.report_url)


def _remember(
    session: Session,
    stored: PrComment | None,
    project_id: int,
    pr_number: int,
    head_sha: str,
    comment_id: int,
    body: str,
    report: PrReport,
) -> None:
    if stored is None:
        stored = PrComment(project_id=project_id, pr_number=pr_number)
        session.add(stored)
    stored.github_comment_id = comment_id
    stored.head_sha = head_sha
    stored.body_sha256 = hashlib.sha256(body.encode()).hexdigest()
    stored.verdict = report.outcome.value
    stored.updated_at = utcnow()
    session.flush()
