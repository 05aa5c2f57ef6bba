"""The files of a results history, in commit order, parsed into compact rows.

Two layouts are read (``benchwarden import``):

* an asv results directory: ``results/benchmarks.json``, ``results/<machine>/machine.json``
  and ``results/<machine>/<commit8>-<env>.json``; each result file is one run;
* a directory of result files named by commit, ``<sha>.json`` (or ``.json.gz``),
  of any supported format.

Results must be stored with their commit's position, so the order of commits is
settled before any file is parsed: :func:`plan` reads only what orders them (asv's
``commit_hash`` and ``date`` from the head of each file; for commit-named files the
optional order file, else modification time, then name). :func:`parse_file` then
parses one file into plain tuples: it runs in worker processes, and tuples cross a
process boundary several times faster than pydantic models.

No database and no Flask here.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner.parsers import ParseError, asv, asv_rows, parse_path
from runner.parsers.rows import ROW_FIELDS, Row, copy_columns, record_row
from runner.parsers.source import Source
from runner.schema import MachineInfo, ParsedRun, RunPayload
from web.services.ingest import DEFAULT_MACHINE, content_hash, content_hash_of_texts

_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
_ASV_COMMIT = re.compile(rb'"commit_hash"\s*:\s*"([^"]*)"')
_ASV_DATE = re.compile(rb'"date"\s*:\s*(-?\d+)')
# The columns of ``result`` a row fills; the fields before them are its keys.
KEY_FIELDS = ROW_FIELDS.index("value")
RESULT_COLUMNS = ROW_FIELDS[KEY_FIELDS:]


class BulkSourceError(ValueError):
    """The path is not a history that can be imported; the message says why."""


@dataclass(frozen=True)
class SourceFile:
    """One file to import: where it is, its commit and the time that orders it."""

    path: Path
    commit: str
    time: datetime | None
    kind: str  # "asv" or "file"
    results_dir: Path | None = None  # asv: where benchmarks.json is


@dataclass(frozen=True)
class ParsedFileRun:
    """One run of a parsed file, reduced to what the bulk path stores."""

    digest: str
    format: str
    commit: str
    source_name: str
    machine: MachineInfo | None
    environment: str | None
    started_at: str | None
    status: str
    rows: list[Row]
    # When the file was read for PostgreSQL: the ``result`` columns of each row as COPY
    # text (``rows.copy_columns``), formatted in the worker, not by the writer; ``rows``
    # then hold only the keys of each row (``KEY_FIELDS``).
    copy_lines: list[str] | None = None


def plan(path: Path, order_file: Path | None = None) -> list[SourceFile]:
    """The files of the history at ``path``, oldest commit first; raises BulkSourceError."""
    if not path.exists():
        raise BulkSourceError(f"{path} does not exist")
    if not path.is_dir():
        raise BulkSourceError(f"{path} is not a directory")
    files = _asv_files(path) if _is_asv(path) else _commit_files(path, order_file)
    if not files:
        raise BulkSourceError(
            f"{path} holds no result files (an asv results directory, or <sha>.json files)"
        )
    return files


def _is_asv(path: Path) -> bool:
    return any(
        (candidate / "benchmarks.json").is_file() or (candidate / "machine.json").is_file()
        for candidate in (path, path / "results")
    )


def _asv_files(path: Path) -> list[SourceFile]:
    results = path / "results" if (path / "results" / "benchmarks.json").is_file() else path
    if (results / "machine.json").is_file():  # one machine's directory
        machine_dirs, results = [results], results.parent
    else:
        machine_dirs = sorted(d for d in results.iterdir() if (d / "machine.json").is_file())
    found: list[tuple[int, str, SourceFile]] = []
    for machine_dir in machine_dirs:
        for file in sorted(machine_dir.glob("*.json")):
            if file.name == "machine.json":
                continue
            commit, millis = _asv_head(file)
            when = datetime.fromtimestamp(millis / 1000, tz=UTC) if millis is not None else None
            entry = SourceFile(file, commit, when, "asv", results)
            found.append((millis if millis is not None else 2**62, str(file), entry))
    return [entry for _, _, entry in sorted(found, key=lambda item: (item[0], item[1]))]


def _asv_head(file: Path) -> tuple[str, int | None]:
    """``commit_hash`` and ``date`` of an asv result file, read from before its results."""
    data = _read(file)
    head = data[: data.find(b'"results"')] if b'"results"' in data else data
    commit, date = _ASV_COMMIT.search(head), _ASV_DATE.search(head)
    if commit is None:  # keys after the results: read the whole document
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise BulkSourceError(f"{_name(file)}: not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("commit_hash"), str):
            raise BulkSourceError(f"{_name(file)}: an asv result file needs a commit_hash")
        raw_date = doc.get("date")
        return _sha(doc["commit_hash"], file), raw_date if isinstance(raw_date, int) else None
    return _sha(commit.group(1).decode("utf-8", "replace"), file), (
        int(date.group(1)) if date else None
    )


def _commit_files(path: Path, order_file: Path | None) -> list[SourceFile]:
    files = [f for f in path.iterdir() if f.is_file() and f.name.endswith((".json", ".json.gz"))]
    by_commit: dict[str, Path] = {}
    for file in files:
        sha = _sha(file.name.removesuffix(".gz").removesuffix(".json"), file).lower()
        if sha in by_commit:
            raise BulkSourceError(f"{file.name}: commit {sha} has two files")
        by_commit[sha] = file
    if order_file is not None:
        order = _read_order(order_file)
        missing = sorted(set(by_commit) - set(order))
        if missing:
            raise BulkSourceError(f"{order_file} does not list commit {missing[0]}")
        ordered = [sha for sha in order if sha in by_commit]
    else:
        ordered = sorted(by_commit, key=lambda s: (by_commit[s].stat().st_mtime, s))
    return [SourceFile(by_commit[sha], sha, None, "file") for sha in ordered]


def _read_order(order_file: Path) -> list[str]:
    try:
        text = order_file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise BulkSourceError(f"cannot read {order_file}: {exc}") from None
    return [line.strip().lower() for line in text.splitlines() if line.strip()]


def _sha(text: str, file: Path) -> str:
    if not _SHA.match(text):
        raise BulkSourceError(f"{_name(file)}: {text!r} is not a commit SHA (7-64 hex digits)")
    return text.lower()


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise BulkSourceError(f"cannot read {file}: {exc.strerror or exc}") from None


def _name(file: Path) -> str:
    return f"{file.parent.name}/{file.name}"


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector paused.

    Reading a result file builds tens of small lists and dicts per result, none of
    them in a cycle (reference counting frees them). Each few hundred of them start
    a collection that walks every live container, which tripled the cost of reading
    a large file; paused, the collector runs once afterwards if it is due."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_file(item: SourceFile, project: str, copy: bool = False) -> list[ParsedFileRun]:
    """Parse one planned file into compact runs, with their COPY lines when ``copy``;
    raises BulkSourceError naming the file."""
    with collector_paused():
        runs = _parse_file(item, project)
        if copy:  # the writer then needs only the keys of each row (its first fields)
            runs = [
                replace(
                    run,
                    rows=[row[:KEY_FIELDS] for row in run.rows],
                    copy_lines=[copy_columns(row) for row in run.rows],
                )
                for run in runs
            ]
        return runs


def _parse_file(item: SourceFile, project: str) -> list[ParsedFileRun]:
    try:
        if item.kind == "asv":
            return _asv_runs(item, project)
        output = parse_path(item.path)
    except ParseError as exc:
        raise BulkSourceError(f"{_name(item.path)}: {exc}") from None
    return [_compact(item, project, run, output.format) for run in output.runs if run.results]


def _asv_runs(item: SourceFile, project: str) -> list[ParsedFileRun]:
    """An asv result file read into rows (``asv_rows``): no pydantic record per result."""
    assert item.results_dir is not None
    src = Source.from_bytes(_read(item.path), item.path.name)
    found = asv_rows.read_rows(src, _benchmarks(item.results_dir), _machine_doc(item.path.parent))
    if not found.rows:
        return []
    _check_payload(item, project)
    run = found.run
    machine = run.machine.name if run.machine else DEFAULT_MACHINE
    return [
        ParsedFileRun(
            digest=content_hash_of_texts(item.commit, machine, asv.FORMAT, run, found.texts),
            format=asv.FORMAT,
            commit=item.commit,
            source_name=item.path.name,
            machine=run.machine,
            environment=run.environment,
            started_at=run.started_at,
            status=_status([row[-2] for row in found.rows]),
            rows=found.rows,
        )
    ]


@lru_cache(maxsize=8)
def _benchmarks(results_dir: Path) -> dict[str, asv.BenchmarkInfo] | None:
    doc = _json_or_none(results_dir / "benchmarks.json")
    return (
        asv.benchmark_infos(doc) if isinstance(doc, dict) and asv.is_benchmarks_json(doc) else None
    )


@lru_cache(maxsize=64)
def _machine_doc(machine_dir: Path) -> dict[str, Any] | None:
    doc = _json_or_none(machine_dir / "machine.json")
    return doc if isinstance(doc, dict) else None


def _json_or_none(file: Path) -> object:
    if not file.is_file():
        return None
    try:
        return Source.from_bytes(_read(file), file.name).json(asv.FORMAT)
    except ParseError as exc:
        raise BulkSourceError(f"{_name(file)}: {exc}") from None


def _check_payload(item: SourceFile, project: str) -> RunPayload:
    try:
        return RunPayload(project=project, commit=item.commit, source_name=item.path.name)
    except ValidationError as exc:
        raise BulkSourceError(f"{_name(item.path)}: {exc.errors()[0]['msg']}") from None


def _compact(item: SourceFile, project: str, run: ParsedRun, format: str) -> ParsedFileRun:
    return ParsedFileRun(
        digest=content_hash(_check_payload(item, project), run, format),
        format=format,
        commit=item.commit,
        source_name=item.path.name,
        machine=run.machine,
        environment=run.environment,
        started_at=run.started_at,
        status=_status([r.status for r in run.results]),
        rows=[record_row(r) for r in run.results],
    )


def _status(statuses: list[str]) -> str:
    ok = statuses.count("ok")
    if ok == len(statuses):
        return "ok"
    return "failed" if ok == 0 and all(s == "failed" for s in statuses) else "partial"
