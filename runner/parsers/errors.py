"""The one exception every parser raises for input it cannot read."""

from __future__ import annotations


class ParseError(ValueError):
    """The input is not a result file of the format that was tried.

    `str(error)` is shown to users as is: it names the format that was tried
    (when one was) and says what is wrong, e.g. ``"pyperf: benchmark 2 has no runs"``.
    `format` and `reason` carry the two parts separately for callers that
    want to build their own message (the ingest API's error envelope).
    """

    def __init__(self, reason: str, *, format: str | None = None) -> None:
        self.reason = reason
        self.format = format
        super().__init__(f"{format}: {reason}" if format else reason)
