"""airspeed velocity (asv) results: result files (format 1 and 2) and results directories.

Layout of a results directory (asv 0.4 to 0.6)::

    results/benchmarks.json                 units, types and parameter names
    results/<machine>/machine.json          the machine description
    results/<machine>/<commit8>-<env>.json  one result file per commit and environment

Each result file becomes one run (commit from ``commit_hash``, environment from
``env_name``). A parametrized benchmark expands to one record per combination of
its parameters, in asv's cartesian order (the last parameter varies fastest).
A ``null`` result is a failed benchmark, ``NaN`` a skipped one. Names are split
at the last dot: suite ``module.Class``, name ``time_method``. Without
``benchmarks.json`` the unit comes from the name prefix (``time_`` seconds,
``mem_``/``peakmem_`` bytes, ``track_`` unitless) and parameters are named
``param1``, ``param2``, ... as asv itself names unnamed parameters.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.parsers.errors import ParseError
from runner.parsers.fields import Reader, param_text
from runner.parsers.records import machine, record, stats, stats_from_samples
from runner.parsers.source import Source
from runner.parsers.units import scale_for
from runner.schema import MachineInfo, ParsedRun, ResultRecord

FORMAT = "asv"
_read = Reader(FORMAT)
# asv benchmark types by name prefix, used when benchmarks.json is not at hand.
_PREFIX_TYPES = (
    ("timeraw_", "time", "seconds"),
    ("time_", "time", "seconds"),
    ("peakmem_", "peakmemory", "bytes"),
    ("mem_", "memory", "bytes"),
    ("track_", "track", ""),
)


@dataclass(frozen=True)
class BenchmarkInfo:
    """What benchmarks.json says about one benchmark."""

    type: str
    unit: str
    param_names: tuple[str, ...]


def sniff(doc: object) -> bool:
    """An asv result file, benchmarks.json or machine.json."""
    if not isinstance(doc, dict):
        return False
    if isinstance(doc.get("results"), dict) and ("commit_hash" in doc or "env_name" in doc):
        return True
    if set(doc) == {"machine", "version"} or ("machine" in doc and "arch" in doc and "ram" in doc):
        return True
    return is_benchmarks_json(doc)


def is_benchmarks_json(doc: dict[str, Any]) -> bool:
    """True for an asv benchmarks.json: ``version`` plus objects with ``type`` and ``name``."""
    entries = [v for k, v in doc.items() if k != "version"]
    return (
        "version" in doc
        and bool(entries)
        and all(isinstance(v, dict) and "type" in v and "name" in v for v in entries)
    )


def parse(src: Source) -> list[ParsedRun]:
    """Parse one asv result file without benchmarks.json (units from name prefixes)."""
    return [parse_result_file(src, benchmarks=None, machine_doc=None)]


def parse_result_file(
    src: Source,
    benchmarks: dict[str, BenchmarkInfo] | None,
    machine_doc: dict[str, Any] | None,
) -> ParsedRun:
    """Parse one result file, using benchmarks.json and machine.json when known."""
    doc, rows = open_result_file(src)
    results: list[ResultRecord] = []
    budget = Budget(len(src.data))
    for key, row in rows:
        results.extend(expand(key, info_for(key, benchmarks), row, budget))
    return run_header(doc, machine_doc).model_copy(update={"results": results})


def open_result_file(src: Source) -> tuple[dict[str, Any], Iterator[tuple[str, dict[str, Any]]]]:
    """The document of a result file and its results as (benchmark key, row) pairs,
    each row a dict of asv's columns (format 2) or the entry itself (format 1)."""
    doc, columns, raw = read_result_file(src)
    return doc, ((key, entry_row(entry, columns, key)) for key, entry in raw.items())


def read_result_file(src: Source) -> tuple[dict[str, Any], list[str] | None, dict[str, Any]]:
    """The document of a result file, its ``result_columns`` (None in format 1) and its
    raw results by benchmark key."""
    doc = _read.obj(src.json(FORMAT), "the document")
    if "results" not in doc:
        if is_benchmarks_json(doc):
            raise _read.error(
                "this is benchmarks.json (benchmark definitions, no results);"
                " parse the results directory or a result file"
            )
        raise _read.error("this is machine.json (no results); parse the results directory")
    version = doc.get("version", 1)
    raw = _read.obj(doc.get("results"), "results")
    return doc, _columns(doc, version), raw


