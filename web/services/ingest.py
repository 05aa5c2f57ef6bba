"""Turning a parsed result file plus its metadata into one stored run, atomically.

The caller owns the transaction: everything here happens in the session it
passes and becomes visible only when that session commits, so a submission is
all of a run or nothing.

Idempotency: a submission with a key already used in the project answers the
stored run when its content is the same (a client retrying after a lost
answer) and raises :class:`IdempotencyConflict` when it differs. The content
is the commit, the machine and the parsed file (see :func:`content_hash`).
Concurrent submissions of one key, which PostgreSQL lets race up to the
unique constraint, are settled inside a savepoint: the loser finds the
winner's run instead of failing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from runner.schema import MachineInfo, ParsedRun, ResultRecord, RunPayload, as_utc, params_key
from web.models import (
    Benchmark,
    Branch,
    BranchCommit,
    Commit,
    Machine,
    Measure,
    Project,
    Result,
    Run,
    Series,
)
from web.models.base import utcnow
from web.services.profiles import profile_retention, prune_profiles, store_profiles
from web.services.upsert import ensure_rows

DEFAULT_MACHINE = "default"
POSITION_GAP = 2**16


class IngestError(ValueError):
    """The submission is well-formed but cannot be stored as asked (HTTP 422)."""


class IdempotencyConflict(IngestError):
    """The idempotency key names a stored run of other content (HTTP 409)."""

    def __init__(self, key: str, run: Run) -> None:
        super().__init__(
            f"idempotency key {key!r} was already used for run {run.id} with other content"
            " (another commit, machine or file)"
        )
        self.run = run


@dataclass(frozen=True)
class IngestOutcome:
    run: Run
    created: bool
    series_ids: tuple[int, ...]


def ingest_run(
    session: Session, project: Project, payload: RunPayload, parsed: ParsedRun, source_format: str
) -> IngestOutcome:
    """Store ``parsed`` as one run of ``project``; a repeated idempotency key gives the
    stored run when the content is the same, else raises IdempotencyConflict."""
    digest = content_hash(payload, parsed, source_format)
    stored = _stored_run(session, project, payload.idempotency_key, digest)
    if stored is not None:
        return IngestOutcome(stored, False, ())
    if not parsed.results:
        raise IngestError("the file holds no benchmark results")
    commit = _ensure_commit(session, project, payload)
    branch = ensure_branch(session, project, payload.branch or project.default_branch)
    position = _place_commit(session, branch, commit)
    machine = _ensure_machine(session, project, payload.machine or parsed.machine)
    run = Run(
        project_id=project.id,
        commit_id=commit.id,
        branch_id=branch.id,
        machine_id=machine.id,
        status=_run_status(parsed.results),
        source_format=source_format,
        source_name=payload.source_name,
        idempotency_key=payload.idempotency_key,
        ci_url=payload.ci_url,
        pr_number=payload.pr_number,
        environment=payload.environment or parsed.environment,
        log=payload.log,
        machine_snapshot=(
            payload.machine or parsed.machine or MachineInfo(name=machine.name)
        ).model_dump(mode="json"),
        started_at=_timestamp(payload.started_at or parsed.started_at, "started_at"),
        finished_at=_timestamp(payload.finished_at, "finished_at"),
        result_count=len(parsed.results),
        content_hash=digest,
    )
    if not _insert_run(session, run):
        stored = _stored_run(session, project, payload.idempotency_key, digest)
        assert stored is not None  # the key's run exists: it is what the insert ran into
        return IngestOutcome(stored, False, ())
    series_ids = _store_results(
        session, project, run, machine, branch, commit, position, parsed.results
    )
    if store_profiles(session, run, parsed.results):
        prune_profiles(session, series_ids, profile_retention(project))
    return IngestOutcome(run, True, series_ids)


def content_hash(payload: RunPayload, parsed: ParsedRun, source_format: str) -> str:
    """SHA-256 of what makes two submissions the same: commit, machine name and
    the parsed file. A runner job's upload carries its ``job_id`` instead of
    its measurements: a redelivered job measures again, and its second upload
    is the same submission (answered with the first run), not a conflict."""
    machine = payload.machine or parsed.machine
    basis = {
        "commit": payload.commit.lower(),
        "machine": machine.name if machine else DEFAULT_MACHINE,
        "job": payload.job_id,
        "file": None if payload.job_id else [source_format, parsed.model_dump(mode="json")],
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def content_hash_of_texts(
    commit: str, machine: str, source_format: str, run: ParsedRun, result_texts: list[str]
) -> str:
    """:func:`content_hash` of a file submitted without a job, from its run without
    results and the JSON text of each result record (keys sorted, as
    ``runner.parsers.rows.record_text`` writes it): the same text, without
    building and sorting a million small objects again."""
    hole = "\x00results"  # no NUL in any text of a run: it stands in for the results
    basis = {
        "commit": commit.lower(),
        "machine": machine,
        "job": None,
        "file": [source_format, run.model_dump(mode="json") | {"results": hole}],
    }
    text = json.dumps(basis, sort_keys=True).replace(
        json.dumps(hole), "[" + ", ".join(result_texts) + "]", 1
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_run(session: Session, project: Project, key: str | None, digest: str) -> Run | None:
    """The run stored under ``key`` when it holds this content; None when none is stored."""
    if not key:
        return None
    stored = session.scalar(
        select(Run).where(Run.project_id == project.id, Run.idempotency_key == key)
    )
    # Runs stored before content hashes were kept match on the key alone.
    if stored is not None and stored.content_hash not in (None, digest):
        raise IdempotencyConflict(key, stored)
    return stored


def _insert_run(session: Session, run: Run) -> bool:
    """Insert ``run``; False when a concurrent submission stored its idempotency key first.

    On PostgreSQL two transactions can both miss the key and race to the unique
    constraint; the savepoint keeps the rest of this transaction usable.
    """
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        if run.idempotency_key is None:
            raise
        return False
    return True


def _run_status(results: list[ResultRecord]) -> str:
    ok = sum(1 for r in results if r.status == "ok")
    if ok == len(results):
        return "ok"
    return "failed" if ok == 0 and all(r.status == "failed" for r in results) else "partial"


def _timestamp(raw: str | datetime | None, field: str) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = (
            raw if isinstance(raw, datetime) else datetime.fromisoformat(raw.replace("Z", "+00:00"))
        )
        return as_utc(parsed)
    except ValueError as exc:
        raise IngestError(f"{field} must be an ISO 8601 timestamp in years 1-9999: {exc}") from None


def _ensure_commit(session: Session, project: Project, payload: RunPayload) -> Commit:
    sha = payload.commit.lower()
    ids = ensure_rows(
        session,
        Commit,
        [{"project_id": project.id, "sha": sha, "parents": []}],
        ["project_id", "sha"],
    )
    commit = session.get(Commit, ids[(project.id, sha)])
    assert commit is not None
    # Later submissions may know more about the commit than the first one did.
    if payload.parents and not commit.parents:
        commit.parents = list(payload.parents)
    if payload.commit_author and not commit.author:
        commit.author = payload.commit_author
    if payload.commit_message and not commit.message:
        commit.message = payload.commit_message
    when = _timestamp(payload.commit_time, "commit_time")
    if when and commit.committed_at is None:
        commit.committed_at = when
    session.flush()
    return commit


def ensure_branch(session: Session, project: Project, name: str) -> Branch:
    """The project's branch ``name``, created if new (bulk import asks this too)."""
    ids = ensure_rows(
        session, Branch, [{"project_id": project.id, "name": name}], ["project_id", "name"]
    )
    branch = session.get(Branch, ids[(project.id, name)])
    assert branch is not None
    return branch


