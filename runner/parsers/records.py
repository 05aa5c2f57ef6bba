"""Building result records: summary statistics, validation, uniqueness.

Every parser builds its `ResultRecord`s through `record` so that a value the
wire schema refuses (a non-finite number, an over-long name) becomes a
ParseError naming the benchmark instead of a pydantic error from deep inside.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError

from runner.parsers.errors import ParseError
from runner.schema import MachineInfo, ParsedRun, ResultRecord, Stats


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean of a non-empty sequence; None when it is not finite (overflow)."""
    try:
        result = math.fsum(values) / len(values)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


def stats_from_samples(samples: Sequence[float]) -> Stats | None:
    """Summary statistics of raw samples, for tools that write samples but no summary.

    Quartiles are linearly interpolated (the "inclusive" method pytest-benchmark
    uses), the standard deviation is the sample one (ddof=1). Returns None for
    no samples; a statistic that overflows to infinity is left out.
    """
    if not samples:
        return None
    values = np.asarray(samples, dtype=np.float64)
    with np.errstate(all="ignore"):
        q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
        numbers = {
            "mean": float(np.mean(values)),
            "median": float(median),
            "stddev": float(np.std(values, ddof=1)) if values.size > 1 else None,
            "q1": float(q1),
            "q3": float(q3),
            "min": float(values.min()),
            "max": float(values.max()),
        }
    clean = {k: v for k, v in numbers.items() if v is not None and math.isfinite(v)}
    return Stats(rounds=int(values.size), **clean)


_last_params = threading.local()


def record(format: str, **fields: Any) -> ResultRecord:
    """A validated ResultRecord; schema violations become a ParseError for `format`.

    The records of one benchmark (one per measure) usually share one params
    dict: it is validated with the first of them, and while the same dict
    object comes back the validated copy is reused, so k parameters and m
    measures cost k + m, not k x m. So a params dict given here must not be
    changed afterwards (no parser does), and no schema check may combine
    params with another field (none does: params are checked on their own).
    """
    params = fields.get("params")
    last = getattr(_last_params, "pair", None)
    try:
        if params and last is not None and last[0] is params:
            checked = ResultRecord(**(fields | {"params": {}}))
            return checked.model_copy(update={"params": last[1]})
        checked = ResultRecord(**fields)
    except ValidationError as exc:
        name = fields.get("name")
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise ParseError(f"benchmark {name!r}: {where}: {problem['msg']}", format=format) from None
    if params:
        _last_params.pair = (params, checked.params)
    return checked


def stats(format: str, **fields: Any) -> Stats | None:
    """A validated Stats from the finite fields given; None when none is given."""
    clean = {
        key: value
        for key, value in fields.items()
        if value is not None and (not isinstance(value, float) or math.isfinite(value))
    }
    if not clean:
        return None
    try:
        return Stats(**clean)
    except ValidationError as exc:
        raise ParseError(f"invalid statistics: {exc.errors()[0]['msg']}", format=format) from None


def check_unique(runs: Iterable[ParsedRun], format: str) -> None:
    """Refuse a run that holds two results for one series.

    Two values for one series in one run are ambiguous (which is the result?),
    so parsers merge true repeats into samples themselves and anything left
    over is an error, not a silent overwrite at ingest.
    """
    for run in runs:
        # Records of one benchmark share one params dict: sort it once, and key
        # the series by a number for it (hashing the pairs for every record
        # would cost params x records).
        param_sets: dict[tuple[tuple[str, str], ...], int] = {}
        by_dict: dict[int, int] = {}
        seen: set[tuple[str, str, int, str]] = set()
        for rec in run.results:
            params_id = by_dict.get(id(rec.params))
            if params_id is None:
                pairs = tuple(sorted(rec.params.items()))
                params_id = by_dict[id(rec.params)] = param_sets.setdefault(pairs, len(param_sets))
            key = (rec.suite, rec.name, params_id, rec.measure)
            if key in seen:
                raise two_results(rec.suite, rec.name, rec.params, rec.measure, format)
            seen.add(key)


def two_results(
    suite: str, name: str, params: dict[str, str], measure: str, format: str
) -> ParseError:
    """The error for two results of one series in one run (to raise)."""
    label = f"{suite}::{name}" if suite else name
    shown = f" {dict(params)}" if params else ""
    return ParseError(
        f"two results for benchmark {label!r}{shown} measure {measure!r} in one run",
        format=format,
    )


def machine(
    format: str,
    *,
    name: object,
    cpu_model: object = None,
    cores: object = None,
    memory_bytes: object = None,
    os: object = None,
    kernel: object = None,
    python: object = None,
    extra: object = None,
) -> MachineInfo | None:
    """A validated MachineInfo, or None when no usable machine name is given.

    Machine descriptions are informative, so fields of the wrong type are
    dropped rather than failing the whole file; only an unusable name drops
    the machine.
    """
    machine_name = _text(name)
    if machine_name is None:
        return None
    try:
        return MachineInfo(
            name=machine_name,
            cpu_model=_text(cpu_model),
            cores=_count(cores),
            memory_bytes=_count(memory_bytes),
            os=_text(os),
            kernel=_text(kernel),
            python=_text(python),
            extra={str(k): v for k, v in extra.items()} if isinstance(extra, dict) else {},
        )
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise ParseError(f"invalid machine description: {problem}", format=format) from None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _count(value: object) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return value if ok and isinstance(value, int) else None
