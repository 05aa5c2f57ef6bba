"""github-action-benchmark's custom formats: ``customSmallerIsBetter`` and ``customBiggerIsBetter``.

A JSON array of ``{name, unit, value, range?, extra?}``. The two formats differ
only in direction, which the content cannot tell: auto-detection picks
``customBiggerIsBetter`` only when the file name says "bigger", else
``customSmallerIsBetter`` (pass the format explicitly to be sure). Time and
memory units are converted to seconds and bytes (measure ``time``/``memory``);
other units are kept and also name the measure. ``range`` and ``extra`` are
free text with no place in the wire schema and are dropped.
"""

from __future__ import annotations

from runner.parsers.fields import Reader
from runner.parsers.records import record
from runner.parsers.source import Source
from runner.parsers.units import normalize
from runner.schema import Direction, ParsedRun, ResultRecord

SMALLER = "customSmallerIsBetter"
BIGGER = "customBiggerIsBetter"


def sniff(doc: object) -> bool:
    """A non-empty array of objects with ``name``, ``unit`` and ``value``."""
    return (
        isinstance(doc, list)
        and bool(doc)
        and all(isinstance(e, dict) and {"name", "unit", "value"} <= set(e) for e in doc)
    )


def pick(filename: str | None) -> str:
    """The direction-specific format for a detected custom file."""
    return BIGGER if filename and "bigger" in filename.lower() else SMALLER


def parse_smaller(src: Source) -> list[ParsedRun]:
    """Parse a customSmallerIsBetter array (lower is better)."""
    return _parse(src, SMALLER, "lower_is_better")


def parse_bigger(src: Source) -> list[ParsedRun]:
    """Parse a customBiggerIsBetter array (higher is better)."""
    return _parse(src, BIGGER, "higher_is_better")


def _parse(src: Source, format: str, direction: Direction) -> list[ParsedRun]:
    read = Reader(format)
    entries = read.array(src.json(format), "the document")
    results: list[ResultRecord] = []
    for i, entry in enumerate(entries):
        entry = read.obj(entry, f"entry {i}")
        name = read.string(entry.get("name"), f"entry {i} name")
        unit = read.opt_string(entry.get("unit"), f"{name!r} unit") or ""
        quantity = normalize(read.finite(entry.get("value"), f"{name!r} value"), unit)
        measure = quantity.kind if quantity.kind != "other" else (quantity.unit or "value")
        results.append(
            record(
                format,
                name=name,
                measure=measure,
                unit=quantity.unit,
                direction=direction,
                value=quantity.value,
            )
        )
    return [ParsedRun(results=results)]