def entry_row(entry: object, columns: list[str] | None, key: str) -> dict[str, Any]:
    """One raw result as a row: a dict of the columns (format 2), or format 1's entry."""
    return _row(entry, columns, key) if columns is not None else _row_v1(entry, key)


def run_header(doc: dict[str, Any], machine_doc: dict[str, Any] | None) -> ParsedRun:
    """The run a result file describes, without its results."""
    return ParsedRun(
        commit=_read.opt_string(doc.get("commit_hash"), "commit_hash"),
        machine=_machine(machine_doc, doc.get("params")),
        started_at=_date(doc.get("date")),
        environment=_read.opt_string(doc.get("env_name"), "env_name"),
        results=[],
    )


def info_for(key: str, benchmarks: dict[str, BenchmarkInfo] | None) -> BenchmarkInfo:
    """What benchmarks.json says of ``key``, else what its name prefix implies."""
    return (benchmarks or {}).get(key) or _info_from_name(key)


def benchmark_infos(doc: object) -> dict[str, BenchmarkInfo]:
    """Read benchmarks.json into name -> type, unit and parameter names."""
    doc = _read.obj(doc, "benchmarks.json")
    infos: dict[str, BenchmarkInfo] = {}
    for key, entry in doc.items():
        if key == "version":
            continue
        entry = _read.obj(entry, f"benchmarks.json {key!r}")
        names = _read.array(entry.get("param_names", []), f"{key}.param_names")
        infos[key] = BenchmarkInfo(
            type=_read.string(entry.get("type"), f"{key}.type"),
            unit=_read.opt_string(entry.get("unit"), f"{key}.unit") or "",
            param_names=tuple(param_text(n) for n in names),
        )
    return infos


def _columns(doc: dict[str, Any], version: object) -> list[str] | None:
    if version == 1:
        return None
    if version != 2:
        raise _read.error(f"result file version {version!r} is not supported (1 or 2 expected)")
    columns = _read.array(doc.get("result_columns"), "result_columns")
    return [_read.string(c, "result_columns[]") for c in columns]


def _row(entry: object, columns: list[str], key: str) -> dict[str, Any]:
    """A format-2 row as a dict; trailing columns asv dropped are simply absent."""
    values = _read.array(entry, f"results[{key!r}]")
    if len(values) > len(columns):
        raise _read.error(f"results[{key!r}] has more values than result_columns")
    return dict(zip(columns, values, strict=False))


def _row_v1(entry: object, key: str) -> dict[str, Any]:
    """A format-1 entry (a dict, or a bare value in the oldest files) as a row."""
    if not isinstance(entry, dict):
        return {"result": entry, "params": []}
    row = dict(entry)
    row.setdefault("params", [])
    return row


def _info_from_name(key: str) -> BenchmarkInfo:
    short = key.rsplit(".", 1)[-1]
    for prefix, type_, unit in _PREFIX_TYPES:
        if short.startswith(prefix):
            return BenchmarkInfo(type_, unit, ())
    return BenchmarkInfo("track", "", ())


class Budget:
    """What the parameter grids of one result file may expand to.

    Parameter axes multiply: twenty axes of two values are a million
    combinations, so a few hundred bytes could ask for millions of records.
    A result list holds one value per combination, so its records are paid
    for by its bytes; a null result (asv writes one when every combination
    failed) stands for all of them at once. Two limits keep the work linear in
    the size of the file, far above what asv writes: all records together hold
    at most `VALUES_PER_BYTE` parameter values per byte (plus `VALUES_FLOOR`),
    and null results expand to at most one record per `BYTES_PER_FAILED`
    bytes (plus `FAILED_FLOOR`).
    """

    VALUES_PER_BYTE = 2
    VALUES_FLOOR = 100_000
    BYTES_PER_FAILED = 2
    FAILED_FLOOR = 10_000

    def __init__(self, size: int) -> None:
        self.values_left = self.VALUES_PER_BYTE * size + self.VALUES_FLOOR
        self.failed_left = size // self.BYTES_PER_FAILED + self.FAILED_FLOOR

    def state(self) -> tuple[int, int]:
        """What is left, to give back with :meth:`restore`."""
        return self.values_left, self.failed_left

    def restore(self, state: tuple[int, int]) -> None:
        self.values_left, self.failed_left = state

    def grid(self, key: str, axes: list[list[Any]], result: object) -> int:
        """The number of combinations of `axes`, spent from the budget (ParseError when over)."""
        if any(not axis for axis in axes):
            return 0
        count = 1
        for axis in axes:
            count *= len(axis)
            values = count * len(axes)
            failed = count if result is None else 0
            if values > self.values_left or failed > self.failed_left:
                raise _read.error(
                    f"{key}: its {len(axes)} parameters have too many combinations"
                    " for the size of the file"
                )
        self.values_left -= count * len(axes)
        self.failed_left -= count if result is None else 0
        return count


