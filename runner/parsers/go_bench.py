"""``go test -bench`` text output, and the same wrapped in ``go test -json`` (test2json).

A result line is ``BenchmarkName[-P]  <iterations>  <value> <unit> ...``:

* ``-P`` (GOMAXPROCS, set by ``-cpu``) becomes param ``cpu``; Go omits the
  suffix when GOMAXPROCS is 1, so a line without one gets ``cpu=1``;
* name segments of the form ``key=value`` (``BenchmarkFib/n=10``) become params,
  the other segments stay in the name, as benchstat reads them;
* suite = the package from the preceding ``pkg:`` line, so equal names in two
  packages stay apart;
* ``-count N`` repeats of one benchmark become the samples of one record (value
  = their mean);
* units: ``ns/op`` -> measure ``time`` in s; ``B/op`` -> ``alloc_bytes`` in B;
  ``allocs/op`` -> ``allocs``; ``MB/s`` -> ``throughput`` (higher is better);
  custom metrics (``b.ReportMetric``) -> measure named by their unit, higher is
  better only for rates (``.../s``);
* ``--- FAIL: BenchmarkX`` / ``--- SKIP:`` give failed / skipped records of
  measure ``time`` (with the package's ``cpu`` when it ran with one value).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from runner.parsers.errors import ParseError
from runner.parsers.fields import Reader
from runner.parsers.records import mean, record, stats_from_samples
from runner.parsers.source import Source
from runner.parsers.units import throughput_direction
from runner.schema import ParsedRun, ResultRecord

FORMAT = "go-bench"
_read = Reader(FORMAT)
# Possessive repeats (++, ?+) where what follows can never be taken back, so a
# long line that almost matches costs one pass, not a backtracking search.
_LINE = re.compile(
    r"^(Benchmark\S*?)(?:-(\d++))?\s++(\d++)"
    r"((?:\s++[-+]?+[\d.]++(?:[eE][-+]?+\d++)?+\s++\S++)++)\s*+$"
)
_PAIR = re.compile(r"([-+]?[\d.]+(?:[eE][-+]?\d+)?)\s+(\S+)")
_STATUS = re.compile(r"^\s*--- (FAIL|SKIP): (Benchmark\S*)")
_KNOWN = {
    "ns/op": ("time", "s", 1e-9, "lower_is_better"),
    "B/op": ("alloc_bytes", "B", 1.0, "lower_is_better"),
    "allocs/op": ("allocs", "allocs", 1.0, "lower_is_better"),
    "MB/s": ("throughput", "MB/s", 1.0, "higher_is_better"),
}
Key = tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass
class _Series:
    """The values of one benchmark (suite, name, params) by unit, in line order."""

    values: dict[str, list[float]] = field(default_factory=dict)


def sniff_text(text: str) -> bool:
    """Go benchmark output: a result line, or ``goos:``/``pkg:`` headers with a status line."""
    lines = text.splitlines()
    if any(line.startswith("Benchmark") and _LINE.match(line) for line in lines[:5000]):
        return True
    headers = any(line.startswith(("goos: ", "pkg: ")) for line in lines[:50])
    return headers and any("--- " in line and _STATUS.match(line) for line in lines)


def sniff_test2json(src: Source) -> bool:
    """``go test -json`` output: JSON lines with ``Action`` and ``Package``."""
    line = src.first_line
    return line.startswith("{") and '"Action"' in line


def parse(src: Source) -> list[ParsedRun]:
    """Parse go test output (plain or test2json) into one run."""
    text = src.text
    if sniff_test2json(src):
        text = _test2json_text(src)
    return [ParsedRun(results=_parse_text(text))]


def _test2json_text(src: Source) -> str:
    """Concatenate the ``output`` events of each package (events may split lines)."""
    outputs: dict[str, list[str]] = {}
    for number, event in src.json_lines(FORMAT):
        event = _read.obj(event, f"line {number}")
        if event.get("Action") == "output":
            package = event.get("Package") or ""
            text = _read.opt_string(event.get("Output"), f"line {number} Output") or ""
            outputs.setdefault(str(package), []).append(text)
    return "".join(f"pkg: {pkg}\n" + "".join(parts) + "\n" for pkg, parts in outputs.items())


def _parse_text(text: str) -> list[ResultRecord]:
    series: dict[Key, _Series] = {}
    statuses: list[tuple[Key, str, int]] = []
    cpus: dict[str, set[str]] = {}
    package = ""
    lines = text.splitlines()
    status_lines: list[int] = []
    for index, line in enumerate(lines):
        if line.startswith("pkg: "):
            package = line[5:].strip()
        elif line.startswith("Benchmark") and (match := _LINE.match(line)):
            key = _key(package, match.group(1), match.group(2) or "1")
            cpus.setdefault(package, set()).add(match.group(2) or "1")
            _add(series.setdefault(key, _Series()), match.group(4), line)
        elif "--- " in line and (match := _STATUS.match(line)):
            key = _key(package, match.group(2), None)
            statuses.append((key, match.group(1), index))
            status_lines.append(index)
    results = [rec for key, s in series.items() for rec in _records(key, s)]
    if not statuses:
        return results
    seen = {(suite, name, params) for suite, name, params in series}
    is_status = set(status_lines)
    for key, kind, index in statuses:
        full_key = _status_key(key, cpus)
        if full_key not in seen:
            seen.add(full_key)
            results.append(_status_record(full_key, kind, _log(lines, index, is_status)))
    return results


def _key(package: str, full_name: str, cpu: str | None) -> Key:
    params: dict[str, str] = {}
    kept = []
    for i, segment in enumerate(full_name.split("/")):
        name, eq, value = segment.partition("=")
        if i > 0 and eq and name and name != "cpu" and name not in params and "=" not in value:
            params[name] = value
        else:
            kept.append(segment)
    if cpu is not None:
        params["cpu"] = cpu
    return package, "/".join(kept), tuple(sorted(params.items()))


def _add(series: _Series, metrics: str, line: str) -> None:
    for number, unit in _PAIR.findall(metrics):
        try:
            value = float(number)
        except ValueError:
            raise ParseError(f"bad number {number!r} in line {line!r}", format=FORMAT) from None
        series.values.setdefault(unit, []).append(value)


def _records(key: Key, series: _Series) -> Iterator[ResultRecord]:
    suite, name, params = key
    shared = dict(params)  # one dict for all units: validated once (see records.record)
    for unit, values in series.values.items():
        measure, base_unit, factor, direction = _KNOWN.get(
            unit, (unit, unit, 1.0, throughput_direction(unit))
        )
        scaled = [v * factor for v in values]
        samples = scaled if len(scaled) > 1 else None
        yield record(
            FORMAT,
            suite=suite,
            name=name,
            params=shared,
            measure=measure,
            unit=base_unit,
            direction=direction,
            value=mean(scaled),
            stats=stats_from_samples(samples) if samples else None,
            samples=samples,
        )


def _log(lines: list[str], index: int, is_status: set[int]) -> str:
    """The log of the ``--- FAIL``/``--- SKIP`` line at `index`.

    The indented lines after it, up to the next status line; when that status
    line comes first and is indented deeper (a failed sub-benchmark), it is
    the log. Without any: the indented lines before it (``-v`` output logs
    first), up to a status line. Each line so belongs to at most one log after
    and one before, which keeps parsing linear however the statuses nest.
    """
    after: list[str] = []
    for at in range(index + 1, len(lines)):
        line = lines[at]
        if not line.startswith("    "):
            break
        if at in is_status:
            if not after and _indent(line) > _indent(lines[index]):
                after.append(line.strip())
            break
        after.append(line.strip())
    if after:
        return "; ".join(after)
    before: list[str] = []
    for at in range(index - 1, -1, -1):
        line = lines[at]
        if not line.startswith("    ") or at in is_status:
            break
        before.append(line.strip())
    return "; ".join(reversed(before))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _status_key(key: Key, cpus: dict[str, set[str]]) -> Key:
    """A status line's key, with the package's ``cpu`` when it ran with one value."""
    suite, name, params = key
    package_cpus = cpus.get(suite, set())
    if len(package_cpus) != 1:
        return key
    full_params = dict(params) | {"cpu": next(iter(package_cpus))}
    return suite, name, tuple(sorted(full_params.items()))


def _status_record(key: Key, kind: str, log: str) -> ResultRecord:
    suite, name, params = key
    return record(
        FORMAT,
        suite=suite,
        name=name,
        params=dict(params),
        measure="time",
        unit="s",
        status="failed" if kind == "FAIL" else "skipped",
        error=log or ("benchmark failed" if kind == "FAIL" else None),
    )
