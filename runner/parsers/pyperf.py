"""pyperf JSON (format ``1.0``) and the older perf format ``"5"``, plain or ``.json.gz``.

One record per benchmark. Values come from every run's ``values`` (format 5:
``samples``); warmups and calibration runs are excluded, as pyperf itself
excludes them. pyperf stores values already divided by the loop count, so they
are per-iteration. value = mean of the values (pyperf's default summary),
samples = all values in run order. Metadata merges top-level ``metadata``,
format 5's ``common_metadata`` and the benchmark's own ``metadata``: ``name``
names the benchmark, ``unit`` (``second``, ``byte``, ``integer``) sets the
measure (``time`` in s, ``memory`` in B, else ``value`` in the unit as written).
The machine comes from ``hostname``/``cpu_model_name``/``cpu_count``; a
``commit_id`` (pyperformance) gives the commit.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from runner.parsers.fields import Reader
from runner.parsers.records import machine, mean, record, stats_from_samples
from runner.parsers.source import Source
from runner.parsers.units import scale_for
from runner.schema import MachineInfo, ParsedRun, ResultRecord

FORMAT = "pyperf"
_read = Reader(FORMAT)
_VERSIONS = ("1.0", "5", 5)  # perf 0.8 wrote the number 5


def sniff(doc: object) -> bool:
    """A pyperf document: a version string and ``benchmarks`` whose entries have ``runs``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        return False
    benches = doc["benchmarks"]
    if not benches:
        return doc.get("version") in _VERSIONS and "metadata" in doc
    return isinstance(benches[0], dict) and "runs" in benches[0]


def parse(src: Source) -> list[ParsedRun]:
    """Parse one pyperf benchmark or suite into one run."""
    doc = _read.obj(src.json(FORMAT), "the document")
    version = doc.get("version")
    if version not in _VERSIONS:
        raise _read.error(f"JSON format version {version!r} is not supported (1.0 or 5)")
    top = _read.obj(doc.get("metadata") or {}, "metadata")
    benches = _read.array(doc.get("benchmarks"), "benchmarks")
    results: list[ResultRecord] = []
    merged_first: Mapping[str, Any] = top
    started: str | None = None
    for i, bench in enumerate(benches):
        bench = _read.obj(bench, f"benchmarks[{i}]")
        meta = _metadata(top, bench, i)
        if i == 0:
            merged_first = meta
        rec, date = _benchmark(bench, meta, i)
        results.append(rec)
        started = started or date
    commit = merged_first.get("commit_id")
    return [
        ParsedRun(
            commit=commit if isinstance(commit, str) and commit else None,
            machine=_machine(merged_first),
            started_at=started,
            results=results,
        )
    ]


def _metadata(top: dict[str, Any], bench: dict[str, Any], i: int) -> Mapping[str, Any]:
    """The benchmark's metadata over its common metadata over the file's.

    A view, not a merged copy: copying the file's metadata for every benchmark
    would cost (metadata keys x benchmarks).
    """
    common = _read.obj(bench.get("common_metadata") or {}, f"benchmarks[{i}].common_metadata")
    own = _read.obj(bench.get("metadata") or {}, f"benchmarks[{i}].metadata")
    return ChainMap(own, common, top)


def _benchmark(
    bench: dict[str, Any], meta: Mapping[str, Any], i: int
) -> tuple[ResultRecord, str | None]:
    where = f"benchmarks[{i}]"
    name = _read.string(meta.get("name"), f"{where} metadata.name")
    unit_name = meta.get("unit", "second")
    unit_name = unit_name if isinstance(unit_name, str) else "second"
    factor, unit, kind = scale_for(unit_name)
    measure = kind if kind != "other" else "value"
    values: list[float] = []
    date = None
    for j, run in enumerate(_read.array(bench.get("runs"), f"{where}.runs")):
        run = _read.obj(run, f"{where}.runs[{j}]")
        key = "values" if "values" in run else "samples"
        values.extend(
            v * factor for v in _read.nums(run.get(key) or [], f"{where}.runs[{j}].{key}")
        )
        run_meta = run.get("metadata")
        if date is None and isinstance(run_meta, dict) and isinstance(run_meta.get("date"), str):
            date = run_meta["date"]
    if not values:
        rec = record(
            FORMAT,
            name=name,
            measure=measure,
            unit=unit,
            status="failed",
            error="no values (only warmups)",
        )
        return rec, date
    rec = record(
        FORMAT,
        name=name,
        measure=measure,
        unit=unit,
        value=mean(values),
        stats=stats_from_samples(values),
        samples=values,
    )
    return rec, date


def _machine(meta: Mapping[str, Any]) -> MachineInfo | None:
    extra = {
        k: meta[k]
        for k in ("cpu_config", "aslr", "python_executable")
        if isinstance(meta.get(k), str)
    }
    python = meta.get("python_version")
    return machine(
        FORMAT,
        name=meta.get("hostname"),
        cpu_model=meta.get("cpu_model_name"),
        cores=meta.get("cpu_count"),
        os=meta.get("platform"),
        python=python.split(" ")[0] if isinstance(python, str) else None,
        extra=extra,
    )