def expand(
    key: str, info: BenchmarkInfo, row: dict[str, Any], budget: Budget
) -> list[ResultRecord]:
    """One record per parameter combination of one benchmark."""
    suite, _, name = key.rpartition(".")
    params = _read.array(row.get("params") or [], f"{key}.params")
    raw_axes = [_read.array(p, f"{key}.params[]") for p in params]
    result = row.get("result")
    count = budget.grid(key, raw_axes, result)
    axes = [[param_text(v) for v in axis] for axis in raw_axes]
    names = list(info.param_names[: len(axes)])
    names += [f"param{i + 1}" for i in range(len(names), len(axes))]
    values = _per_combo(result, count, key, "result")
    factor, unit, _ = scale_for(info.unit) if info.unit else (1.0, "", "other")
    out = []
    for i, combo in enumerate(itertools.product(*axes)):
        base = {"suite": suite, "name": name, "params": dict(zip(names, combo, strict=True))}
        base |= {"measure": info.type, "unit": unit}
        out.append(_one(key, base, values[i], _combo_extras(row, i, count, key), factor))
    return out


def _per_combo(value: object, count: int, key: str, column: str) -> list[Any]:
    """Split a column into one entry per combination (None when the column is null)."""
    if value is None:
        return [None] * count
    if not isinstance(value, list):
        return [value] * count if count == 1 else _mismatch(key, column, 1, count)
    if len(value) != count:
        return _mismatch(key, column, len(value), count)
    return value


def _mismatch(key: str, column: str, got: int, count: int) -> list[Any]:
    raise _read.error(f"{key}: {column} has {got} values for {count} parameter combinations")


def _combo_extras(row: dict[str, Any], i: int, count: int, key: str) -> dict[str, Any]:
    extras = {}
    for column in ("samples", "stats", "stats_q_25", "stats_q_75", "stats_repeat"):
        if row.get(column) is not None:
            extras[column] = _per_combo(row[column], count, key, column)[i]
    return extras


def _one(
    key: str, base: dict[str, Any], value: object, extras: dict[str, Any], factor: float
) -> ResultRecord:
    if value is None:
        return record(FORMAT, **base, status="failed", error="benchmark failed (null result)")
    number = _read.num(value, f"{key} result")
    if math.isnan(number):
        return record(FORMAT, **base, status="skipped")
    if not math.isfinite(number):
        raise _read.error(f"{key}: result {number} is not a finite number")
    samples = None
    if extras.get("samples") is not None:
        samples = [s * factor for s in _read.nums(extras["samples"], f"{key} samples")]
    summary = stats_from_samples(samples) if samples else _summary(key, extras, factor)
    return record(FORMAT, **base, value=number * factor, stats=summary, samples=samples or None)


def _summary(key: str, extras: dict[str, Any], factor: float) -> Any:
    old = extras.get("stats")
    if isinstance(old, dict):  # format 1: {min, max, mean, std, q_25, q_75, repeat, number}
        nums = {k: _read.opt_num(old.get(k), f"{key} stats.{k}") for k in ("min", "max", "mean")}
        scaled = {k: v * factor if v is not None else None for k, v in nums.items()}
        std, q1, q3 = (
            _read.opt_num(old.get(k), f"{key} stats.{k}") for k in ("std", "q_25", "q_75")
        )
        return stats(
            FORMAT,
            **scaled,
            stddev=std * factor if std is not None else None,
            q1=q1 * factor if q1 is not None else None,
            q3=q3 * factor if q3 is not None else None,
            rounds=_read.opt_int(old.get("repeat"), f"{key} stats.repeat"),
        )
    q1 = _read.opt_num(extras.get("stats_q_25"), f"{key} stats_q_25")
    q3 = _read.opt_num(extras.get("stats_q_75"), f"{key} stats_q_75")
    return stats(
        FORMAT,
        q1=q1 * factor if q1 is not None else None,
        q3=q3 * factor if q3 is not None else None,
        rounds=_read.opt_int(extras.get("stats_repeat"), f"{key} stats_repeat"),
    )


