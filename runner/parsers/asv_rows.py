"""asv result files read straight into rows and record texts, for bulk import.

Building and validating a pydantic record per result is most of the cost of
reading a large asv history, and bulk import needs no record: only the row it
stores and the record's JSON text its content hash is taken of (``rows``).
Here a benchmark's identity (suite, name, params, measure, unit) is validated
through ``record`` once per benchmark and parameter set, reused for every file of
the history, and rendered once into the fixed parts of the row and the text;
each value is then checked by hand and filled in.

Only the plain case is read that way: a finite result with optional quartiles
and repeat count. Any other entry (a failed or skipped benchmark, samples,
format-1 statistics, anything malformed) is handed to the record parser
(``asv.expand``), so it reads exactly as ``asv.parse_result_file`` reads it,
errors included. ``tests/runner/test_asv_rows.py`` holds the two paths equal.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from runner.parsers import asv
from runner.parsers.errors import ParseError
from runner.parsers.fields import param_text
from runner.parsers.records import record, two_results
from runner.parsers.rows import Row, record_row, record_text
from runner.parsers.source import Source
from runner.parsers.units import scale_for
from runner.schema import INT32_MAX, NON_NEGATIVE_UNITS, ParsedRun, ResultRecord, params_key


@dataclass(frozen=True)
class Identity:
    """One combination of one benchmark, validated, as the fixed parts of its row and text."""

    row_head: Row  # suite, name, params key, params, measure, unit, direction
    text_head: str  # the record's JSON up to its stats
    text_tail: str  # from its stats to its value
    factor: float  # to the base unit
    non_negative: bool


@dataclass(frozen=True)
class FileRows:
    """One result file: its run (without results), a row and a record text per result."""

    run: ParsedRun
    rows: list[Row]
    texts: list[str]


def read_rows(
    src: Source,
    benchmarks: dict[str, asv.BenchmarkInfo] | None,
    machine_doc: dict[str, Any] | None,
) -> FileRows:
    """The rows of one result file in the order ``asv.parse_result_file`` gives its
    records; raises ParseError as it does, and for two results of one series."""
    doc, columns, raw = asv.read_result_file(src)
    rows: list[Row] = []
    texts: list[str] = []
    budget = asv.Budget(len(src.data))
    at = _Columns.of(columns)
    for key, entry in raw.items():
        info = asv.info_for(key, benchmarks)
        if at is None or not _plain(key, info, entry, at, budget, rows, texts):
            for r in asv.expand(key, info, asv.entry_row(entry, columns, key), budget):
                rows.append(record_row(r))
                texts.append(record_text(r))
    _check_unique(rows)
    return FileRows(asv.run_header(doc, machine_doc), rows, texts)


@dataclass(frozen=True)
class _Columns:
    """Where the columns the plain reading needs are in a format-2 entry (-1: absent)."""

    count: int
    result: int
    params: int
    q25: int
    q75: int
    repeat: int
    others: tuple[int, ...]  # samples and format 1's stats: present means not plain

    @classmethod
    def of(cls, columns: list[str] | None) -> _Columns | None:
        """None for format 1, or columns named twice (the record parser's dict keeps the
        last of them): the record parser reads every entry."""
        if columns is None or len(set(columns)) != len(columns):
            return None
        at = {name: i for i, name in enumerate(columns)}
        return cls(
            count=len(columns),
            result=at.get("result", -1),
            params=at.get("params", -1),
            q25=at.get("stats_q_25", -1),
            q75=at.get("stats_q_75", -1),
            repeat=at.get("stats_repeat", -1),
            others=tuple(at[name] for name in ("samples", "stats") if name in at),
        )


def _plain(
    key: str,
    info: asv.BenchmarkInfo,
    entry: object,
    at: _Columns,
    budget: asv.Budget,
    rows: list[Row],
    texts: list[str],
) -> bool:
    """Append the rows and texts of one format-2 entry; False (nothing appended) when it
    is not the plain case."""
    if type(entry) is not list or len(entry) > at.count:
        return False
    # Padded with nulls for the trailing columns asv leaves out, and one more, which an
    # absent column's index (-1) reads.
    column = entry + [None] * (at.count + 1 - len(entry))
    if any(column[i] is not None for i in at.others):
        return False
    params = column[at.params] or []
    axes = _axes_key(params)
    if axes is None:
        return False
    count = math.prod(len(axis) for axis in axes)
    values = _split(column[at.result], count)
    q25, q75, repeat = (_split(column[i], count) for i in (at.q25, at.q75, at.repeat))
    if count == 0 or values is None or q25 is None or q75 is None or repeat is None:
        return False
    # Charged before the combinations are built, as the record parser charges it (and
    # raises when over); given back when the entry goes to that parser after all.
    before = budget.state()
    if axes:
        budget.grid(key, params, values)
    identities = _identities(key, info, axes)
    try:
        if identities is None:
            raise _NotPlain
        found = [
            _one(ident, values[i], q25[i], q75[i], repeat[i]) for i, ident in enumerate(identities)
        ]
    except _NotPlain:
        budget.restore(before)
        return False
    for row, text in found:
        rows.append(row)
        texts.append(text)
    return True


class _NotPlain(Exception):
    """A value the plain reading does not take: the entry goes to the record parser."""


def _one(
    ident: Identity, raw: object, raw_q1: object, raw_q3: object, raw_rounds: object
) -> tuple[Row, str]:
    value = _scaled(raw, ident)
    q1 = None if raw_q1 is None else _scaled(raw_q1, ident)
    q3 = None if raw_q3 is None else _scaled(raw_q3, ident)
    rounds = None if raw_rounds is None else _rounds(raw_rounds)
    if q1 is None and q3 is None and rounds is None:
        stats = "null"
    else:  # numbers as json.dumps writes them: repr, or null
        stats = (
            '{"max": null, "mean": null, "median": null, "min": null, "q1": '
            f'{"null" if q1 is None else repr(q1)}, "q3": {"null" if q3 is None else repr(q3)}'
            f', "rounds": {"null" if rounds is None else rounds}, "stddev": null}}'
        )
    # A plain result's sample count is its repeat count (see ``record_row``).
    row = (*ident.row_head, value, None, None, None, None, None, q1, q3, rounds, rounds, None)
    return (*row, "ok", None), f"{ident.text_head}{stats}{ident.text_tail}{value!r}}}"


def _axes_key(params: object) -> tuple[tuple[Any, ...], ...] | None:
    """The parameter axes as a hashable key, or None when they are not lists of scalars."""
    if params == []:
        return ()
    if not isinstance(params, list) or not all(isinstance(axis, list) for axis in params):
        return None
    scalar = (str, int, float, type(None))
    if not all(isinstance(v, scalar) for axis in params for v in axis):
        return None
    # bool is an int: (True,) == (1,), but the two read as different parameter texts.
    return tuple(tuple((type(v), v) for v in axis) for axis in params)


@lru_cache(maxsize=65536)
def _identities(
    key: str, info: asv.BenchmarkInfo, axes: tuple[tuple[Any, ...], ...]
) -> tuple[Identity, ...] | None:
    """The validated combinations of a benchmark, or None when it cannot be read here
    (a duplicate combination, or one the record schema refuses)."""
    texts = [[param_text(v) for _, v in axis] for axis in axes]
    if any(len(set(axis)) != len(axis) for axis in texts):
        return None
    suite, _, name = key.rpartition(".")
    names = list(info.param_names[: len(texts)])
    names += [f"param{i + 1}" for i in range(len(names), len(texts))]
    factor, unit, _ = scale_for(info.unit) if info.unit else (1.0, "", "other")
    identities = []
    for combo in _product(texts):
        base = {"suite": suite, "name": name, "params": dict(zip(names, combo, strict=True))}
        try:
            checked = record(asv.FORMAT, **base, measure=info.type, unit=unit, status="skipped")
        except ParseError:
            return None
        identities.append(_identity(checked, factor))
    return tuple(identities)


def _identity(checked: ResultRecord, factor: float) -> Identity:
    dump = json.dumps
    return Identity(
        row_head=(
            checked.suite,
            checked.name,
            params_key(checked.params),
            checked.params,
            checked.measure,
            checked.unit,
            checked.direction,
        ),
        text_head=(
            f'{{"direction": {dump(checked.direction)}, "error": null,'
            f' "measure": {dump(checked.measure)}, "name": {dump(checked.name)},'
            f' "params": {dump(checked.params, sort_keys=True)}, "samples": null, "stats": '
        ),
        text_tail=(
            f', "status": "ok", "suite": {dump(checked.suite)}, "unit": {dump(checked.unit)},'
            ' "value": '
        ),
        factor=factor,
        non_negative=checked.unit in NON_NEGATIVE_UNITS,
    )


def _product(axes: list[list[str]]) -> list[tuple[str, ...]]:
    """asv's cartesian order: the last parameter varies fastest."""
    combos: list[tuple[str, ...]] = [()]
    for axis in axes:
        combos = [(*combo, value) for combo in combos for value in axis]
    return combos


