"""Loading a whole results history at once: many commits, one transaction, COPY on PostgreSQL.

``benchwarden import`` calls :func:`import_history`. The steps, and why:

1. The commits are created and placed on the branch first, oldest first (the
   order :func:`web.services.bulk_source.plan` settled), because every result row
   carries its commit's position.
2. Files are parsed in worker processes (asv files straight into rows,
   ``runner.parsers.asv_rows``), which also write each row's result columns as
   ``COPY`` text. The writer stores batches of about ``COPY_BATCH`` rows: the
   batch's runs in one statement, then its rows streamed into ``result`` with
   PostgreSQL's ``COPY`` a run at a time while the workers read ahead; SQLite
   gets the same rows by ``executemany``. Benchmarks, measures, series and
   machines are created as they first appear.
3. Idempotency: a run whose content hash (:func:`web.services.ingest.content_hash`,
   the one the HTTP API keeps) is already stored in the project is skipped, so
   loading the same history twice stores nothing new, and a run submitted
   earlier over HTTP is not stored twice either.
4. At the end the per-commit points of every touched series are rebuilt
   (:mod:`web.services.bulk_points`) and detection runs once over each.

The caller owns the transaction (house style 3): an unreadable file halfway
through raises and the caller's rollback leaves the database as it was.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from runner.parsers.rows import Row, copy_columns
from runner.schema import MachineInfo, as_utc
from web.models import Benchmark, Commit, Machine, Measure, Project, Result, Run, Series
from web.models.base import utcnow
from web.services.bulk_commits import place_commits
from web.services.bulk_points import detect_imported, rebuild_points_for
from web.services.bulk_source import (
    KEY_FIELDS,
    RESULT_COLUMNS,
    ParsedFileRun,
    SourceFile,
    collector_paused,
    parse_file,
)
from web.services.ingest import DEFAULT_MACHINE, ensure_branch, machine_fingerprint
from web.services.upsert import ensure_rows

COPY_BATCH = 10_000  # result rows stored together (one runs insert, one COPY)
PARSE_WINDOW = 64  # files parsed ahead of the writer, at most
_COLUMNS = ("run_id", "commit_id", "position", "series_id", "benchmark_id", "measure_id")
# (files done, files in all, results stored so far)
Progress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class ImportSummary:
    """What an import stored, and the seconds of its three stages: parse and write the
    results (``load``), rebuild the series' points, detect."""

    files: int
    runs_added: int
    runs_skipped: int
    results_added: int
    commits_added: int
    series: int
    new_alerts: int
    load_seconds: float
    points_seconds: float
    detect_seconds: float

    @property
    def rate(self) -> float:
        """Results stored per second of loading (parse + COPY)."""
        return self.results_added / self.load_seconds if self.load_seconds > 0 else 0.0


def import_history(
    session: Session,
    project: Project,
    files: list[SourceFile],
    *,
    branch: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    detect: bool = True,
) -> ImportSummary:
    """Store the runs of ``files`` (oldest commit first) in ``project``; see the module doc.

    ``workers`` parse processes (default: one per CPU; 0 parses in this process).
    Raises BulkSourceError for an unreadable file; nothing is committed here.
    """
    copy = session.get_bind().dialect.name == "postgresql"
    # Everything alive now (this process's modules, its session) is left out of the
    # collector's full passes while the import adds millions of young objects: those
    # passes walk every tracked object, and they come more often the more there are.
    gc.freeze()
    try:
        parsed = _parsed(files, project.name, workers, copy)
        return load_parsed(
            session, project, files, parsed, branch=branch, progress=progress, detect=detect
        )
    finally:
        gc.unfreeze()