def _machine(machine_doc: dict[str, Any] | None, params: object) -> MachineInfo | None:
    """machine.json when available, else the machine fields asv copies into ``params``."""
    info = machine_doc if machine_doc is not None else params
    if not isinstance(info, dict):
        return None
    ram = info.get("ram")
    # asv writes ram in KiB, as a string.
    memory = int(ram) * 1024 if isinstance(ram, str) and ram.isdigit() else None
    extra = {k: v for k, v in info.items() if k in ("arch", "num_cpu") and isinstance(v, str)}
    cores = info.get("num_cpu")
    return machine(
        FORMAT,
        name=info.get("machine"),
        cpu_model=info.get("cpu"),
        cores=int(cores) if isinstance(cores, str) and cores.isdigit() else None,
        memory_bytes=memory,
        os=info.get("os"),
        python=params.get("python") if isinstance(params, dict) else None,
        extra=extra,
    )


def _date(value: object) -> str | None:
    """asv dates are milliseconds since the epoch; returned as ISO 8601 in UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def parse_directory(path: Path) -> list[ParsedRun]:
    """Parse an asv results directory (or its project directory, or one machine directory).

    Returns one run per result file, machines in name order and each machine's
    runs in date order. Raises ParseError when no result file is found.
    """
    results_dir, machine_dirs = _layout(path)
    benchmarks = _benchmarks_near(results_dir) if results_dir else None
    runs: list[ParsedRun] = []
    for machine_dir in machine_dirs:
        machine_doc = _load_optional(machine_dir / "machine.json")
        found = [
            _parse_file(file, benchmarks, machine_doc)
            for file in sorted(machine_dir.glob("*.json"))
            if file.name != "machine.json"
        ]
        runs.extend(sorted(found, key=lambda run: run.started_at or ""))
    if not runs:
        raise _read.error(f"no asv result files found in {path}")
    return runs


def parse_result_path(path: Path) -> list[ParsedRun]:
    """Parse one result file, reading ``../benchmarks.json`` and ``machine.json`` beside it."""
    benchmarks = _benchmarks_near(path.parent.parent)
    machine_doc = _load_optional(path.parent / "machine.json")
    return [_parse_file(path, benchmarks, machine_doc)]


def _layout(path: Path) -> tuple[Path | None, list[Path]]:
    """The results directory (if any) and the machine directories to read."""
    for candidate in (path, path / "results"):
        if (candidate / "benchmarks.json").is_file():
            dirs = sorted(d for d in candidate.iterdir() if (d / "machine.json").is_file())
            return candidate, dirs
    if (path / "machine.json").is_file():
        return path.parent, [path]
    raise _read.error(
        f"{path} is not an asv results directory (no benchmarks.json or machine.json)"
    )


def _benchmarks_near(directory: Path) -> dict[str, BenchmarkInfo] | None:
    doc = _load_optional(directory / "benchmarks.json")
    return benchmark_infos(doc) if doc is not None and is_benchmarks_json(doc) else None


def _load_optional(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        doc = Source.from_bytes(path.read_bytes(), path.name).json(FORMAT)
    except ParseError as exc:
        raise _read.error(f"{path.name}: {exc.reason}") from None
    except OSError as exc:
        raise _read.error(f"cannot read {path}: {exc.strerror}") from None
    return _read.obj(doc, path.name)


def _parse_file(
    path: Path, benchmarks: dict[str, BenchmarkInfo] | None, machine_doc: dict[str, Any] | None
) -> ParsedRun:
    try:
        src = Source.from_bytes(path.read_bytes(), path.name)
        return parse_result_file(src, benchmarks, machine_doc)
    except ParseError as exc:
        raise _read.error(f"{path.parent.name}/{path.name}: {exc.reason}") from None
    except OSError as exc:
        raise _read.error(f"cannot read {path}: {exc.strerror}") from None
