"""Google Benchmark, go test, Criterion, BMF, github-action-benchmark, JMH and the native format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.parsers import ParseError, parse_bytes, parse_path
from runner.schema import ParsedRun, ResultRecord
from tests.runner.corpus import CORPUS, corpus_bytes


def one_run(relative: str) -> ParsedRun:
    output = parse_path(CORPUS / relative)
    assert len(output.runs) == 1
    return output.runs[0]


def pick(run: ParsedRun, name: str, measure: str, **params: str) -> ResultRecord:
    found = [
        r for r in run.results if r.name == name and r.measure == measure and r.params == params
    ]
    assert len(found) == 1, [(r.name, r.measure, r.params) for r in run.results]
    return found[0]


@pytest.mark.corpus
def test_google_benchmark_repetitions_counters_errors() -> None:
    run = one_run("google-benchmark/gen_gbench-1.7.1_repetitions_aggregates.json")
    names = {r.name for r in run.results}
    assert not any(
        n.endswith(("_mean", "_median", "_stddev", "_cv", "_BigO", "_RMS")) for n in names
    )
    real = pick(run, "BM_VectorPush/8", "real_time")
    assert real.samples == pytest.approx([174.89565956914976e-9, 172.0501724068512e-9])
    assert real.value == pytest.approx(173.47291598800047e-9)  # equals the file's _mean row
    copy = pick(run, "BM_StringCopy/64/repeats:3", "cpu_time")  # time_unit us
    assert copy.samples is not None and len(copy.samples) == 3
    assert copy.samples[0] == pytest.approx(0.035448467721235485e-6)
    rate = pick(run, "BM_VectorPush/8", "bytes_per_second")
    assert (rate.unit, rate.direction) == ("B/s", "higher_is_better")
    assert pick(run, "BM_VectorPush/8", "elements").value == 8.0
    error = pick(run, "BM_Error", "real_time")
    assert (error.status, error.error) == ("failed", "resource not available")
    assert run.machine is not None and (run.machine.name, run.machine.cores) == ("vm", 2)


@pytest.mark.corpus
def test_google_benchmark_seconds_unit_and_complexity_rows() -> None:
    run = one_run("google-benchmark/gbench_compare_test5_run0.json")
    assert pick(run, "BM_ManyRepetitions", "cpu_time").value == 1000.0
    test1 = one_run("google-benchmark/gbench_compare_test1_run1.json")
    assert "MyComplexityTest" not in {r.name for r in test1.results}
    assert pick(test1, "BM_100xFaster", "real_time").value == pytest.approx(1e-5)


@pytest.mark.corpus
def test_go_count_cpu_subbenchmarks_and_failure() -> None:
    run = one_run("go-test-bench/gen_go1.19_bench_count2_benchmem.txt")
    fib = pick(run, "BenchmarkFib", "time", cpu="2", n="10")
    assert fib.suite == "example.com/gobench"
    assert fib.samples == pytest.approx([481.8e-9, 416.7e-9])
    assert fib.value == pytest.approx(449.25e-9)
    mbs = pick(run, "BenchmarkBuilder", "throughput", cpu="2")
    assert (mbs.unit, mbs.direction, mbs.value) == (
        "MB/s",
        "higher_is_better",
        pytest.approx(408.65),
    )
    assert pick(run, "BenchmarkBuilder", "alloc_bytes", cpu="2").samples == [2049.0, 2048.0]
    assert pick(run, "BenchmarkBuilder", "allocs", cpu="2").unit == "allocs"
    assert pick(run, "BenchmarkCustomMetric", "hit-ratio", cpu="2").value == 0.5
    assert pick(run, "BenchmarkÜnicode/sub_with_spaces", "time", cpu="2").value == pytest.approx(
        307.35e-9
    )
    failed = pick(run, "BenchmarkFails", "time", cpu="2")
    assert failed.status == "failed" and "boom" in (failed.error or "")


@pytest.mark.corpus
def test_go_cpu_list_without_suffix_means_one() -> None:
    run = one_run("go-test-bench/gen_go1.19_bench_verbose_cpu1_4.txt")
    assert pick(run, "BenchmarkFib", "time", cpu="1", n="20").value == pytest.approx(89033e-9)
    assert pick(run, "BenchmarkFib", "time", cpu="4", n="20").value == pytest.approx(75928e-9)
    skipped = [r for r in run.results if r.name == "BenchmarkSkipped"]
    assert [r.status for r in skipped] == ["skipped"]


@pytest.mark.corpus
def test_go_same_name_in_two_packages_and_test2json() -> None:
    run = one_run("go-test-bench/gab_go_fiber_duplicate_names_output.txt")
    suites = {
        r.suite for r in run.results if r.name == "BenchmarkAppendMsgitem" and r.measure == "time"
    }
    assert suites == {
        "github.com/gofiber/fiber/v3/middleware/cache",
        "github.com/gofiber/fiber/v3/middleware/csrf",
    }
    (csrf,) = [
        r
        for r in run.results
        if r.name == "BenchmarkAppendMsgitem" and r.measure == "time" and r.suite.endswith("csrf")
    ]
    assert csrf.params == {"cpu": "4"} and csrf.value == pytest.approx(0.3733e-9)
    streamed = one_run("go-test-bench/gen_go1.19_bench_test2json.jsonl")
    # "BenchmarkFib/n=10-2" and its numbers arrived in two separate output events
    assert pick(streamed, "BenchmarkFib", "time", cpu="2", n="10").value == pytest.approx(328.8e-9)


@pytest.mark.corpus
def test_criterion_cargo_message() -> None:
    (rec,) = one_run("criterion/gab_cargo_criterion_message_format_json.json").results
    assert rec.name == "Queries/[LIGHT] Bam query all"
    assert rec.value == pytest.approx(12481.003131880992e-9)  # typical estimate
    assert rec.samples is not None and len(rec.samples) == 50
    assert rec.samples[0] == pytest.approx(23353750.0 / 1906 * 1e-9)


ESTIMATES = {
    key: {
        "confidence_interval": {"confidence_level": 0.95, "lower_bound": 1.0, "upper_bound": 3.0},
        "point_estimate": value,
        "standard_error": 0.1,
    }
    for key, value in {
        "mean": 2500.0,
        "median": 2000.0,
        "median_abs_dev": 1.0,
        "std_dev": 500.0,
    }.items()
}


def test_criterion_directory_with_benchmark_json(tmp_path: Path) -> None:
    bench = tmp_path / "criterion" / "fib" / "20" / "new"
    bench.mkdir(parents=True)
    (bench / "estimates.json").write_text(json.dumps({**ESTIMATES, "slope": None}))
    (bench / "benchmark.json").write_text(json.dumps({"group_id": "fib", "full_id": "fib/20"}))
    (bench / "sample.json").write_text(
        json.dumps({"sampling_mode": "Flat", "iters": [1.0, 2.0], "times": [1000.0, 4000.0]})
    )
    output = parse_path(tmp_path / "criterion")
    (rec,) = output.runs[0].results
    assert (output.format, rec.name, rec.value) == ("criterion", "fib/20", pytest.approx(2.5e-6))
    assert rec.samples == pytest.approx([1e-6, 2e-6])
    by_path = parse_path(bench / "estimates.json").runs[0].results[0]
    assert by_path.name == "fib/20"
    with pytest.raises(ParseError, match="does not name its benchmark"):
        parse_bytes(json.dumps({**ESTIMATES, "slope": None}).encode())


@pytest.mark.corpus
def test_bmf_versions_and_units() -> None:
    latency = one_run("bmf/bencher_report_latency.json")
    rec = pick(latency, "tests::benchmark_a", "latency")
    assert (rec.unit, rec.value) == ("s", pytest.approx(3247.0e-9))
    dhat = one_run("bmf/bencher_report_dhat.json")
    assert pick(dhat, "bench_play_game", "Total Bytes").value == 662.0
    canonical = one_run("bmf/bencher_report_v1_canonical_UNRELEASED.json")
    merged = pick(canonical, "tests::canonical", "latency", op="read", size_mb="16")
    assert merged.samples == pytest.approx([1e-9, 2e-9, 3e-9])  # 16, 16.0 and 1.6e1 are one value
    assert (
        pick(canonical, "tests::canonical", "throughput", op="read", size_mb="16").direction
        == "higher_is_better"
    )
    mixed = one_run("bmf/bencher_report_mixed_versions_UNRELEASED.json")
    assert pick(mixed, "tests::benchmark_b", "latency", size_mb="16").value == pytest.approx(42e-9)


@pytest.mark.corpus
def test_github_action_benchmark_custom_direction_and_units() -> None:
    smaller = one_run("github-action-benchmark-custom/gab_customSmallerIsBetter_output2.json")
    rec = pick(smaller, "No instrumentation", "time")
    assert (rec.unit, rec.value, rec.direction) == (
        "s",
        pytest.approx(90.9439e-9),
        "lower_is_better",
    )
    bigger = parse_path(
        CORPUS / "github-action-benchmark-custom/gab_customBiggerIsBetter_output.json"
    )
    assert bigger.format == "customBiggerIsBetter"
    memory = pick(bigger.runs[0], "My Custom Bigger Is Better Benchmark - Free Memory", "memory")
    assert (memory.unit, memory.value, memory.direction) == ("B", 150e6, "higher_is_better")
    forced = parse_bytes(
        corpus_bytes("github-action-benchmark-custom/gab_customSmallerIsBetter_output.json"),
        format="customBiggerIsBetter",
    )
    assert {r.direction for r in forced.runs[0].results} == {"higher_is_better"}


@pytest.mark.corpus
def test_jmh_params_mode_and_raw_data() -> None:
    run = one_run("jmh/bencher_jmh_six.json")
    rec = pick(run, "compute_sameKey", "throughput", computeType="Guava")
    assert rec.suite == "com.github.guava.caffeine.cache.ComputeBenchmark"
    assert (rec.unit, rec.direction) == ("ops/s", "higher_is_better")
    assert rec.samples is not None and len(rec.samples) == 3
    two = one_run("jmh/gab_jmh_output_2.json")
    assert two.results[0].params == {"paramA": "17", "paramB": "33"}
    primary = {"score": 2.5, "scoreUnit": "us/op", "rawData": [[2.0, 3.0]]}
    secondary = {"·gc.alloc.rate.norm": {"score": 64.0, "scoreUnit": "B/op"}}
    avgt = [
        {
            "benchmark": "a.B.m",
            "mode": "avgt",
            "primaryMetric": primary,
            "secondaryMetrics": secondary,
        }
    ]
    run = parse_bytes(json.dumps(avgt).encode()).runs[0]
    time = pick(run, "m", "time")
    assert (time.unit, time.value, time.direction, time.samples) == (
        "s",
        pytest.approx(2.5e-6),
        "lower_is_better",
        pytest.approx([2e-6, 3e-6]),
    )
    assert pick(run, "m", "gc.alloc.rate.norm").unit == "B"


@pytest.mark.corpus
def test_native_round_trip() -> None:
    original = parse_path(CORPUS / "asv/generated-asv-0.6.6")
    data = json.dumps(original.model_dump(mode="json")).encode()
    again = parse_bytes(data)
    assert again == original and again.format == "asv"
    assert parse_bytes(data, format="benchwarden") == original
    broken = json.dumps({"format": "asv", "runs": [{"results": [{"name": "x"}]}]}).encode()
    with pytest.raises(ParseError, match=r"benchwarden: runs\.0\.results\.0\.measure"):
        parse_bytes(broken)
