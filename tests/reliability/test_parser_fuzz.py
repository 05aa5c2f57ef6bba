"""Every parser over mutated result files: only its own clear ParseError, never a hang.

For each format, hypothesis mutates that format's files (bytes replaced,
inserted, cut, duplicated; JSON-significant tokens planted) and parses them with
the format forced and with auto-detection. Each input has a wall-clock limit
enforced by SIGALRM, so a pathological input fails the test instead of hanging it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.parsers import FORMATS, ParseError, parse_bytes
from tests.runner.corpus import CORPUS, FIXTURES
from tests.support.alarm import time_limit

SECONDS_PER_INPUT = 5
MAX_FILE = 64 * 1024
EXAMPLES = 400
CORPUS_EXAMPLES = 100  # extra seeds, extra coverage: fewer examples

# Which directories of our own fixtures hold files of each format (tests/fixtures/results).
FIXTURE_DIRS = {
    "pytest-benchmark": ["pytest-benchmark"],
    "asv": ["asv"],
    "google-benchmark": ["google-benchmark"],
    "hyperfine": ["hyperfine"],
    "pyperf": ["pyperf"],
    "criterion": ["criterion"],
    "go-bench": ["go-bench"],
    "bmf": ["bmf"],
    "customSmallerIsBetter": ["custom"],
    "customBiggerIsBetter": ["custom"],
    "jmh": ["jmh"],
    "benchwarden": ["benchwarden"],
}
# Which directories of the shared corpus (../shared/corpus, when present) hold each format.
CORPUS_DIRS = {
    "pytest-benchmark": ["pytest-benchmark"],
    "asv": ["asv"],
    "google-benchmark": ["google-benchmark"],
    "hyperfine": ["hyperfine"],
    "pyperf": ["pyperf"],
    "criterion": ["criterion"],
    "go-bench": ["go-test-bench"],
    "bmf": ["bmf"],
    "customSmallerIsBetter": ["github-action-benchmark-custom"],
    "customBiggerIsBetter": ["github-action-benchmark-custom"],
    "jmh": ["jmh"],
    "benchwarden": [],
}
TOKENS = [
    b"null",
    b"NaN",
    b"-Infinity",
    b"1e999",
    b"-1",
    b'"x"',
    b"[]",
    b"{}",
    b"[[[[",
    b"\x00",
    b"\xff",
    b"\\u0000",
    b"0" * 400,
    b'{"a":1,"a":2}',
    # Long runs that a backtracking regex or a per-line rescan turns quadratic
    # (issue 14: "{" + spaces); the 1 MB cases are in test_parser_linear.py.
    b" " * 8192,
    b"\t \n" * 1024,
    b"{" + b" " * 8192,
    b"    --- FAIL: BenchmarkX\n" * 256,
]


def _seed_files(base: Path, directories: list[str], fmt: str) -> list[bytes]:
    """Small files of ``fmt`` under ``base`` (small only, to keep mutation fast)."""
    files = [
        path.read_bytes()
        for directory in directories
        for path in sorted((base / directory).rglob("*"))
        if path.is_file() and path.stat().st_size <= MAX_FILE and path.suffix != ".tsv"
    ]
    if fmt == "benchwarden":
        files.append(
            b'{"format": "x", "runs": [{"commit": null, "results": [{"name": "a", "measure": '
            b'"time", "unit": "s", "value": 1.5, "samples": [1.0, 2.0]}]}]}'
        )
    return files


@st.composite
def mutation(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "cut", "duplicate"]))
        chunk = draw(st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=8))
        if op == "replace":
            data[at : at + len(chunk)] = chunk
        elif op == "insert":
            data[at:at] = chunk
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 256))]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 512))]
    return bytes(data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_mutated_fixtures_of_every_format(fmt: str) -> None:
    seeds = _seed_files(FIXTURES, FIXTURE_DIRS[fmt], fmt)
    assert seeds, f"no fixture of our own for {fmt} under {FIXTURES}"
    _fuzz(fmt, seeds, EXAMPLES)


@pytest.mark.corpus
@pytest.mark.parametrize("fmt", [f for f in FORMATS if CORPUS_DIRS[f]])
def test_mutated_corpus_files_of_every_format(fmt: str) -> None:
    seeds = _seed_files(CORPUS, CORPUS_DIRS[fmt], fmt)
    assert seeds, f"no corpus seed for {fmt}"
    _fuzz(fmt, seeds, CORPUS_EXAMPLES)


def _fuzz(fmt: str, seeds: list[bytes], examples: int) -> None:
    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(mutation(seeds), st.booleans())
    def check(data: bytes, forced: bool) -> None:
        with time_limit(SECONDS_PER_INPUT, "the parser"):
            try:
                parse_bytes(data, format=fmt if forced else None)
            except ParseError as exc:
                assert str(exc).strip(), "a ParseError must say what is wrong"

    check()
