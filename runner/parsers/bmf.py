"""Bencher Metric Format (BMF) JSON.

Version 0: ``{benchmark: {measure: {value, lower_value?, upper_value?}}}``.
Version 1 (unreleased upstream, accepted because files exist):
``{benchmark: [{parameters: {...}, measures: {measure: {value, ...}}}]}``;
both may be mixed in one document. Entries of one benchmark whose parameters
are equal as values (``16``, ``16.0``, ``1.6e1``) are repeats of one benchmark:
their values become the samples of one record (value = mean). Bounds and
extra keys (``p50``...) have no place in the wire schema and are dropped.

Bencher's built-in measures get their units: ``latency`` is nanoseconds
(converted to seconds), ``throughput`` operations per second (higher is
better), ``file-size`` bytes, ``build-time`` seconds; any other measure keeps
an empty unit and is lower-is-better.
"""

from __future__ import annotations

from typing import Any

from runner.parsers.fields import Reader, param_text
from runner.parsers.records import mean, record, stats_from_samples
from runner.parsers.source import Source
from runner.schema import ParsedRun, ResultRecord

FORMAT = "bmf"
_read = Reader(FORMAT)
# measure slug -> (unit, factor to that unit, direction)
_MEASURES = {
    "latency": ("s", 1e-9, "lower_is_better"),
    "throughput": ("ops/s", 1.0, "higher_is_better"),
    "file-size": ("B", 1.0, "lower_is_better"),
    "build-time": ("s", 1.0, "lower_is_better"),
}
Params = tuple[tuple[str, str], ...]
Key = tuple[str, int, str]  # name, parameter set number, measure


def sniff(doc: object) -> bool:
    """A BMF document: every value is a measure map or a list of parametrized entries."""
    if not isinstance(doc, dict) or not doc:
        return False
    return all(_is_v0(v) or _is_v1(v) for v in doc.values())


def _is_v0(value: object) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(m, dict) and "value" in m for m in value.values())
    )


def _is_v1(value: object) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(e, dict) and "measures" in e for e in value)
    )


def parse(src: Source) -> list[ParsedRun]:
    """Parse one BMF document into one run."""
    doc = _read.obj(src.json(FORMAT), "the document")
    values: dict[Key, list[float]] = {}
    param_sets: dict[Params, int] = {}
    for name, body in doc.items():
        if not name.strip():
            raise _read.error("a benchmark name is empty")
        entries = body if isinstance(body, list) else [{"measures": body}]
        for i, entry in enumerate(entries):
            entry = _read.obj(entry, f"{name!r}[{i}]")
            _add_entry(values, param_sets, name, entry, f"{name!r}[{i}]")
    # One dict per parameter set, shared by its records: validated once (see records.record).
    dicts = [dict(params) for params in param_sets]
    return [
        ParsedRun(
            results=[
                _record(name, dicts[params], measure, vals)
                for (name, params, measure), vals in values.items()
            ]
        )
    ]


def _add_entry(
    values: dict[Key, list[float]],
    param_sets: dict[Params, int],
    name: str,
    entry: dict[str, Any],
    where: str,
) -> None:
    raw_params = _read.obj(entry.get("parameters") or {}, f"{where}.parameters")
    params = tuple(sorted((str(k), param_text(v)) for k, v in raw_params.items()))
    # Keys hold a number for the parameter set: hashing the set itself for
    # every measure would cost (parameters x measures).
    params_id = param_sets.setdefault(params, len(param_sets))
    measures = _read.obj(entry.get("measures"), f"{where}.measures")
    for measure, body in measures.items():
        body = _read.obj(body, f"{where} measure {measure!r}")
        value = _read.finite(body.get("value"), f"{where} {measure}.value")
        values.setdefault((name, params_id, measure), []).append(value)


def _record(name: str, params: dict[str, str], measure: str, values: list[float]) -> ResultRecord:
    unit, factor, direction = _MEASURES.get(measure, ("", 1.0, "lower_is_better"))
    scaled = [v * factor for v in values]
    samples = scaled if len(scaled) > 1 else None
    return record(
        FORMAT,
        name=name,
        params=params,
        measure=measure,
        unit=unit,
        direction=direction,
        value=mean(scaled),
        stats=stats_from_samples(samples) if samples else None,
        samples=samples,
    )
