"""JMH JSON (``-rf json``).

One record per benchmark, mode and parameter set. suite = the class
(``org.example.MyBench``), name = the method, params = ``params``. The measure
follows the mode: ``thrpt`` -> ``throughput`` (ops per second, higher is
better), ``avgt`` -> ``time``, ``sample`` -> ``sample_time``, ``ss`` ->
``single_shot_time`` (seconds per op, lower is better). value = ``score``;
samples = ``rawData`` flattened over forks; the median comes from
``scorePercentiles``. Each secondary metric becomes one more measure named by
its key (without JMH's leading ``·``), in its normalized unit.
"""

from __future__ import annotations

from typing import Any

from runner.parsers.fields import Reader, param_text
from runner.parsers.records import record, stats
from runner.parsers.source import Source
from runner.parsers.units import normalize, scale_for, throughput_direction
from runner.schema import ParsedRun, ResultRecord

FORMAT = "jmh"
_read = Reader(FORMAT)
_MODES = {"thrpt": "throughput", "avgt": "time", "sample": "sample_time", "ss": "single_shot_time"}


def sniff(doc: object) -> bool:
    """A JMH document: an array of objects with ``benchmark`` and ``primaryMetric``."""
    return (
        isinstance(doc, list)
        and bool(doc)
        and all(isinstance(e, dict) and "benchmark" in e and "primaryMetric" in e for e in doc)
    )


def parse(src: Source) -> list[ParsedRun]:
    """Parse one JMH result array into one run."""
    entries = _read.array(src.json(FORMAT), "the document")
    results: list[ResultRecord] = []
    for i, entry in enumerate(entries):
        results.extend(_benchmark(_read.obj(entry, f"entry {i}"), i))
    return [ParsedRun(results=results)]


def _benchmark(entry: dict[str, Any], i: int) -> list[ResultRecord]:
    full = _read.string(entry.get("benchmark"), f"entry {i} benchmark")
    suite, _, name = full.rpartition(".")
    params = {
        str(k): param_text(v)
        for k, v in _read.obj(entry.get("params") or {}, f"{full} params").items()
    }
    mode = _read.opt_string(entry.get("mode"), f"{full} mode") or "thrpt"
    base = {"suite": suite, "name": name, "params": params}
    primary = _read.obj(entry.get("primaryMetric"), f"{full} primaryMetric")
    out = [_metric(base, _MODES.get(mode, mode), primary, f"{full} primaryMetric")]
    secondary = _read.obj(entry.get("secondaryMetrics") or {}, f"{full} secondaryMetrics")
    for key, metric in secondary.items():
        measure = key.removeprefix("\u00b7").strip() or key  # JMH prefixes "·gc.alloc.rate"
        out.append(_metric(base, measure, _read.obj(metric, f"{full} {key}"), f"{full} {key}"))
    return out


def _metric(base: dict[str, Any], measure: str, metric: dict[str, Any], where: str) -> ResultRecord:
    unit = _read.string(metric.get("scoreUnit"), f"{where}.scoreUnit")
    factor, base_unit, kind = scale_for(unit)
    score = normalize(_read.finite(metric.get("score"), f"{where}.score"), unit).value
    raw = _read.array(metric.get("rawData") or [], f"{where}.rawData")
    samples = [v * factor for fork in raw for v in _read.nums(fork, f"{where}.rawData[]")]
    percentiles = metric.get("scorePercentiles")
    median = None
    if isinstance(percentiles, dict) and percentiles.get("50.0") is not None:
        median = _read.finite(percentiles["50.0"], f"{where} median") * factor
    direction = (
        "higher_is_better"
        if kind == "other" and throughput_direction(unit) == "higher_is_better"
        else "lower_is_better"
    )
    return record(
        FORMAT,
        **base,
        measure=measure,
        unit=base_unit,
        direction=direction,
        value=score,
        stats=stats(FORMAT, median=median, rounds=len(samples) or None),
        samples=samples or None,
    )