def load_parsed(
    session: Session,
    project: Project,
    files: list[SourceFile],
    parsed: Iterable[list[ParsedFileRun]],
    *,
    branch: str | None = None,
    progress: Progress | None = None,
    detect: bool = True,
) -> ImportSummary:
    """Store ``parsed`` (the runs of each of ``files``, in the same order): the writing half
    of :func:`import_history`, apart so its rate can be measured on its own."""
    started = time.perf_counter()
    branch_row = ensure_branch(session, project, branch or project.default_branch)
    commit_ids, commits_added = _ensure_commits(session, project, files)
    positions = place_commits(session, branch_row.id, [commit_ids[f.commit] for f in files])
    writer = _Writer(session, project, branch_row.id, commit_ids, positions)
    for done, runs in enumerate(parsed, start=1):
        with collector_paused():  # a file's row tuples, as in reading it (see there)
            for run in runs:
                writer.add(run)
        if progress is not None:
            progress(done, len(files), writer.results)
    writer.flush()
    loaded = time.perf_counter()
    series_ids = sorted(writer.last_runs)
    rebuild_points_for(session, series_ids)
    pointed = time.perf_counter()
    new_alerts = detect_imported(session, writer.last_runs) if detect else 0
    return ImportSummary(
        files=len(files),
        runs_added=writer.runs_added,
        runs_skipped=writer.runs_skipped,
        results_added=writer.results,
        commits_added=commits_added,
        series=len(series_ids),
        new_alerts=new_alerts,
        load_seconds=loaded - started,
        points_seconds=pointed - loaded,
        detect_seconds=time.perf_counter() - pointed,
    )


def _parsed(
    files: list[SourceFile], project: str, workers: int | None, copy: bool
) -> Iterator[list[ParsedFileRun]]:
    """Parsed files in plan order; with workers, a bounded window runs ahead of the writer.

    The window is wide enough that the workers go on reading while the writer waits
    for a ``COPY`` batch to be stored."""
    count = (os.cpu_count() or 1) if workers is None else workers
    if count <= 0 or len(files) < 4:
        for item in files:
            yield parse_file(item, project, copy)
        return
    # fork: the children need nothing but the code; the parent's connections stay unused there.
    pool = multiprocessing.get_context("fork").Pool(count)
    try:
        window = max(2 * count + 2, PARSE_WINDOW)
        pending = [pool.apply_async(parse_file, (item, project, copy)) for item in files[:window]]
        queued = len(pending)
        while pending:
            runs = pending.pop(0).get()
            if queued < len(files):
                pending.append(pool.apply_async(parse_file, (files[queued], project, copy)))
                queued += 1
            yield runs
    finally:
        # Never Pool.terminate (what leaving a ``with Pool`` block does): it kills workers
        # that may hold the result queue's lock mid-write, and the pool's own task thread
        # then waits on that lock for ever. Closing lets the at most ``window`` parses in
        # flight finish and the workers leave on their own.
        pool.close()
        pool.join()


def _ensure_commits(
    session: Session, project: Project, files: list[SourceFile]
) -> tuple[dict[str, int], int]:
    """Commit ids by SHA, created if missing, with commit times filled where unknown;
    and how many were created."""
    times: dict[str, datetime | None] = {}
    for item in files:
        if times.get(item.commit) is None:
            times[item.commit] = item.time
    existing = set(session.scalars(select(Commit.sha).where(Commit.project_id == project.id)))
    rows = [{"project_id": project.id, "sha": sha, "parents": []} for sha in times]
    keyed = ensure_rows(session, Commit, rows, ["project_id", "sha"])
    ids = {sha: ident for (_, sha), ident in keyed.items()}
    untimed = set(
        session.scalars(
            select(Commit.id).where(Commit.project_id == project.id, Commit.committed_at.is_(None))
        )
    )
    fills = [
        {"id": ids[sha], "committed_at": when}
        for sha, when in times.items()
        if when is not None and ids[sha] in untimed
    ]
    if fills:
        session.execute(update(Commit), fills)
    return ids, len(set(times) - existing)


class _Keys(NamedTuple):
    """The ids a result row takes from its key, and them as its COPY columns."""

    series: int
    benchmark: int
    measure: int
    copy_text: str  # "series\tbenchmark\tmeasure\t"


# A run of a batch, inserted: its run id, commit id, position and its rows' key ids.
_Placed = tuple[ParsedFileRun, int, int, int, dict[tuple[str, ...], _Keys]]


