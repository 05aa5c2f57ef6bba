"""Bad input of every kind raises ParseError, never another exception."""

from __future__ import annotations

import contextlib
import gzip
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.parsers import FORMATS, ParseError, detect_format, parse_bytes
from tests.runner.corpus import FIXTURES, fixture_bytes

# Small files of our own fixtures (tests/fixtures/results), one or two per format.
SMALL_FILES = [
    "pytest-benchmark/autosave.json",
    *sorted(
        p.relative_to(FIXTURES).as_posix()
        for p in (FIXTURES / "asv" / "results" / "fixture-box").glob("*-existing-*.json")
    ),
    "asv/results/fixture-box/machine.json",
    "google-benchmark/repetitions.json",
    "hyperfine/param_scan.json",
    "pyperf/track_memory.json",
    "go-bench/bench.txt",
    "go-bench/bench.jsonl",
    "bmf/bmf.json",
    "custom/customSmallerIsBetter.json",
    "jmh/jmh.json",
]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a supported format: the input is empty"),
        (b"   \n", "not a supported format: the input is empty"),
        (b'{"benchmarks": [', "not a supported format: the input is not valid JSON"),
        (b"\xff\xfe{}", "input is not valid UTF-8"),
        (b"hello world\n", "not a supported format"),
        (b'{"a": 1, "a": 2}', "duplicate key"),
        (b"[]", "not a supported format"),
        (b"{}", "not a supported format"),
        (b"null", "not a supported format"),
        (b"[" * 100_000, "not a supported format"),
        (b"\x1f\x8bnot gzip", "gzip"),
    ],
)
def test_rejected_with_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message.replace("(", r"\(")):
        parse_bytes(data)


@pytest.mark.parametrize(
    ("format", "doc", "message"),
    [
        (
            "pytest-benchmark",
            {"benchmarks": [{"name": "t", "stats": {"mean": "fast"}}]},
            "stats.mean must be a number",
        ),
        ("pytest-benchmark", {"benchmarks": [{"name": "", "stats": {}}]}, r"benchmarks\[0\].name"),
        (
            "asv",
            {
                "results": {"a.time_x": [[1.0, 2.0], [["1"]]]},
                "result_columns": ["result", "params"],
                "version": 2,
                "commit_hash": "ab",
            },
            "2 values for 1 parameter",
        ),
        ("asv", {"results": {}, "version": 3, "commit_hash": "ab"}, "version 3 is not supported"),
        (
            "google-benchmark",
            {
                "benchmarks": [
                    {"name": "x", "real_time": 1, "cpu_time": 1, "time_unit": "fortnights"}
                ]
            },
            "unknown time_unit",
        ),
        (
            "hyperfine",
            {"results": [{"command": "x", "times": [1, "2"]}]},
            r"times\[1\] must be a number",
        ),
        ("pyperf", {"version": "0.9", "benchmarks": []}, "version '0.9' is not supported"),
        ("bmf", {"b": {"latency": {"value": "1"}}}, "latency.value must be a number"),
        (
            "customSmallerIsBetter",
            [{"name": "x", "unit": "ms", "value": None}],
            "value must be a number",
        ),
        ("jmh", [{"benchmark": "a.b", "primaryMetric": {"score": 1}}], "scoreUnit"),
        (
            "hyperfine",
            {"results": [{"command": "x", "mean": 1.0}, {"command": "x", "mean": 2.0}]},
            "two results for benchmark 'x'",
        ),
        ("benchwarden", {"format": "asv", "runs": "no"}, "runs"),
    ],
)
def test_wrong_types_name_the_field(format: str, doc: object, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_bytes(json.dumps(doc).encode(), format=format)
    assert info.value.format == format


def test_unknown_format_name() -> None:
    with pytest.raises(ParseError, match="unknown format 'nope'; choose one of: pytest-benchmark"):
        parse_bytes(b"{}", format="nope")


@pytest.mark.parametrize("relative", [f for f in SMALL_FILES if f.endswith(".json")])
def test_truncated_json_fixture_files(relative: str) -> None:
    data = fixture_bytes(relative)
    with pytest.raises(ParseError, match="not valid JSON"):
        parse_bytes(data[: len(data) // 2])


def test_gzip_is_transparent_everywhere() -> None:
    data = fixture_bytes("hyperfine/basic.json")
    assert parse_bytes(gzip.compress(data)) == parse_bytes(data)
    with pytest.raises(ParseError, match="truncated gzip"):
        parse_bytes(gzip.compress(data)[:-20])


def test_every_format_rejects_garbage() -> None:
    for format in FORMATS:
        for data in (b"", b"\x00\x01", b"[1, 2]", b'{"x": NaN}', b'"text"'):
            try:
                parse_bytes(data, format=format)
            except ParseError as exc:
                assert str(exc)
            # some formats accept an empty document as a run with no results


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A small fixture file with a few bytes replaced, inserted or cut."""
    data = bytearray(fixture_bytes(draw(st.sampled_from(SMALL_FILES))))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "cut"]))
        chunk = draw(
            st.binary(min_size=1, max_size=4)
            | st.sampled_from([b"null", b"NaN", b"-1", b'"x"', b"[]", b"{}", b"1e999"])
        )
        if op == "replace":
            data[at : at + len(chunk)] = chunk
        elif op == "insert":
            data[at:at] = chunk
        else:
            del data[at : at + draw(st.integers(1, 64))]
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_fixture_bytes_only_parse_or_raise_parse_error(data: bytes) -> None:
    try:
        output = parse_bytes(data)
    except ParseError:
        return
    assert output.runs is not None


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_detect_or_raise_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        detect_format(data)


def test_a_nul_character_in_run_metadata_is_a_parse_error() -> None:
    """NUL cannot be stored (PostgreSQL text): a file whose commit field holds one
    is refused by the wire schema, and the parser reports it as a ParseError."""
    doc = json.loads(fixture_bytes("pytest-benchmark/pytest-benchmark.json"))
    doc["commit_info"] = {"id": "\x00abc1234"}
    with pytest.raises(ParseError, match="NUL"):
        parse_bytes(json.dumps(doc).encode())
