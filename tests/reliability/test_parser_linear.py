"""Bounded parsing: about a megabyte of adversarial input, each parser under 1 s.

A request body reaches the parsers before anything else looks at it, so a
shape that makes one of them super-linear stalls the web process: ``{``
followed by 256,000 spaces once took 129 s in format detection (issue 14).
Every input here is about 1 MiB (two are smaller on purpose: they ask for far
more than their size) and is fed to the auto-detection and to every parser
with its format forced; each must end in a result or a ParseError (never
another exception) within 1 s of CPU time.

Two kinds of input:

* generic shapes (whitespace, digits, brackets, quotes, repeated keys, long
  lines, many lines, ``{`` + spaces, spaces + ``{`` ...), fed to every parser;
* shapes aimed at one parser's own structure (go status lines and their logs,
  pyperf metadata x benchmarks, BMF parameters x measures, asv parameter
  grids, gzip that inflates a thousandfold, ...), fed to that parser and to
  the detection. Each of these was
  quadratic or worse before the fix, and most are at most a few thousand
  records, so the limit measures the work per byte, not record building.

The limit is on the parsing thread's CPU time, so a busy shared machine
cannot fail the test; a wall-clock alarm turns a real hang into a failure
instead of a stuck suite.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from functools import cache

import pytest

from runner.parsers import FORMATS, ParseError, parse_bytes
from runner.schema import ParseOutput
from tests.support.alarm import time_limit

SIZE = 1 << 20
CPU_SECONDS = 1.0
WALL_SECONDS = 60


def _fill(unit: bytes, size: int = SIZE) -> bytes:
    return unit * max(1, size // len(unit))


def _numbered(template: bytes, size: int = SIZE) -> bytes:
    """``template % i`` for i = 0, 1, ... up to about `size` bytes."""
    count = size // len(template % 100_000)
    return b"".join(template % i for i in range(count))


def _json(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


# 150 parameters: about 1,700 characters as sorted JSON, under the 2,000 allowed.
PARAMS = {f"p{i}": "1" for i in range(150)}


GENERIC: dict[str, Callable[[], bytes]] = {
    "spaces": lambda: b" " * SIZE,
    "newlines": lambda: b"\n" * SIZE,
    "mixed-whitespace": lambda: _fill(b" \t\r\n\x0b\x0c"),
    "brace-then-spaces": lambda: b"{" + b" " * SIZE,
    "spaces-then-brace": lambda: b" " * SIZE + b"{",
    "bracket-then-spaces": lambda: b"[" + b" " * SIZE,
    "word-then-spaces": lambda: b"x" + b" " * SIZE,
    "word-then-tabs-and-newlines": lambda: b"x" + _fill(b" \t\n"),
    "digits": lambda: b"1" * SIZE,
    "decimal-digits": lambda: b"1." + b"1" * SIZE,
    "array-of-digits": lambda: b"[" + _fill(b"1,") + b"1]",
    "array-of-huge-integers": lambda: b"[" + _fill(b"9" * 4000 + b",") + b"1]",
    "open-brackets": lambda: b"[" * SIZE,
    "open-braces": lambda: b"{" * SIZE,
    "open-objects-with-keys": lambda: _fill(b'{"a":'),
    "closing-brackets": lambda: b"]" * SIZE,
    "balanced-brackets": lambda: b"[" * (SIZE // 2) + b"]" * (SIZE // 2),
    "quotes": lambda: b'"' * SIZE,
    "unterminated-string": lambda: b'"' + b"a" * SIZE,
    "backslashes": lambda: b'"' + b"\\" * SIZE,
    "unicode-escapes": lambda: b'"' + _fill(b"\\u00e9") + b'"',
    "repeated-key": lambda: b"{" + _fill(b'"a":1,') + b'"a":1}',
    "many-keys": lambda: _json({f"k{i}": 1 for i in range(SIZE // 12)}),
    "array-of-empty-objects": lambda: b"[" + _fill(b"{},") + b"{}]",
    "long-line": lambda: b"a" * SIZE,
    "many-lines": lambda: _fill(b"a\n"),
    "brace-lines": lambda: _fill(b"{\n"),
    "invalid-utf8": lambda: b"\xff" * SIZE,
    "nul-bytes": lambda: b"\x00" * SIZE,
}

# (format it aims at, input)
TARGETED: dict[str, tuple[str, Callable[[], bytes]]] = {
    # Text detection: a line start, then a long run the old regexes backtracked into.
    "criterion-console-spaces": ("criterion", lambda: b"x time:" + b" " * SIZE),
    "cargo-bench-spaces": ("go-bench", lambda: b"test x" + b" " * SIZE + b"... bench:"),
    "cargo-bench-repeats": ("go-bench", lambda: b"test x" + _fill(b" ... bench: ")),
    "catch2-spaces": ("go-bench", lambda: b"benchmark name" + b" " * SIZE),
    "asv-console-spaces": ("go-bench", lambda: b"[" + b" " * SIZE + b"1.0%] \xc2\xb7"),
    # go test -bench text.
    "go-line-of-many-metrics": ("go-bench", lambda: b"BenchmarkA 1" + _fill(b" 1 ns/op")),
    "go-line-odd-tokens": ("go-bench", lambda: b"BenchmarkA" + _fill(b" 1") + b" x"),
    "go-line-spaces": ("go-bench", lambda: b"BenchmarkA 1 1" + b" " * SIZE + b"x y"),
    "go-name-of-dashes": ("go-bench", lambda: b"Benchmark" + _fill(b"-1") + b" 1 1 ns/op"),
    "go-fail-lines": ("go-bench", lambda: b"pkg: p\n" + _fill(b"--- FAIL: BenchmarkA\n")),
    "go-indented-fail-lines": (
        "go-bench",
        lambda: b"goos: linux\n" + _fill(b"    --- FAIL: BenchmarkA\n"),
    ),
    "go-log-before-many-fails": (
        "go-bench",
        lambda: (
            b"goos: linux\n"
            + b"    log\n" * (SIZE // 16)
            + _fill(b"--- FAIL: BenchmarkA\n", SIZE // 2)
        ),
    ),
    "go-staircase-of-fails": (
        "go-bench",
        lambda: (
            b"goos: linux\n"
            + b"".join(b" " * (4 * i) + b"--- FAIL: BenchmarkA%d\n" % i for i in range(700))
        ),
    ),
    "go-test2json-fails": (
        "go-bench",
        lambda: _fill(
            b'{"Action":"output","Package":"p","Output":"    --- FAIL: BenchmarkA\\n"}\n'
        ),
    ),
    # JSON documents.
    "pyperf-metadata-x-benchmarks": (
        "pyperf",
        lambda: _json(
            {
                "version": "1.0",
                "metadata": {f"k{i}": 1 for i in range(SIZE // 14)},
                "benchmarks": [
                    {"metadata": {"name": f"b{i}"}, "runs": [{"values": [1.0]}]}
                    for i in range(1000)
                ],
            }
        ),
    ),
    "bmf-parameters-x-measures": (
        "bmf",
        lambda: _json(
            {
                "a": [
                    {
                        "parameters": {f"p{i}": 1 for i in range(SIZE // 20)},
                        "measures": {f"m{i}": {"value": 1} for i in range(SIZE // 40)},
                    }
                ]
            }
        ),
    ),
    "jmh-params-x-secondary-metrics": (
        "jmh",
        lambda: _json(
            [
                {
                    "benchmark": "a.b",
                    "params": {f"p{i}": "1" for i in range(SIZE // 20)},
                    "primaryMetric": {"score": 1, "scoreUnit": "ops/s"},
                    "secondaryMetrics": {
                        f"m{i}": {"score": 1, "scoreUnit": "ops/s"} for i in range(SIZE // 80)
                    },
                }
            ]
        ),
    ),
    # Just under the 2,000 characters params may take, shared by thousands of
    # measures of one benchmark: validated once, not once per measure.
    "jmh-many-params-x-metrics": (
        "jmh",
        lambda: _json(
            [
                {
                    "benchmark": "a.b",
                    "params": PARAMS,
                    "primaryMetric": {"score": 1, "scoreUnit": "ops/s"},
                    "secondaryMetrics": {
                        f"m{i}": {"score": 1, "scoreUnit": "ops/s"} for i in range(5000)
                    },
                    "jvm": "x" * (SIZE * 3 // 4),
                }
            ]
        ),
    ),
    "bmf-many-params-x-measures": (
        "bmf",
        lambda: _json(
            {
                "a": [
                    {
                        "parameters": PARAMS,
                        "measures": {f"m{i}": {"value": 1} for i in range(8000)}
                        | {"padding": {"value": 1, "note": "x" * (SIZE * 3 // 4)}},
                    }
                ]
            }
        ),
    ),
    "go-many-params-x-units": (
        "go-bench",
        lambda: (
            b"BenchmarkA"
            + b"".join(b"/%s=1" % key.encode() for key in PARAMS)
            + b" 1"
            + b"".join(b" 1 u%d" % i for i in range(8000))
            + b"\n"
            + b"x" * (SIZE * 3 // 4)
        ),
    ),
    "asv-grid-of-a-null-result": (
        "asv",
        lambda: _json(
            {
                "version": 2,
                "commit_hash": "abcdef1",
                "result_columns": ["result", "params"],
                "results": {"m.time_x": [None, [["1", "2", "3", "4"]] * 16]},
            }
        ),
    ),
    "asv-grid-in-a-megabyte": (
        "asv",
        lambda: _json(
            {
                "version": 2,
                "commit_hash": "abcdef1",
                "python": "x" * SIZE,
                "result_columns": ["result", "params"],
                "results": {"m.time_x": [None, [["1", "2"]] * 24]},
            }
        ),
    ),
    "asv-many-single-value-axes": (
        "asv",
        lambda: _json(
            {
                "version": 2,
                "commit_hash": "abcdef1",
                "result_columns": ["result", "params"],
                "results": {
                    "m.time_x": [
                        [None] * 1000,
                        [list(map(str, range(1000)))] + [["1"]] * (SIZE // 6),
                    ]
                },
            }
        ),
    ),
    "google-benchmark-counters": (
        "google-benchmark",
        lambda: _json(
            {
                "context": {},
                "benchmarks": [
                    {"name": "a", "real_time": 1, "cpu_time": 1}
                    | {f"c{i}": 1 for i in range(SIZE // 10)}
                ]
                + [{"name": "a", "real_time": 1, "cpu_time": 1}] * 1000,
            }
        ),
    ),
    "criterion-messages-without-reason": (
        "criterion",
        lambda: _fill(b'{"reason":"group-complete"}\n', SIZE // 2) + _fill(b"{}\n", SIZE // 2),
    ),
    # ~100 KB of gzip that inflates to 100 MiB: the decompressed size is bounded by
    # the compressed one, so the work stays linear in the bytes received.
    "gzip-of-blanks": ("pyperf", lambda: gzip.compress(b"{" + b" " * (100 << 20), 9)),
    "benchwarden-empty-results": (
        "benchwarden",
        lambda: b'{"format":"x","runs":[{"results":[' + _fill(b"{},") + b"{}]}]}",
    ),
    "benchwarden-empty-runs": (
        "benchwarden",
        lambda: b'{"format":"x","runs":[' + _fill(b"{},") + b"{}]}",
    ),
    "benchwarden-bad-samples": (
        "benchwarden",
        lambda: (
            b'{"format":"x","runs":[{"results":[{"name":"a","measure":"t","unit":"s",'
            b'"samples":[' + _fill(b'"x",') + b'"x"]}]}]}'
        ),
    ),
    "benchwarden-extra-keys": (
        "benchwarden",
        lambda: _json({"format": "x", "runs": []} | {f"k{i}": 1 for i in range(SIZE // 12)}),
    ),
}

CASES = [
    *(
        pytest.param(name, fmt, id=f"{name}-{fmt or 'auto'}")
        for name in GENERIC
        for fmt in (None, *FORMATS)
    ),
    *(
        pytest.param(name, fmt, id=f"{name}-{fmt or 'auto'}")
        for name, (aimed, _) in TARGETED.items()
        for fmt in (None, aimed)
    ),
]


@cache
def _input(name: str) -> bytes:
    build = GENERIC.get(name) or TARGETED[name][1]
    return build()


def test_inputs_are_about_a_megabyte() -> None:
    # Two are small on purpose: a few hundred bytes of asv that ask for 4**16
    # records, and gzip that inflates a thousandfold.
    small = ("asv-grid-of-a-null-result", "gzip-of-blanks")
    for name in [*GENERIC, *TARGETED]:
        size = len(_input(name))
        smallest = 0 if name in small else SIZE // 2
        assert smallest <= size <= 2 * SIZE, f"{name}: {size} bytes"


def _parse_cpu_seconds(data: bytes, fmt: str | None) -> float:
    """CPU seconds of one parse; the outcome must be a result or a ParseError."""
    started = time.thread_time()
    with time_limit(WALL_SECONDS, "parsing"):
        try:
            outcome: object = parse_bytes(data, format=fmt)
        except ParseError as exc:
            outcome = exc
    assert isinstance(outcome, ParseOutput | ParseError)
    return time.thread_time() - started


@pytest.mark.parametrize(("name", "fmt"), CASES)
def test_parsing_is_bounded(name: str, fmt: str | None) -> None:
    data = _input(name)
    # The best of up to five parses: some virtual machines run a whole process
    # (or a stretch of it) about 1.6x slower than the next one, CPU time included.
    # A super-linear parser is slow every time; noise is not.
    spent = _parse_cpu_seconds(data, fmt)
    for _ in range(4):
        if spent < CPU_SECONDS:
            break
        spent = min(spent, _parse_cpu_seconds(data, fmt))
    assert spent < CPU_SECONDS, (
        f"{name} ({fmt or 'auto'}): {spent:.2f} s of CPU for {len(data):,} bytes"
    )
