"""Whole numbers from query strings and form fields: ASCII digits, within a column's range.

``str.isdigit`` is true for ``"²"``, which ``int`` then refuses (a 500), and
``int`` reads ``"١"`` or ``" 7"`` as numbers; a number past 2**63-1 overflows
the database's BIGINT. Every handler that reads a number from text goes
through :func:`whole_number`, so all of them refuse the same inputs.
"""

from __future__ import annotations

from runner.schema import INT64_MAX

MAX_JOB_LIMIT = 1000


def whole_number(raw: str | None, *, low: int = 1, high: int = INT64_MAX) -> int | None:
    """``raw`` as an int in ``low..high``; None when missing, not ASCII digits or out of range."""
    if not raw or len(raw) > len(str(high)) or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if low <= value <= high else None