def _split(value: object, count: int) -> list[Any] | None:
    """One entry per combination, or None when the column does not split plainly."""
    if value is None:
        return [None] * count
    if isinstance(value, list):
        return value if len(value) == count else None
    return [value] if count == 1 else None


def _scaled(raw: object, ident: Identity) -> float:
    """A value in the base unit; one that scales out of range or below zero where the
    unit cannot be is left to the record parser (which refuses or drops it)."""
    value = _finite(raw) * ident.factor
    if not math.isfinite(value) or (ident.non_negative and value < 0):
        raise _NotPlain
    return value


def _finite(value: object) -> float:
    """A finite JSON number as a float (``type`` checks: a bool is no number here)."""
    kind = type(value)
    if kind is float:
        number: float = value  # type: ignore[assignment]
    elif kind is int:
        try:
            number = float(value)  # type: ignore[arg-type]
        except OverflowError:
            raise _NotPlain from None
    else:
        raise _NotPlain
    if not math.isfinite(number):
        raise _NotPlain
    return number


def _rounds(value: object) -> int:
    """A repeat count that fits its column."""
    number = _finite(value)
    if not number.is_integer() or not 0 <= number <= INT32_MAX:
        raise _NotPlain
    return int(number)


def _check_unique(rows: list[Row]) -> None:
    """Refuse two results for one series in one run, as ``check_unique`` does."""
    seen: set[tuple[str, str, str, str]] = set()
    for row in rows:
        key = (row[0], row[1], row[2], row[4])
        if key in seen:
            raise two_results(row[0], row[1], row[3], row[4], asv.FORMAT)
        seen.add(key)