def _place_commit(session: Session, branch: Branch, commit: Commit) -> int:
    """The commit's position on the branch (see BranchCommit); stable once assigned."""
    placed = session.scalar(
        select(BranchCommit.position).where(
            BranchCommit.branch_id == branch.id, BranchCommit.commit_id == commit.id
        )
    )
    if placed is not None:
        return int(placed)
    position = _first_parent_position(session, branch, commit)
    if position is None:
        position = _time_position(session, branch, commit)
    # A concurrent submission of the same commit may place it first; its place stands.
    row = {"branch_id": branch.id, "commit_id": commit.id, "position": position}
    ids = ensure_rows(session, BranchCommit, [row], ["branch_id", "commit_id"])
    placed = session.execute(
        select(BranchCommit.position).where(BranchCommit.id == ids[(branch.id, commit.id)])
    ).scalar_one()
    return int(placed)


def _first_parent_position(session: Session, branch: Branch, commit: Commit) -> int | None:
    if not commit.parents:
        return None
    parent_position = session.scalar(
        select(BranchCommit.position)
        .join(Commit, Commit.id == BranchCommit.commit_id)
        .where(
            BranchCommit.branch_id == branch.id,
            Commit.project_id == commit.project_id,
            Commit.sha == commit.parents[0],
        )
    )
    if parent_position is None:
        return None
    return _between(session, branch, int(parent_position))


def _between(session: Session, branch: Branch, after: int) -> int:
    """A free position right after ``after`` and before whatever follows it on the branch."""
    following = session.scalar(
        select(func.min(BranchCommit.position)).where(
            BranchCommit.branch_id == branch.id, BranchCommit.position > after
        )
    )
    if following is None:
        return after + POSITION_GAP
    # Out-of-order arrival: take the midpoint; gaps of 2**16 allow 16 nested insertions.
    return (after + int(following)) // 2 if following - after >= 2 else after


