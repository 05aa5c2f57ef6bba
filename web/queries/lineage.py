"""A commit's parent, for the run page's "compare with the parent commit" link."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import BranchCommit, Commit


def parent_sha(session: Session, commit: Commit, branch_id: int | None) -> str | None:
    """The first parent's sha when recorded, else the commit before it on ``branch_id``.

    CI uploads often carry no parents; the branch order (``BranchCommit.position``)
    is then the best "before" this commit has. None for a first commit.
    """
    if commit.parents:
        return str(commit.parents[0])
    if branch_id is None:
        return None
    here = select(BranchCommit.position).where(
        BranchCommit.branch_id == branch_id, BranchCommit.commit_id == commit.id
    )
    return session.scalar(
        select(Commit.sha)
        .join(BranchCommit, BranchCommit.commit_id == Commit.id)
        .where(BranchCommit.branch_id == branch_id, BranchCommit.position < here.scalar_subquery())
        .order_by(BranchCommit.position.desc())
        .limit(1)
    )
