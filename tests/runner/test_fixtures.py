"""Our own result files (tests/fixtures/results): every format covered from a fresh clone.

The files were made by the real tools (or by hand where a tool cannot run here, see
the README beside them) by ``scripts/make-fixtures``. The table below is explicit
on purpose, as for the shared corpus: a parser change that starts rejecting a file,
or reads a different number of records from it, flips a test here. The facts
further down were checked by hand against the files and the suites that made them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runner.parsers import FORMATS, ParseError, detect_format, parse_bytes, parse_path
from runner.schema import ParsedRun, ResultRecord
from tests.runner.corpus import FIXTURES, fixture_bytes, fixture_manifest

ERROR = "error"

# What parse_path gives for each file or directory: (format, records) or (ERROR, message start).
EXPECTED: dict[str, tuple[str, object]] = {
    "asv/results": ("asv", 18),
    "asv/results/benchmarks.json": (ERROR, "asv: this is benchmarks.json"),
    "asv/results/fixture-box/machine.json": (ERROR, "asv: this is machine.json"),
    "benchwarden/asv-results.json": ("asv", 18),
    "bmf/bmf.json": ("bmf", 4),
    "criterion": ("criterion", 3),
    "criterion/sum/100/new/estimates.json": ("criterion", 1),
    "custom/customBiggerIsBetter.json": ("customBiggerIsBetter", 2),
    "custom/customSmallerIsBetter.json": ("customSmallerIsBetter", 3),
    "go-bench/bench.jsonl": ("go-bench", 6),
    "go-bench/bench.txt": ("go-bench", 19),
    "google-benchmark/repetitions.json": ("google-benchmark", 7),
    "hyperfine/basic.json": ("hyperfine", 4),
    "hyperfine/param_list.json": ("hyperfine", 6),
    "hyperfine/param_scan.json": ("hyperfine", 9),
    "jmh/jmh.json": ("jmh", 4),
    "pyperf/suite.json.gz": ("pyperf", 2),
    "pyperf/timeit.json": ("pyperf", 1),
    "pyperf/track_memory.json": ("pyperf", 1),
    "pytest-benchmark/autosave.json": ("pytest-benchmark", 7),
    "pytest-benchmark/pytest-benchmark.json": ("pytest-benchmark", 7),
    "unsupported/asv-console.txt": (
        ERROR,
        "not a supported format: this looks like asv console output",
    ),
    "unsupported/catch2-console.txt": (ERROR, "not a supported format: this looks like Catch2"),
}


def one_run(relative: str) -> ParsedRun:
    output = parse_path(FIXTURES / relative)
    assert len(output.runs) == 1
    return output.runs[0]


def pick(run: ParsedRun, name: str, measure: str = "time", **params: str) -> ResultRecord:
    found = [r for r in run.results if (r.name, r.measure, r.params) == (name, measure, params)]
    assert len(found) == 1, sorted({(r.name, r.measure) for r in run.results})
    return found[0]


def test_manifest_lists_every_file_with_its_tool_and_version() -> None:
    on_disk = {
        p.relative_to(FIXTURES).as_posix()
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md")
    }
    rows = fixture_manifest()
    assert sorted(r["file"] for r in rows) == sorted(on_disk)
    for row in rows:
        assert row["made_by"] and row["version"], row


def test_every_format_has_a_fixture_of_its_own() -> None:
    covered = {row["format"] for row in fixture_manifest()}
    assert set(FORMATS) <= covered, sorted(set(FORMATS) - covered)
    parsed = {fmt for fmt, _ in EXPECTED.values()} | {"benchwarden"}
    assert set(FORMATS) <= parsed


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_fixture_parses_as_the_table_says(relative: str) -> None:
    outcome, detail = EXPECTED[relative]
    if outcome == ERROR:
        with pytest.raises(ParseError) as info:
            parse_path(FIXTURES / relative)
        assert str(info.value).startswith(str(detail))
        return
    output = parse_path(FIXTURES / relative)
    assert output.format == outcome
    assert sum(len(run.results) for run in output.runs) == detail
    for run in output.runs:
        for rec in run.results:
            assert rec.unit not in ("ns", "us", "ms")
            assert (rec.value is None) == (rec.status != "ok")


@pytest.mark.parametrize(
    "relative",
    sorted(
        row["file"]
        for row in fixture_manifest()
        if row["format"] not in ("unsupported", "asv", "criterion")
    ),
)
def test_detection_from_bytes_alone(relative: str) -> None:
    """Content decides, except the direction of custom files, which only a name tells."""
    fmt = next(r["format"] for r in fixture_manifest() if r["file"] == relative)
    data = fixture_bytes(relative)
    assert detect_format(data) == ("customSmallerIsBetter" if "Bigger" in fmt else fmt)
    parsed = parse_bytes(data, filename=Path(relative).name).format
    assert parsed == ("asv" if fmt == "benchwarden" else fmt)  # native keeps the tool's name


def test_pytest_benchmark_commit_params_rounds_and_samples() -> None:
    run = one_run("pytest-benchmark/pytest-benchmark.json")
    assert run.commit is not None and re.fullmatch("[0-9a-f]{40}", run.commit)
    assert run.machine is not None and run.machine.python
    fib = pick(run, "test_fib", n="10")
    assert (fib.suite, fib.unit, fib.direction) == ("bench_fixture.py", "s", "lower_is_better")
    assert fib.samples is not None and fib.stats is not None
    assert len(fib.samples) == fib.stats.rounds
    assert pick(run, "test_encode", text="ünïcödé ✓").status == "ok"
    assert pick(run, "test_join_pedantic").samples is not None
    assert len(pick(run, "test_join_pedantic").samples or []) == 7  # pedantic(rounds=7)
    assert len(pick(run, "test_single_round").samples or []) == 1
    assert pick(run, "test_sleep_ms").value >= 0.002  # type: ignore[operator]  # 2 ms, in seconds
    autosave = one_run("pytest-benchmark/autosave.json")
    assert autosave.commit == run.commit
    assert all(r.samples is None for r in autosave.results)


def test_asv_directory_two_commits_failures_and_units() -> None:
    output = parse_path(FIXTURES / "asv/results")
    assert len(output.runs) == 2 and len({r.commit for r in output.runs}) == 2
    run = output.runs[0]
    assert run.machine is not None and run.machine.name == "fixture-box"
    failed = pick(run, "time_divide", divisor="0")
    assert (failed.status, failed.value) == ("failed", None)
    assert pick(run, "time_divide", divisor="1").status == "ok"
    assert pick(run, "mem_list", "memory").unit == "B"
    assert pick(run, "track_answer", "track").value == 42.0
    assert len([r for r in run.results if r.name == "time_sum"]) == 4  # 2 x 2 parameter grid


def test_native_format_round_trips_the_asv_results() -> None:
    native = parse_path(FIXTURES / "benchwarden/asv-results.json")
    assert native == parse_path(FIXTURES / "asv/results")
    assert parse_bytes(fixture_bytes("benchwarden/asv-results.json"), format="benchwarden") == (
        native
    )


def test_go_cpu_counts_subbenchmarks_allocations_and_failure() -> None:
    run = one_run("go-bench/bench.txt")
    for cpu in ("1", "2"):
        rec = pick(run, "BenchmarkJoin/Ünicode_with_spaces", cpu=cpu)
        assert rec.suite == "example.org/fixture" and len(rec.samples or []) == 2  # -count 2
    assert pick(run, "BenchmarkJoin/small", "allocs", cpu="1").value == 1.0
    assert pick(run, "BenchmarkJoin/small", "alloc_bytes", cpu="1").unit == "B"
    failed = pick(run, "BenchmarkFails")
    assert failed.status == "failed" and "no input file" in (failed.error or "")
    streamed = one_run("go-bench/bench.jsonl")
    assert pick(streamed, "BenchmarkFails", cpu="2").status == "failed"


def test_google_benchmark_repetitions_counter_and_error() -> None:
    run = one_run("google-benchmark/repetitions.json")
    rec = pick(run, "BM_Sum/512", "cpu_time")
    assert rec.unit == "s" and len(rec.samples or []) == 3  # --benchmark_repetitions=3
    assert (pick(run, "BM_Sum/64", "items").value or 0) > 0  # a user counter is a measure
    failed = pick(run, "BM_Fails", "real_time")
    assert (failed.status, failed.error) == ("failed", "no input file")


def test_hyperfine_params_samples_and_ignored_failure() -> None:
    scan = one_run("hyperfine/param_scan.json")
    assert {r.params["ms"] for r in scan.results} == {"1", "2", "3"}
    assert len(pick(scan, "sleep 0.003", ms="3").samples or []) == 5  # --runs 5
    assert pick(one_run("hyperfine/param_list.json"), "echo ü", word="ü").status == "ok"
    failed = pick(one_run("hyperfine/basic.json"), "false")
    assert failed.status == "failed" and "exit code 1" in (failed.error or "")


def test_pyperf_gzip_suite_and_memory() -> None:
    suite = one_run("pyperf/suite.json.gz")
    assert {r.name for r in suite.results} == {"sum_range", "join ünïcödé"}
    assert all(len(r.samples or []) == 20 for r in suite.results)  # --fast: 20 values
    memory = one_run("pyperf/track_memory.json").results[0]
    assert (memory.measure, memory.unit) == ("memory", "B")


def test_criterion_directory_names_from_benchmark_json() -> None:
    run = one_run("criterion")
    assert {r.name for r in run.results} == {"fib 10", "sum/100", "sum/1000"}
    assert all(len(r.samples or []) == 10 for r in run.results)  # sample_size(10)
    doc = json.loads(fixture_bytes("criterion/fib 10/new/estimates.json"))
    assert pick(run, "fib 10").value == pytest.approx(
        (doc["slope"] or doc["mean"])["point_estimate"] * 1e-9
    )


def test_hand_written_formats_units_and_directions() -> None:
    jmh = one_run("jmh/jmh.json")
    assert pick(jmh, "sum", size="100").value == pytest.approx(41.5e-9)
    assert len(pick(jmh, "sum", size="100").samples or []) == 6  # two forks of three
    assert pick(jmh, "append", "throughput").direction == "higher_is_better"
    bmf = one_run("bmf/bmf.json")
    assert pick(bmf, "sum/100", "latency").value == pytest.approx(41.5e-9)
    assert pick(bmf, "binary size", "file-size").unit == "B"
    smaller = one_run("custom/customSmallerIsBetter.json")
    assert pick(smaller, "parse small file").value == pytest.approx(0.0125)
    bigger = one_run("custom/customBiggerIsBetter.json")
    assert {r.direction for r in bigger.results} == {"higher_is_better"}
