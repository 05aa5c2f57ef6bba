"""One input to parse: its bytes, decoded lazily as text or JSON, with parse errors.

Decoding is strict and centralised here so that every format rejects the same
bad inputs the same way: invalid UTF-8, duplicate JSON keys (ambiguous: which
value did the tool mean?) and nesting too deep to be a result file all become a
`ParseError`. Bare ``NaN``/``Infinity``/``-Infinity`` tokens are accepted
because asv and Google Benchmark write them; parsers map them to None/skipped.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from runner.parsers.errors import ParseError

GZIP_MAGIC = b"\x1f\x8b"
# Decompressed inputs larger than this are refused: result files are at most a
# few megabytes, and a gzip bomb must not exhaust the worker's memory.
MAX_DECOMPRESSED = 256 * 1024 * 1024
# Nor may they be more than MAX_RATIO times the compressed size (JSON results
# compress 3-20x), beyond DECOMPRESSED_FLOOR: otherwise a 256 KB upload of
# compressed blanks is 256 MiB to parse, seconds of work for a few bytes.
MAX_RATIO = 100
DECOMPRESSED_FLOOR = 16 * 1024 * 1024


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r} in a JSON object")
            seen.add(key)
    return result


_decoders = threading.local()


def loads(text: str) -> Any:
    """Parse JSON text; raises ValueError (or RecursionError) on bad input."""
    # One decoder per thread, made once: json.loads(..., object_pairs_hook=)
    # builds a new one per call, which is most of the cost of a short JSON line.
    decoder = getattr(_decoders, "decoder", None)
    if decoder is None:
        decoder = _decoders.decoder = json.JSONDecoder(object_pairs_hook=_reject_duplicates)
    return decoder.decode(text)


def gunzip(data: bytes) -> bytes:
    """Decompress gzip `data`, refusing corrupt streams and oversized results."""
    limit = min(MAX_DECOMPRESSED, max(DECOMPRESSED_FLOOR, MAX_RATIO * len(data)))
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(data, limit)
    except zlib.error as exc:
        raise ParseError(f"corrupt gzip data: {exc}") from None
    if decompressor.unconsumed_tail or (len(out) == limit and not decompressor.eof):
        raise ParseError(
            f"gzip data decompresses to more than {limit / 2**20:.4g} MiB"
            f" (at most {MAX_RATIO} times its size, 16 MiB for a small file, 256 MiB in all)"
        )
    if not decompressor.eof:
        raise ParseError("truncated gzip data")
    return out


@dataclass
class Source:
    """The bytes of one input (already decompressed) and an optional file name."""

    data: bytes
    filename: str | None = None
    _json_error: str | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_bytes(cls, data: bytes, filename: str | None = None) -> Source:
        """Wrap `data`, transparently decompressing gzip (pyperf writes ``.json.gz``)."""
        if data[:2] == GZIP_MAGIC:
            data = gunzip(data)
        return cls(data, filename)

    @cached_property
    def text(self) -> str:
        """The input decoded as UTF-8 (a leading byte-order mark is dropped)."""
        try:
            text = self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"input is not valid UTF-8 (byte {exc.start})") from None
        return text.removeprefix("\ufeff")

    @cached_property
    def first_line(self) -> str:
        """The first non-blank line without its leading blanks ("" when there is none).

        Found without splitting the whole text, so sniffing a large input
        costs no more than one pass over its leading blanks.
        """
        rest = self.text.lstrip()
        # str.splitlines on the part before the first "\n" (found by a fast
        # scan), for the other line boundaries splitlines knows.
        lines = rest.split("\n", 1)[0].splitlines()
        return lines[0] if lines else ""

    @cached_property
    def json_or_none(self) -> Any:
        """The parsed JSON document, or None when the input is not one JSON document."""
        try:
            return loads(self.text)
        except (ValueError, RecursionError) as exc:
            self._json_error = str(exc) or type(exc).__name__
            return None

    @property
    def json_error(self) -> str:
        """Why the input is not one JSON document (empty when it is)."""
        _ = self.json_or_none
        return self._json_error or ""

    def json(self, format: str) -> Any:
        """The parsed JSON document; raises ParseError naming `format` when it is not JSON."""
        doc = self.json_or_none
        if doc is None:
            reason = self._json_error or "the document is null"
            raise ParseError(f"not valid JSON: {reason}", format=format)
        return doc

    def json_lines(self, format: str) -> Iterator[tuple[int, Any]]:
        """Yield ``(line number, document)`` for each non-blank line of a JSON-lines input."""
        for number, line in enumerate(self.text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield number, loads(line)
            except (ValueError, RecursionError) as exc:
                raise ParseError(f"line {number} is not valid JSON: {exc}", format=format) from None
