"""Placing many commits on a branch at once, oldest first (the bulk import's step 1).

Ingest places one commit at a time from its parent or its time
(``web.services.ingest``). An imported history comes without parents, in an
order already settled (asv's commit dates, or the order file), so each new
commit goes after the latest commit placed before it in that order and after
every existing commit that is not newer than it; existing commits keep their
positions. Positions are spaced by ``POSITION_GAP`` when appended, so later
out-of-order arrivals still fit between them.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from web.models import BranchCommit, Commit
from web.services.ingest import POSITION_GAP


def place_commits(session: Session, branch_id: int, commit_ids: Sequence[int]) -> dict[int, int]:
    """Position of every commit (given oldest first) on the branch, placing the new ones."""
    placed: dict[int, int] = {}
    timed: list[tuple[datetime, int]] = []  # existing (commit time, position)
    for commit_id, position, when in session.execute(
        select(BranchCommit.commit_id, BranchCommit.position, Commit.committed_at)
        .join(Commit, Commit.id == BranchCommit.commit_id)
        .where(BranchCommit.branch_id == branch_id)
    ):
        placed[int(commit_id)] = int(position)
        if when is not None:
            timed.append((when, int(position)))
    order = list(dict.fromkeys(commit_ids))
    new = [c for c in order if c not in placed]
    if not new:
        return placed
    times: dict[int, datetime | None] = {}
    for start in range(0, len(new), 5000):
        chunk = new[start : start + 5000]
        query = select(Commit.id, Commit.committed_at).where(Commit.id.in_(chunk))
        times.update((int(c), when) for c, when in session.execute(query))
    taken = sorted(placed.values())
    timed.sort()
    # latest position among existing commits no newer than each time (prefix max)
    prefix: list[int] = []
    for _, position in timed:
        prefix.append(max(position, prefix[-1]) if prefix else position)
    rows: list[dict[str, int]] = []
    previous: int | None = None
    for commit_id in new:
        anchor = _anchor(times.get(commit_id), timed, prefix, taken, previous)
        position = _after(anchor, taken)
        bisect.insort(taken, position)
        placed[commit_id] = previous = position
        rows.append({"branch_id": branch_id, "commit_id": commit_id, "position": position})
    for start in range(0, len(rows), 5000):
        session.execute(insert(BranchCommit), rows[start : start + 5000])
    return placed


def _anchor(
    when: datetime | None,
    timed: list[tuple[datetime, int]],
    prefix: list[int],
    taken: list[int],
    previous: int | None,
) -> int | None:
    """The position the commit goes after: None means before everything."""
    if when is None or not timed:
        return taken[-1] if taken else None
    index = _bisect(timed, when)
    existing = prefix[index - 1] if index > 0 else None
    candidates = [p for p in (existing, previous) if p is not None]
    return max(candidates) if candidates else None


def _bisect(timed: list[tuple[datetime, int]], when: datetime) -> int:
    """How many of the (time-sorted) existing commits are no newer than ``when``."""
    low, high = 0, len(timed)
    while low < high:
        middle = (low + high) // 2
        if timed[middle][0] <= when:
            low = middle + 1
        else:
            high = middle
    return low


def _after(anchor: int | None, taken: list[int]) -> int:
    """A free position right after ``anchor`` and before whatever follows it."""
    if anchor is None:
        return taken[0] - POSITION_GAP if taken else 0
    index = bisect.bisect_right(taken, anchor)
    if index == len(taken):
        return anchor + POSITION_GAP
    following = taken[index]
    # Gaps of 2**16 allow 16 nested insertions between two commits, as in ingest.
    return (anchor + following) // 2 if following - anchor >= 2 else anchor + 1