def _time_position(session: Session, branch: Branch, commit: Commit) -> int:
    """Without a placed parent: after the latest commit that is not newer, else at the end."""
    if commit.committed_at is not None:
        first_newer = session.scalar(
            select(func.min(BranchCommit.position))
            .join(Commit, Commit.id == BranchCommit.commit_id)
            .where(BranchCommit.branch_id == branch.id, Commit.committed_at > commit.committed_at)
        )
        if first_newer is not None:
            before = session.scalar(
                select(func.max(BranchCommit.position)).where(
                    BranchCommit.branch_id == branch.id, BranchCommit.position < first_newer
                )
            )
            return (
                _between(session, branch, int(before))
                if before is not None
                else int(first_newer) - POSITION_GAP
            )
    last = session.scalar(
        select(func.max(BranchCommit.position)).where(BranchCommit.branch_id == branch.id)
    )
    return 0 if last is None else int(last) + POSITION_GAP


def machine_fingerprint(info: MachineInfo) -> str:
    """A hash of what makes two machines measure differently (not the name)."""
    basis = info.model_dump(mode="json", exclude={"name", "extra"})
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def _ensure_machine(session: Session, project: Project, info: MachineInfo | None) -> Machine:
    name = info.name if info else DEFAULT_MACHINE
    ids = ensure_rows(
        session,
        Machine,
        [{"project_id": project.id, "name": name, "extra": {}, "fingerprint": ""}],
        ["project_id", "name"],
    )
    machine = session.get(Machine, ids[(project.id, name)])
    assert machine is not None
    if info is not None:
        fingerprint = machine_fingerprint(info)
        if machine.fingerprint != fingerprint:
            if machine.fingerprint:
                machine.fingerprint_changed_at = utcnow()
            machine.fingerprint = fingerprint
            machine.cpu_model, machine.cores = info.cpu_model, info.cores
            machine.memory_bytes, machine.os = info.memory_bytes, info.os
            machine.kernel, machine.python = info.kernel, info.python
            machine.extra = dict(info.extra)
    return machine


def _store_results(
    session: Session,
    project: Project,
    run: Run,
    machine: Machine,
    branch: Branch,
    commit: Commit,
    position: int,
    records: list[ResultRecord],
) -> tuple[int, ...]:
    bench_ids = ensure_rows(
        session,
        Benchmark,
        [
            {
                "project_id": project.id,
                "suite": r.suite,
                "name": r.name,
                "params": r.params,
                "params_key": params_key(r.params),
            }
            for r in records
        ],
        ["project_id", "suite", "name", "params_key"],
    )
    measure_ids = _ensure_measures(session, project, records)
    series_rows = [
        {
            "project_id": project.id,
            "benchmark_id": bench_ids[(project.id, r.suite, r.name, params_key(r.params))],
            "measure_id": measure_ids[(r.measure, r.unit)],
            "machine_id": machine.id,
            "branch_id": branch.id,
        }
        for r in records
    ]
    series_ids = ensure_rows(
        session, Series, series_rows, ["benchmark_id", "measure_id", "machine_id", "branch_id"]
    )
    rows = []
    touched: list[int] = []
    for record, series in zip(records, series_rows, strict=True):
        series_id = series_ids[
            (series["benchmark_id"], series["measure_id"], machine.id, branch.id)
        ]
        touched.append(series_id)
        rows.append(_result_row(record, run, commit, position, series, series_id))
    session.execute(insert(Result), rows)
    return tuple(dict.fromkeys(touched))


def _ensure_measures(
    session: Session, project: Project, records: list[ResultRecord]
) -> dict[tuple[str, str], int]:
    rows = [
        {"project_id": project.id, "name": r.measure, "unit": r.unit, "direction": r.direction}
        for r in records
    ]
    ids = ensure_rows(session, Measure, rows, ["project_id", "name", "unit"])
    return {(name, unit): ident for (_, name, unit), ident in ids.items()}


def _result_row(
    record: ResultRecord,
    run: Run,
    commit: Commit,
    position: int,
    series: dict[str, int],
    series_id: int,
) -> dict[str, object]:
    stats = record.stats
    samples = record.samples
    return {
        "run_id": run.id,
        "series_id": series_id,
        "benchmark_id": series["benchmark_id"],
        "measure_id": series["measure_id"],
        "commit_id": commit.id,
        "position": position,
        "value": record.value,
        "mean": stats.mean if stats else None,
        "median": stats.median if stats else None,
        "stddev": stats.stddev if stats else None,
        "min": stats.min if stats else None,
        "max": stats.max if stats else None,
        "q1": stats.q1 if stats else None,
        "q3": stats.q3 if stats else None,
        "rounds": stats.rounds if stats else None,
        "sample_count": len(samples) if samples is not None else (stats.rounds if stats else None),
        "samples": samples,
        "status": record.status,
        "error": record.error,
    }
