"""Google Benchmark JSON (``--benchmark_out_format=json``), library 1.x.

Rows are grouped by ``run_name`` (the name without an aggregate suffix): the
iteration rows of one group are the repetitions of one benchmark and become
its samples; aggregate rows (``_mean``, ``_median``, ``_stddev``, ``_cv``,
``BigO``, ``RMS``) are not benchmarks of their own. When a file holds only
aggregates (``--benchmark_report_aggregates_only``), the ``mean`` aggregate
gives the value. Measures: ``real_time`` and ``cpu_time`` in seconds, plus one
measure per counter (``bytes_per_second`` in B/s and ``items_per_second`` in
items/s are higher-is-better; user counters keep an empty unit and are
lower-is-better unless their name says per second or rate). A group with any
``error_occurred`` row is failed. The name is kept as written (``BM_x/8``,
``/threads:2``): Google Benchmark's arguments are positional, not named.
"""

from __future__ import annotations

from typing import Any

from runner.parsers.fields import Reader
from runner.parsers.records import machine, mean, record, stats_from_samples
from runner.parsers.source import Source
from runner.parsers.units import time_factor
from runner.schema import MachineInfo, ParsedRun, ResultRecord

FORMAT = "google-benchmark"
_read = Reader(FORMAT)
_ROW_KEYS = {
    "name",
    "run_name",
    "run_type",
    "repetitions",
    "repetition_index",
    "threads",
    "iterations",
    "real_time",
    "cpu_time",
    "time_unit",
    "family_index",
    "per_family_instance_index",
    "aggregate_name",
    "aggregate_unit",
    "label",
    "error_occurred",
    "error_message",
    "big_o",
    "rms",
    "cpu_coefficient",
    "real_coefficient",
}
_RATES = {"bytes_per_second": "B/s", "items_per_second": "items/s"}


def sniff(doc: object) -> bool:
    """A Google Benchmark document: ``benchmarks`` rows with ``name`` and timing keys."""
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        return False
    rows = doc["benchmarks"]
    if not rows:
        return isinstance(doc.get("context"), dict)
    first = rows[0]
    if not isinstance(first, dict) or "name" not in first or "stats" in first:
        return False
    timing = {"real_time", "cpu_time", "run_type", "time_unit", "family_index"}
    return "context" in doc or bool(timing & set(first))


def parse(src: Source) -> list[ParsedRun]:
    """Parse one Google Benchmark JSON document into one run."""
    doc = _read.obj(src.json(FORMAT), "the document")
    rows = [
        _read.obj(r, f"benchmarks[{i}]")
        for i, r in enumerate(_read.array(doc.get("benchmarks"), "benchmarks"))
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for i, row in enumerate(rows):
        name = row.get("run_name") or row.get("name")
        groups.setdefault(_read.string(name, f"benchmarks[{i}].name"), []).append(row)
    results: list[ResultRecord] = []
    for name, group in groups.items():
        results.extend(_group(name, group))
    context = doc.get("context")
    context = context if isinstance(context, dict) else {}
    date = context.get("date")
    return [
        ParsedRun(
            machine=_machine(context),
            started_at=date if isinstance(date, str) else None,
            results=results,
        )
    ]


def _rows_to_use(group: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """The rows that carry this benchmark's values, and whether they are repetitions.

    Iteration rows first; else the ``mean`` aggregate; else aggregate rows
    without an aggregate name (hand-written files that mark every row aggregate).
    """
    iterations = [r for r in group if r.get("run_type", "iteration") != "aggregate"]
    if iterations:
        return iterations, True
    means = [r for r in group if r.get("aggregate_name") == "mean"]
    if means:
        return means[:1], False
    return [r for r in group if r.get("aggregate_name") is None], True


def _group(name: str, group: list[dict[str, Any]]) -> list[ResultRecord]:
    rows, repeated = _rows_to_use(group)
    if not rows:
        return []  # complexity (BigO/RMS) rows only: not a benchmark
    errors = [r for r in rows if r.get("error_occurred") is True]
    if errors:
        message = _read.opt_string(errors[0].get("error_message"), f"{name}.error_message")
        return [_failed(name, "real_time", message or "error_occurred")]
    out = [_time_measure(name, rows, key, repeated) for key in ("real_time", "cpu_time")]
    counters = [k for k in rows[0] if k not in _ROW_KEYS]
    out.extend(_counter(name, rows, key, repeated) for key in counters)
    return out


def _failed(name: str, measure: str, message: str) -> ResultRecord:
    return record(FORMAT, name=name, measure=measure, unit="s", status="failed", error=message)


def _time_measure(name: str, rows: list[dict[str, Any]], key: str, repeated: bool) -> ResultRecord:
    values = []
    for row in rows:
        unit = row.get("time_unit", "ns")
        factor = time_factor(unit) if isinstance(unit, str) else None
        if factor is None:
            raise _read.error(f"{name}: unknown time_unit {unit!r}")
        if key not in row:
            raise _read.error(f"{name}: a row has no {key}")
        values.append(_read.finite(row[key], f"{name}.{key}") * factor)
    return _measure(name, key, "s", "lower_is_better", values, repeated)


def _counter(name: str, rows: list[dict[str, Any]], key: str, repeated: bool) -> ResultRecord:
    values = [_read.finite(r.get(key), f"{name}.{key}") for r in rows]
    unit = _RATES.get(key, "")
    lowered = key.lower()
    rate = key in _RATES or "per_second" in lowered or "rate" in lowered
    direction = "higher_is_better" if rate else "lower_is_better"
    return _measure(name, key, unit, direction, values, repeated)


def _measure(
    name: str, measure: str, unit: str, direction: str, values: list[float], repeated: bool
) -> ResultRecord:
    samples = values if repeated and len(values) > 1 else None
    return record(
        FORMAT,
        name=name,
        measure=measure,
        unit=unit,
        direction=direction,
        value=mean(values),
        stats=stats_from_samples(samples) if samples else None,
        samples=samples,
    )


def _machine(context: dict[str, Any]) -> MachineInfo | None:
    extra = {
        k: context[k] for k in ("mhz_per_cpu", "library_build_type", "executable") if k in context
    }
    return machine(
        FORMAT, name=context.get("host_name"), cores=context.get("num_cpus"), extra=extra
    )
