"""What the compare page offers to compare: commits with results, and the usual baselines.

Only commits that have runs in the project are offered, since nothing else can
be compared. A release is known when results were submitted for a branch named
like a version tag (``v1.2.0``, ``2.0``): CI runs on a pushed tag report the
tag as their ref. Nothing here calls git.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Exists

from web.models import Branch, BranchCommit, Commit, Machine, Run

RELEASE_NAME = re.compile(r"^v?\d+(\.\d+)+([-.+]?[0-9A-Za-z.]*)?$")


@dataclass(frozen=True)
class Pick:
    """One suggested commit: ``key`` is parent, merge_base, latest or release."""

    key: str
    label: str
    commit: Commit


def _has_runs(project_id: int) -> Exists:
    """The commit in the query has a run in the project."""
    return exists().where(Run.commit_id == Commit.id, Run.project_id == project_id)


def find_commit(session: Session, project_id: int, sha: str) -> Commit | None:
    """The one commit of the project whose sha starts with ``sha`` (7 characters at least)."""
    sha = sha.strip().lower()
    if len(sha) < 7:
        return None
    query = select(Commit).where(Commit.project_id == project_id)
    query = (
        query.where(Commit.sha == sha)
        if len(sha) >= 40
        else query.where(Commit.sha.startswith(sha, autoescape=True))
    )
    found = list(session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None


def latest_on_branch(session: Session, project_id: int, branch: str) -> Commit | None:
    """The newest commit of ``branch`` (by its place on the branch) that has runs."""
    return session.scalar(
        select(Commit)
        .join(BranchCommit, BranchCommit.commit_id == Commit.id)
        .join(Branch, Branch.id == BranchCommit.branch_id)
        .where(Branch.project_id == project_id, Branch.name == branch, _has_runs(project_id))
        .order_by(BranchCommit.position.desc())
        .limit(1)
    )


def parent_with_runs(session: Session, project_id: int, commit: Commit) -> Commit | None:
    """The first parent if it has runs; else the commit before it on its branch that has."""
    if commit.parents:
        parent = session.scalar(
            select(Commit).where(
                Commit.project_id == project_id,
                Commit.sha == commit.parents[0],
                _has_runs(project_id),
            )
        )
        if parent is not None:
            return parent
    place = session.execute(
        select(BranchCommit.branch_id, BranchCommit.position)
        .where(BranchCommit.commit_id == commit.id)
        .order_by(BranchCommit.id)
        .limit(1)
    ).first()
    if place is None:
        return None
    return session.scalar(
        select(Commit)
        .join(BranchCommit, BranchCommit.commit_id == Commit.id)
        .where(
            BranchCommit.branch_id == place[0],
            BranchCommit.position < place[1],
            _has_runs(project_id),
        )
        .order_by(BranchCommit.position.desc())
        .limit(1)
    )


def last_release(session: Session, project_id: int) -> tuple[str, Commit] | None:
    """(tag, commit) of the newest release-named branch with runs, by commit time."""
    rows = session.execute(
        select(Branch.name, Commit)
        .join(BranchCommit, BranchCommit.branch_id == Branch.id)
        .join(Commit, Commit.id == BranchCommit.commit_id)
        .where(Branch.project_id == project_id, _has_runs(project_id))
        .order_by(Commit.committed_at.desc(), Commit.id.desc())
        .limit(500)
    )
    for name, commit in rows:
        if RELEASE_NAME.match(name):
            return name, commit
    return None


def pr_of(session: Session, commit: Commit) -> tuple[int, int, str] | None:
    """(PR number, machine id, machine name) of a pull-request run of ``commit``, if any."""
    row = session.execute(
        select(Run.pr_number, Machine.id, Machine.name)
        .join(Machine, Machine.id == Run.machine_id)
        .where(Run.commit_id == commit.id, Run.pr_number.is_not(None))
        .order_by(Run.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), int(row[1]), str(row[2]))


def recent_commits(session: Session, project_id: int, limit: int = 60) -> list[Commit]:
    """Commits with runs, newest run first: the picker's list."""
    # Newest runs first, deduplicated by commit: an index scan of run ids, no grouping.
    ids = list(
        dict.fromkeys(
            session.scalars(
                select(Run.commit_id)
                .where(Run.project_id == project_id)
                .order_by(Run.id.desc())
                .limit(limit * 20)
            )
        )
    )[:limit]
    found = {c.id: c for c in session.scalars(select(Commit).where(Commit.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
