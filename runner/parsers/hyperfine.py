"""hyperfine ``--export-json`` output.

One record per command, measure ``time`` in seconds: value ``mean``, stats
from hyperfine's own summary, samples from ``times``. The name is the command
(or its ``--command-name``); ``parameters`` of ``--parameter-scan``/``-L`` runs
become params (values as written, hyperfine writes them as strings). Extra
measures ``user_time`` and ``system_time`` (means, seconds). A command with any
non-zero exit code (recorded when run with ``--ignore-failure``) is failed:
its timings measure an error path, not the benchmark.
"""

from __future__ import annotations

from typing import Any

from runner.parsers.fields import Reader, param_text
from runner.parsers.records import record, stats
from runner.parsers.source import Source
from runner.schema import ParsedRun, ResultRecord

FORMAT = "hyperfine"
_read = Reader(FORMAT)


def sniff(doc: object) -> bool:
    """A hyperfine document: ``results`` entries with ``command`` and ``times``/``mean``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        return False
    results = doc["results"]
    return bool(results) and isinstance(results[0], dict) and "command" in results[0]


def parse(src: Source) -> list[ParsedRun]:
    """Parse one hyperfine JSON export into one run."""
    doc = _read.obj(src.json(FORMAT), "the document")
    entries = _read.array(doc.get("results"), "results")
    results: list[ResultRecord] = []
    for i, entry in enumerate(entries):
        results.extend(_command(_read.obj(entry, f"results[{i}]"), f"results[{i}]"))
    return [ParsedRun(results=results)]


def _command(entry: dict[str, Any], where: str) -> list[ResultRecord]:
    name = _read.string(entry.get("command"), f"{where}.command")
    raw_params = entry.get("parameters") or {}
    params = {
        str(k): param_text(v) for k, v in _read.obj(raw_params, f"{where}.parameters").items()
    }
    base = {"name": name, "params": params, "unit": "s"}
    codes = entry.get("exit_codes") or []
    failing = [c for c in _read.array(codes, f"{where}.exit_codes") if c not in (0, None)]
    if failing:
        error = f"{len(failing)} of {len(codes)} runs exited non-zero (exit code {failing[0]})"
        return [record(FORMAT, **base, measure="time", status="failed", error=error)]
    times = entry.get("times")
    samples = _read.nums(times, f"{where}.times") if times is not None else None
    numbers = {
        key: _read.opt_num(entry.get(key), f"{where}.{key}")
        for key in ("mean", "median", "stddev", "min", "max")
    }
    out = [
        record(
            FORMAT,
            **base,
            measure="time",
            value=numbers["mean"],
            stats=stats(FORMAT, rounds=len(samples) if samples else None, **numbers),
            samples=samples or None,
            status="ok" if numbers["mean"] is not None else "failed",
            error=None if numbers["mean"] is not None else "no mean time",
        )
    ]
    for key in ("user", "system"):
        value = _read.opt_num(entry.get(key), f"{where}.{key}")
        if value is not None:
            out.append(record(FORMAT, **base, measure=f"{key}_time", value=value))
    return out
