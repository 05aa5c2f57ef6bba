"""Reading stored profiles: one benchmark's profile at a commit, or the latest before one.

A profile belongs to a result; the benchmark's profile at a commit on a
machine is the newest one among that commit's results (re-runs count alike),
whatever the measure (in practice the ``instructions`` result carries it).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from runner.schema import Profile
from web.models import Commit, Result, ResultProfile, Series

# a stored profile inflates to at most this much JSON (500 functions of 3 kB)
MAX_INFLATED = 2_000_000


@dataclass(frozen=True)
class StoredProfile:
    """A decoded profile and where it was measured."""

    profile: Profile
    commit_id: int
    sha: str
    position: int


def decode_profile(data: bytes) -> Profile | None:
    """The profile stored as ``data``; None when it does not read back (never raises)."""
    try:
        inflater = zlib.decompressobj()
        text = inflater.decompress(data, MAX_INFLATED)
        if inflater.unconsumed_tail:
            return None
        return Profile.model_validate_json(text)
    except (zlib.error, ValidationError):
        return None


def _profiled(benchmark_id: int, machine_id: int) -> Select[tuple[bytes, int, str, int]]:
    """The first stored profile of the benchmark on the machine, in the order a caller adds."""
    return (
        select(ResultProfile.data, Result.commit_id, Commit.sha, Result.position)
        .join(Result, Result.id == ResultProfile.result_id)
        .join(Series, Series.id == Result.series_id)
        .join(Commit, Commit.id == Result.commit_id)
        .where(Series.benchmark_id == benchmark_id, Series.machine_id == machine_id)
        .limit(1)
    )


def _query(
    benchmark_id: int, machine_id: int, branch_id: int
) -> Select[tuple[bytes, int, str, int]]:
    return (
        _profiled(benchmark_id, machine_id)
        .where(Series.branch_id == branch_id)
        .order_by(Result.position.desc(), Result.id.desc())
    )


def _first(session: Session, query: Select[tuple[bytes, int, str, int]]) -> StoredProfile | None:
    row = session.execute(query).first()
    if row is None:
        return None
    profile = decode_profile(row[0])
    return None if profile is None else StoredProfile(profile, row[1], row[2], row[3])


def profile_at(
    session: Session, benchmark_id: int, machine_id: int, branch_id: int, commit_id: int
) -> StoredProfile | None:
    """The benchmark's newest profile at ``commit_id`` on the machine and branch."""
    query = _query(benchmark_id, machine_id, branch_id).where(Result.commit_id == commit_id)
    return _first(session, query)


def profile_before(
    session: Session, benchmark_id: int, machine_id: int, branch_id: int, position: int
) -> StoredProfile | None:
    """The benchmark's profile at the newest profiled commit before ``position``."""
    query = _query(benchmark_id, machine_id, branch_id).where(Result.position < position)
    return _first(session, query)


def profile_of_commit(
    session: Session, benchmark_id: int, machine_id: int, commit_id: int
) -> StoredProfile | None:
    """The benchmark's newest profile at ``commit_id`` on the machine, on any branch
    (a pull request's commits are compared across branches)."""
    query = (
        _profiled(benchmark_id, machine_id)
        .where(Result.commit_id == commit_id)
        .order_by(Result.id.desc())
    )
    return _first(session, query)
