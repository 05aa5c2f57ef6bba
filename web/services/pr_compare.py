"""Compare a pull request's results with the right baseline, machine by machine.

The baseline is the PR's merge-base, found in the database by walking the
candidate commit's first-parent ancestry to the first commit that does not
belong to this PR: a commit on the project's default branch, or the head of
another PR for stacked PRs (comparing a stacked PR with the default branch
would charge it with its parent PR's changes). GitHub Actions' merge commit
(``refs/pull/N/merge``) has the base branch tip as first parent, so for it the
walk ends at once.

When the merge-base has no results on the candidate's machine, the nearest
earlier ancestor with results is used, and the returned note says so; when the
merge-base is unknown (the chain leaves the commits we hold), the newest
default-branch results on that machine are used, again with a note.
Verdicts come from ``web.services.compare.compare_commits`` (``compare_many``
with Benjamini–Hochberg FDR control across each machine's benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from web.models import Branch, BranchCommit, Commit, Machine, Project, Run
from web.models.project_settings import ProjectSettings
from web.services.compare import CommitComparison, compare_commits

MAX_WALK = 1000  # first-parent steps before giving up on finding the merge-base


@dataclass(frozen=True)
class Baseline:
    """The commit one machine's PR results are compared with (None: nothing to compare)."""

    machine: str
    sha: str | None
    merge_base_sha: str | None
    note: str | None


@dataclass(frozen=True)
class MachineComparison:
    baseline: Baseline
    candidate_sha: str
    comparison: CommitComparison | None


def compare_pr(
    session: Session,
    project: Project,
    pr_number: int,
    candidate_sha: str,
) -> list[MachineComparison]:
    """One comparison per machine that has results for ``candidate_sha``, by machine name.

    Judged with the project's thresholds (`ProjectSettings.thresholds`): the
    smallest change worth reporting is ``detector.min_rel_change``, as for alerts.
    """
    candidate = _commit(session, project.id, candidate_sha)
    if candidate is None:
        return []
    thresholds = ProjectSettings.of(project).thresholds()
    out = []
    for machine_id, machine in _machines_of(session, candidate):
        baseline = find_baseline(session, project, pr_number, candidate, machine_id, machine)
        comparison = None
        if baseline.sha is not None:
            comparison = compare_commits(
                session, project.id, baseline.sha, candidate.sha, machine, thresholds=thresholds
            )
        out.append(MachineComparison(baseline, candidate.sha, comparison))
    return out


def find_baseline(
    session: Session,
    project: Project,
    pr_number: int,
    candidate: Commit,
    machine_id: int,
    machine: str,
) -> Baseline:
    """The merge-base of ``candidate`` if it has results on the machine, else a fallback."""
    chain, unknown_sha = _first_parent_chain(session, project.id, candidate)
    start = next((i for i, c in enumerate(chain) if _is_base(session, project, c, pr_number)), None)
    if start is not None:
        merge_base = chain[start]
        for steps, commit in enumerate(chain[start:]):
            if _has_runs(session, commit, machine_id):
                note = None if steps == 0 else _fallback_note(merge_base, commit, steps)
                return Baseline(machine, commit.sha, merge_base.sha, note)
        earlier = _default_branch_before(session, project, merge_base, machine_id)
        if earlier is not None:
            note = _fallback_note(merge_base, earlier, None)
            return Baseline(machine, earlier.sha, merge_base.sha, note)
        return Baseline(machine, None, merge_base.sha, _none_note(project, machine))
    latest = _default_branch_before(session, project, None, machine_id)
    gone = f"`{unknown_sha[:7]}`" if unknown_sha else "its first-parent ancestry"
    if latest is None:
        return Baseline(machine, None, None, _none_note(project, machine))
    note = (
        f"merge-base unknown to benchwarden (no results for {gone});"
        f" compared with the newest {project.default_branch} results instead"
    )
    return Baseline(machine, latest.sha, None, note)


def _fallback_note(merge_base: Commit, used: Commit, steps: int | None) -> str:
    how_far = f"{steps} commit{'s' if steps != 1 else ''} earlier" if steps else "earlier"
    return (
        f"merge-base {merge_base.sha[:7]} has no results on this machine;"
        f" compared with its ancestor {used.sha[:7]} ({how_far})"
    )


def _none_note(project: Project, machine: str) -> str:
    return (
        f"no results of {project.default_branch} on machine {machine} yet;"
        " benchmark the default branch there to get a comparison"
    )


def _commit(session: Session, project_id: int, sha: str) -> Commit | None:
    return session.scalar(
        select(Commit).where(Commit.project_id == project_id, Commit.sha == sha.lower())
    )


def _machines_of(session: Session, commit: Commit) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Machine.id, Machine.name)
        .join(Run, Run.machine_id == Machine.id)
        .where(Run.commit_id == commit.id)
        .distinct()
        .order_by(Machine.name)
    ).tuples()
    return list(rows)


def _first_parent_chain(
    session: Session, project_id: int, candidate: Commit
) -> tuple[list[Commit], str | None]:
    """Ancestors held in the database, nearest first, and the first unknown sha (if any)."""
    chain: list[Commit] = []
    seen = {candidate.sha}
    current = candidate
    for _ in range(MAX_WALK):
        if not current.parents:
            return chain, None
        parent_sha = current.parents[0]
        if parent_sha in seen:
            return chain, None
        seen.add(parent_sha)
        parent = _commit(session, project_id, parent_sha)
        if parent is None:
            return chain, parent_sha
        chain.append(parent)
        current = parent
    return chain, None


def _is_base(session: Session, project: Project, commit: Commit, pr_number: int) -> bool:
    """A commit on the default branch, or one benchmarked for another PR (a stacked PR's base)."""
    on_default = exists().where(
        BranchCommit.commit_id == commit.id,
        BranchCommit.branch_id == Branch.id,
        Branch.project_id == project.id,
        Branch.name == project.default_branch,
    )
    other_pr = exists().where(
        Run.commit_id == commit.id, Run.pr_number.is_not(None), Run.pr_number != pr_number
    )
    return bool(session.scalar(select(on_default | other_pr)))


def _has_runs(session: Session, commit: Commit, machine_id: int) -> bool:
    query = select(
        exists().where(
            Run.commit_id == commit.id, Run.machine_id == machine_id, Run.result_count > 0
        )
    )
    return bool(session.scalar(query))


def _default_branch_before(
    session: Session, project: Project, anchor: Commit | None, machine_id: int
) -> Commit | None:
    """Newest default-branch commit with results on the machine, before ``anchor`` if given."""
    branch_id = session.scalar(
        select(Branch.id).where(
            Branch.project_id == project.id, Branch.name == project.default_branch
        )
    )
    if branch_id is None:
        return None
    query = (
        select(Commit)
        .join(BranchCommit, BranchCommit.commit_id == Commit.id)
        .where(BranchCommit.branch_id == branch_id)
        .where(
            exists().where(
                Run.commit_id == Commit.id, Run.machine_id == machine_id, Run.result_count > 0
            )
        )
        .order_by(BranchCommit.position.desc())
        .limit(1)
    )
    if anchor is not None:
        position = session.scalar(
            select(BranchCommit.position).where(
                BranchCommit.branch_id == branch_id, BranchCommit.commit_id == anchor.id
            )
        )
        if position is None:
            return None
        query = query.where(BranchCommit.position < position)
    return session.scalar(query)