class _Writer:
    """Stores runs and streams their result rows; caches the ids of what it created."""

    def __init__(
        self,
        session: Session,
        project: Project,
        branch_id: int,
        commit_ids: dict[str, int],
        positions: dict[int, int],
    ) -> None:
        self.session = session
        self.project = project
        self.branch_id = branch_id
        self.commit_ids = commit_ids
        self.positions = positions
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.known = set(
            session.scalars(
                select(Run.content_hash).where(
                    Run.project_id == project.id, Run.content_hash.is_not(None)
                )
            )
        )
        self.benchmarks: dict[tuple[str, str, str], int] = {}
        self.measures: dict[tuple[str, str], int] = {}
        self.series: dict[tuple[int, int, int], int] = {}
        self.machines: dict[str, tuple[int, str]] = {}
        self.batch: list[ParsedFileRun] = []  # runs to store with the next flush
        self.batch_rows = 0
        # Per machine: a row's (suite, name, params key, measure, unit) -> its ids.
        self.row_ids: dict[int, dict[tuple[str, ...], _Keys]] = {}
        self.last_runs: dict[int, int] = {}  # series -> newest run of it stored here
        self.runs_added = self.runs_skipped = self.results = 0

    def add(self, run: ParsedFileRun) -> None:
        """Keep ``run`` for the next batch unless its content is stored already."""
        if run.digest in self.known:
            self.runs_skipped += 1
            return
        self.known.add(run.digest)
        self.batch.append(run)
        self.batch_rows += len(run.rows)
        self.results += len(run.rows)  # stored by the time the import commits
        self.runs_added += 1
        if self.batch_rows >= COPY_BATCH:
            self.flush()

    def flush(self) -> None:
        """Store the batch: its runs in one statement, new keys, then every result row."""
        if not self.batch:
            return
        batch, self.batch, self.batch_rows = self.batch, [], 0
        machine_ids = [self._machine(run.machine) for run in batch]
        run_ids = self._insert_runs(batch, machine_ids)
        placed = []
        for run, machine_id, run_id in zip(batch, machine_ids, run_ids, strict=True):
            commit_id = self.commit_ids[run.commit]
            ids = self._ensure_keys(run.rows, machine_id)
            placed.append((run, run_id, commit_id, self.positions[commit_id], ids))
        self.session.flush()
        if self.postgres:
            self._copy(placed)
        else:
            self._insert_results(placed)

    def _copy(self, placed: list[_Placed]) -> None:
        """COPY the rows into ``result`` on this session's connection (its transaction),
        a run at a time: the server stores one run's lines while the next are joined."""
        dbapi = self.session.connection().connection.dbapi_connection
        assert dbapi is not None
        columns = ", ".join(f'"{c}"' for c in (*_COLUMNS, *RESULT_COLUMNS))
        last_runs = self.last_runs
        cursor = dbapi.cursor()
        try:
            with cursor.copy(f"COPY result ({columns}) FROM STDIN") as copy:
                for run, run_id, commit_id, position, ids in placed:
                    # A line: this run's columns, the row's keys, then the result columns
                    # the parse worker already wrote.
                    head = f"{run_id}\t{commit_id}\t{position}\t"
                    lines = run.copy_lines or [copy_columns(row) for row in run.rows]
                    text = []
                    for row, line in zip(run.rows, lines, strict=True):
                        keys = ids[row[0], row[1], row[2], row[4], row[5]]
                        last_runs[keys.series] = run_id
                        text.append(f"{head}{keys.copy_text}{line}\n")
                    copy.write("".join(text))
        finally:
            cursor.close()

    def _insert_results(self, placed: list[_Placed]) -> None:
        names = (*_COLUMNS, *RESULT_COLUMNS)
        rows = []
        for run, run_id, commit_id, position, ids in placed:
            for row in run.rows:
                series, bench, measure, _ = ids[row[0], row[1], row[2], row[4], row[5]]
                self.last_runs[series] = run_id
                values = (run_id, commit_id, position, series, bench, measure, *row[KEY_FIELDS:])
                rows.append(dict(zip(names, values, strict=True)))
        for item in rows:
            if item["samples"] is not None:  # JSON text for COPY; the column wants the list
                item["samples"] = json.loads(item["samples"])
        self.session.execute(insert(Result), rows)

    def _insert_runs(self, batch: list[ParsedFileRun], machine_ids: list[int]) -> list[int]:
        """Insert the runs of a batch in one statement; their ids, in order."""
        now = utcnow()
        values = []
        for run, machine_id in zip(batch, machine_ids, strict=True):
            info = run.machine or MachineInfo(name=self._machine_name(run.machine))
            values.append(
                {
                    "project_id": self.project.id,
                    "commit_id": self.commit_ids[run.commit],
                    "branch_id": self.branch_id,
                    "machine_id": machine_id,
                    "status": run.status,
                    "source_format": run.format,
                    "source_name": run.source_name[:500],
                    "idempotency_key": f"import:{run.digest}",
                    "environment": run.environment,
                    "machine_snapshot": info.model_dump(mode="json"),
                    "started_at": _timestamp(run.started_at),
                    "created_at": now,
                    "result_count": len(run.rows),
                    "content_hash": run.digest,
                }
            )
        inserted = self.session.execute(
            insert(Run).returning(Run.id, sort_by_parameter_order=True), values
        )
        return [int(run_id) for run_id in inserted.scalars()]

    def _ensure_keys(self, all_rows: list[Row], machine_id: int) -> dict[tuple[str, ...], _Keys]:
        """Create the benchmarks, measures and series of ``rows`` not seen yet; the ids of
        this machine's rows by their key (see ``row_ids``)."""
        known = self.row_ids.setdefault(machine_id, {})
        rows = [r for r in all_rows if (r[0], r[1], r[2], r[4], r[5]) not in known]
        if not rows:
            return known
        project = self.project.id
        new_benchmarks = {
            (r[0], r[1], r[2]): {
                "project_id": project,
                "suite": r[0],
                "name": r[1],
                "params": r[3],
                "params_key": r[2],
            }
            for r in rows
            if (r[0], r[1], r[2]) not in self.benchmarks
        }
        if new_benchmarks:
            ids = ensure_rows(
                self.session,
                Benchmark,
                list(new_benchmarks.values()),
                ["project_id", "suite", "name", "params_key"],
            )
            self.benchmarks.update({key[1:]: ident for key, ident in ids.items()})
        new_measures = {
            (r[4], r[5]): {"project_id": project, "name": r[4], "unit": r[5], "direction": r[6]}
            for r in rows
            if (r[4], r[5]) not in self.measures
        }
        if new_measures:
            ids = ensure_rows(
                self.session, Measure, list(new_measures.values()), ["project_id", "name", "unit"]
            )
            self.measures.update({key[1:]: ident for key, ident in ids.items()})
        keys = {
            (self.benchmarks[(r[0], r[1], r[2])], self.measures[(r[4], r[5])], machine_id)
            for r in rows
        }
        missing = [k for k in keys if k not in self.series]
        if missing:
            series_rows = [
                {
                    "project_id": project,
                    "benchmark_id": b,
                    "measure_id": m,
                    "machine_id": mach,
                    "branch_id": self.branch_id,
                }
                for b, m, mach in missing
            ]
            ids = ensure_rows(
                self.session,
                Series,
                series_rows,
                ["benchmark_id", "measure_id", "machine_id", "branch_id"],
            )
            self.series.update({key[:3]: ident for key, ident in ids.items()})
        for r in rows:
            bench = self.benchmarks[(r[0], r[1], r[2])]
            measure = self.measures[(r[4], r[5])]
            series = self.series[(bench, measure, machine_id)]
            known[(r[0], r[1], r[2], r[4], r[5])] = _Keys(
                series, bench, measure, f"{series}\t{bench}\t{measure}\t"
            )
        return known

    @staticmethod
    def _machine_name(info: MachineInfo | None) -> str:
        return info.name if info is not None else DEFAULT_MACHINE

    def _machine(self, info: MachineInfo | None) -> int:
        """The machine's id; its description is updated when the fingerprint changes (as
        ingest does), so the machines page shows what the newest imported run ran on."""
        name = self._machine_name(info)
        fingerprint = machine_fingerprint(info) if info is not None else ""
        cached = self.machines.get(name)
        if cached is not None and (info is None or cached[1] == fingerprint):
            return cached[0]
        ids = ensure_rows(
            self.session,
            Machine,
            [{"project_id": self.project.id, "name": name, "extra": {}, "fingerprint": ""}],
            ["project_id", "name"],
        )
        machine = self.session.get(Machine, ids[(self.project.id, name)])
        assert machine is not None
        if info is not None and machine.fingerprint != fingerprint:
            if machine.fingerprint:
                machine.fingerprint_changed_at = utcnow()
            machine.fingerprint = fingerprint
            machine.cpu_model, machine.cores = info.cpu_model, info.cores
            machine.memory_bytes, machine.os = info.memory_bytes, info.os
            machine.kernel, machine.python = info.kernel, info.python
            machine.extra = dict(info.extra)
            self.session.flush()
        self.machines[name] = (machine.id, machine.fingerprint)
        return machine.id


def _timestamp(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return as_utc(datetime.fromisoformat(raw.replace("Z", "+00:00")))
    except ValueError:
        return None
