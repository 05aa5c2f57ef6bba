"""Result records as flat rows and JSON text: what bulk import stores and hashes.

A row is one result as the ``result`` table and its keys want it, a plain
tuple (cheap to build, to send between processes and to ``COPY``); the text is
the record's JSON as a run's content hash reads it (``web.services.ingest``):
``model_dump(mode="json")`` with every object's keys sorted.
"""

from __future__ import annotations

import json
from typing import Any

from runner.schema import ResultRecord, params_key

# The fields of a row, in order; from ``value`` on they are columns of ``result``.
ROW_FIELDS = (
    "suite",
    "name",
    "params_key",
    "params",
    "measure",
    "unit",
    "direction",
    "value",
    "mean",
    "median",
    "stddev",
    "min",
    "max",
    "q1",
    "q3",
    "rounds",
    "sample_count",
    "samples",  # JSON text, or None
    "status",
    "error",
)
Row = tuple[Any, ...]


def record_row(r: ResultRecord) -> Row:
    """The row of one record."""
    s = r.stats
    samples = r.samples
    count = len(samples) if samples is not None else (s.rounds if s else None)
    return (
        r.suite,
        r.name,
        params_key(r.params),
        r.params,
        r.measure,
        r.unit,
        r.direction,
        r.value,
        *((s.mean, s.median, s.stddev, s.min, s.max, s.q1, s.q3, s.rounds) if s else (None,) * 8),
        count,
        json.dumps(samples) if samples is not None else None,
        r.status,
        r.error,
    )


def record_text(r: ResultRecord) -> str:
    """The JSON text of one record, keys sorted."""
    return json.dumps(r.model_dump(mode="json"), sort_keys=True)


_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_NUMBERS = frozenset({int, float})


def copy_columns(row: Row) -> str:
    """The ``result`` columns of a row (``value`` on) as one line of PostgreSQL's
    ``COPY`` text format, without the line end: tab-separated, ``\\N`` for null,
    numbers as Python writes them, text escaped. Built where the row is read (a
    parse worker), so the process that writes only joins lines."""
    return "\t".join(
        [
            "\\N" if v is None else repr(v) if type(v) in _NUMBERS else str(v).translate(_ESCAPES)
            for v in row[7:]
        ]
    )
