"""Criterion.rs results: cargo-criterion JSON messages and ``target/criterion`` files.

Two inputs:

* ``cargo criterion --message-format=json`` output: JSON lines (or one JSON
  document) whose ``benchmark-complete`` messages each give one benchmark:
  ``id`` is the name, ``typical`` (the slope estimate when Criterion sampled
  linearly, else the mean) is the value, ``mean``/``median`` go to stats and
  ``measured_values / iteration_count`` are the per-iteration samples. Other
  messages (``group-complete``) are ignored.
* ``estimates.json`` of one benchmark (``<id>/new/estimates.json``), or a
  whole ``target/criterion`` directory: the name comes from ``benchmark.json``
  beside it (``full_id``) or else from the path; samples from ``sample.json``.

All times are converted to seconds; measure ``time``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runner.parsers.errors import ParseError
from runner.parsers.fields import Reader
from runner.parsers.records import record, stats
from runner.parsers.source import Source
from runner.parsers.units import time_factor
from runner.schema import ParsedRun, ResultRecord

FORMAT = "criterion"
_read = Reader(FORMAT)
_ESTIMATES = ("mean", "median", "median_abs_dev", "std_dev")


def sniff(doc: object) -> bool:
    """A cargo-criterion message or a Criterion ``estimates.json``."""
    if not isinstance(doc, dict):
        return False
    if doc.get("reason") in ("benchmark-complete", "group-complete"):
        return True
    mean = doc.get("mean")
    return isinstance(mean, dict) and "point_estimate" in mean and "median" in doc


def sniff_lines(src: Source) -> bool:
    """JSON lines whose first document is a cargo-criterion message."""
    line = src.first_line
    return line.startswith("{") and '"reason"' in line


def parse(src: Source) -> list[ParsedRun]:
    """Parse cargo-criterion messages or one estimates.json into one run."""
    doc = src.json_or_none
    if isinstance(doc, dict) and "reason" not in doc:
        return [ParsedRun(results=[_estimates(doc, _name_from_path(src.filename), None)])]
    # Read line by line, so a bad message stops the parse where it is.
    messages: Iterable[Any] = (
        [doc] if isinstance(doc, dict) else (d for _, d in src.json_lines(FORMAT))
    )
    results: list[ResultRecord] = []
    for i, message in enumerate(messages):
        message = _read.obj(message, f"message {i + 1}")
        if message.get("reason") == "benchmark-complete":
            results.append(_complete(message, i + 1))
        elif "reason" not in message:
            raise _read.error(f"message {i + 1} has no 'reason'")
    return [ParsedRun(results=results)]


def _complete(message: dict[str, Any], number: int) -> ResultRecord:
    name = _read.string(message.get("id"), f"message {number}.id")
    numbers = {}
    for key in ("typical", "mean", "median"):
        estimate = _read.obj(message.get(key), f"{name}.{key}")
        factor = _factor(estimate.get("unit", message.get("unit", "ns")), name)
        numbers[key] = _read.finite(estimate.get("estimate"), f"{name}.{key}.estimate") * factor
    samples = _per_iteration(
        message.get("iteration_count"),
        message.get("measured_values"),
        _factor(message.get("unit", "ns"), name),
        name,
    )
    return record(
        FORMAT,
        name=name,
        measure="time",
        unit="s",
        value=numbers["typical"],
        stats=stats(
            FORMAT, mean=numbers["mean"], median=numbers["median"], rounds=len(samples) or None
        ),
        samples=samples or None,
    )


def _factor(unit: object, name: str) -> float:
    factor = time_factor(unit) if isinstance(unit, str) else None
    if factor is None:
        raise _read.error(f"{name}: unsupported unit {unit!r} (a time unit is expected)")
    return factor


def _per_iteration(iters: object, times: object, factor: float, name: str) -> list[float]:
    if iters is None and times is None:
        return []
    counts = _read.nums(iters, f"{name} iteration counts")
    totals = _read.nums(times, f"{name} measured values")
    if len(counts) != len(totals) or any(c <= 0 for c in counts):
        raise _read.error(f"{name}: iteration counts and measured values do not match")
    return [t / c * factor for t, c in zip(totals, counts, strict=True)]


def _estimates(doc: dict[str, Any], name: str, sample: dict[str, Any] | None) -> ResultRecord:
    """One benchmark from estimates.json (nanoseconds) and optionally sample.json."""
    points = {}
    for key in _ESTIMATES:
        estimate = _read.obj(doc.get(key), f"estimates.json {key}")
        points[key] = _read.finite(estimate.get("point_estimate"), f"{key}.point_estimate") * 1e-9
    slope = doc.get("slope")
    value = points["mean"]
    if slope is not None:
        value = _read.finite(_read.obj(slope, "slope").get("point_estimate"), "slope") * 1e-9
    samples: list[float] = []
    if sample is not None:
        samples = _per_iteration(sample.get("iters"), sample.get("times"), 1e-9, name)
    return record(
        FORMAT,
        name=name,
        measure="time",
        unit="s",
        value=value,
        stats=stats(
            FORMAT,
            mean=points["mean"],
            median=points["median"],
            stddev=points["std_dev"],
            rounds=len(samples) or None,
        ),
        samples=samples or None,
    )


def _name_from_path(filename: str | None) -> str:
    """``.../criterion/<id>/new/estimates.json`` -> ``<id>``; else the benchmark directory."""
    parts = Path(filename).parts if filename else ()
    in_run_dir = len(parts) >= 3 and parts[-2] in ("new", "base", "change")
    head = list(parts[:-2]) if in_run_dir else []
    # Under target/criterion the whole relative path is the id (group/function/value).
    cut = len(head) - head[::-1].index("criterion") if "criterion" in head else len(head) - 1
    head = head[max(cut, 0) :]
    if not head:
        raise _read.error(
            "estimates.json does not name its benchmark; parse it by its path"
            " (target/criterion/<id>/new/estimates.json) or parse the criterion directory"
        )
    return "/".join(head)


def parse_directory(path: Path) -> list[ParsedRun]:
    """Every ``new/estimates.json`` under a ``target/criterion`` directory, as one run."""
    results = []
    for estimates in sorted(path.rglob("new/estimates.json")):
        if "report" in estimates.parts:
            continue
        bench_dir = estimates.parent
        meta = _load(bench_dir / "benchmark.json")
        name = meta.get("full_id") if meta else None
        if not isinstance(name, str) or not name:
            name = bench_dir.parent.relative_to(path).as_posix()
        doc = _load(estimates) or {}
        results.append(_estimates(doc, name, _load(bench_dir / "sample.json")))
    if not results:
        raise _read.error(f"no */new/estimates.json files found in {path}")
    return [ParsedRun(results=results)]


def _load(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return _read.obj(Source.from_bytes(path.read_bytes()).json(FORMAT), path.name)
    except ParseError as exc:
        raise _read.error(f"{path}: {exc.reason}") from None
    except OSError as exc:
        raise _read.error(f"cannot read {path}: {exc.strerror}") from None
