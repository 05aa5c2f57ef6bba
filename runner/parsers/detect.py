"""Content-based format detection.

The content decides; the file name is never required and only breaks the one
tie the content cannot (the direction of github-action-benchmark custom
files). Known formats that are not supported are recognised so that the
error can say what the file is instead of only what it is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from runner.parsers import (
    asv,
    bmf,
    criterion,
    gab_custom,
    go_bench,
    google_benchmark,
    hyperfine,
    jmh,
    native,
    pyperf,
    pytest_benchmark,
)
from runner.parsers.errors import ParseError
from runner.parsers.source import Source

# Order matters only where shapes overlap: pytest-benchmark, pyperf and Google
# Benchmark all have a top-level "benchmarks" array, told apart by its rows.
_JSON_SNIFFERS: tuple[tuple[str, Callable[[object], bool]], ...] = (
    (native.FORMAT, native.sniff),
    (pytest_benchmark.FORMAT, pytest_benchmark.sniff),
    (pyperf.FORMAT, pyperf.sniff),
    (google_benchmark.FORMAT, google_benchmark.sniff),
    (hyperfine.FORMAT, hyperfine.sniff),
    (asv.FORMAT, asv.sniff),
    (criterion.FORMAT, criterion.sniff),
    (jmh.FORMAT, jmh.sniff),
    (gab_custom.SMALLER, gab_custom.sniff),
    (bmf.FORMAT, bmf.sniff),
)

# Each pattern runs in time linear in the text (a request body is untrusted):
# a lazy scan within one line ([^\n]*?) is followed by a literal that fails at
# once, and every later repeat is possessive (++), because backtracking into a
# run of blanks after ".*\s+" made "x" + 256,000 spaces take minutes. A
# pattern only runs when the text holds its literal (a fast substring scan).
_UNSUPPORTED_TEXT = (
    (
        "cargo bench (libtest) text output",
        " ... bench:",
        re.compile(r"^test \S[^\n]*? \.\.\. bench:\s++[\d,.]++ ", re.M),
    ),
    (
        "Criterion console text output",
        "time:",
        re.compile(r"^\S[^\n]*?\stime:\s++\[[\d.]++ \S++ ", re.M),
    ),
    (
        "Catch2 console output",
        "benchmark name",
        re.compile(r"^benchmark name\s++samples\s++iterations", re.M),
    ),
    ("asv console output", "%] ·", re.compile(r"^\[\s*+\d++\.\d++%\] ·", re.M)),
)


def detect(src: Source) -> str:
    """The format name of `src`; raises ParseError "not a supported format: ..."."""
    if not src.data.strip():
        raise ParseError("not a supported format: the input is empty")
    doc = src.json_or_none
    if doc is not None:
        return _detect_json(doc, src)
    if criterion.sniff_lines(src):
        return criterion.FORMAT
    if go_bench.sniff_test2json(src) or go_bench.sniff_text(src.text):
        return go_bench.FORMAT
    for label, literal, pattern in _UNSUPPORTED_TEXT:
        if literal in src.text and pattern.search(src.text):
            raise ParseError(f"not a supported format: this looks like {label}")
    if src.text.lstrip().startswith(("{", "[")):
        raise ParseError(f"not a supported format: the input is not valid JSON ({src.json_error})")
    raise ParseError("not a supported format: neither a known JSON result nor go test output")


def _detect_json(doc: object, src: Source) -> str:
    for name, sniff in _JSON_SNIFFERS:
        if sniff(doc):
            return gab_custom.pick(src.filename) if name == gab_custom.SMALLER else name
    if isinstance(doc, dict) and "Benchmarks" in doc and "HostEnvironmentInfo" in doc:
        raise ParseError("not a supported format: this looks like BenchmarkDotNet JSON")
    raise ParseError("not a supported format: JSON of an unknown shape")
