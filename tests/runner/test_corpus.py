"""Every corpus file either parses or is rejected, as this table says.

The table is explicit on purpose: a parser change that starts rejecting a file
(or starts accepting one it should not) flips a test here. Values are
``(format, number of records)`` or ``(ERROR, start of the message)``.
"""

from __future__ import annotations

import pytest

from runner.parsers import ParseError, detect_format, parse_bytes, parse_path
from tests.runner.corpus import CORPUS, corpus_bytes, manifest_files

pytestmark = pytest.mark.corpus

GEN05 = "asv/generated-asv-0.5.1/results/gen-machine-05"

ERROR = "error"

EXPECTED: dict[str, tuple[str, object]] = {
    "asv/bencher_asv_console_six.txt": (
        ERROR,
        "not a supported format: this looks like asv console output",
    ),
    "asv/django-asv/benchmarks.2022-06-asv0.5.json": (ERROR, "asv: this is benchmarks.json"),
    "asv/django-asv/results/benchmarks.json": (ERROR, "asv: this is benchmarks.json"),
    "asv/django-asv/results/ubuntu-latest/e0f8104a-conda-py3.9.json": ("asv", 52),
    "asv/django-asv/results/ubuntu-latest/e4c4a178-conda-py3.13.json": ("asv", 59),
    "asv/django-asv/results/ubuntu-latest/f4a08b6d-conda-py3.10.json": ("asv", 53),
    "asv/django-asv/results/ubuntu-latest/machine.json": (ERROR, "asv: this is machine.json"),
    "asv/django-asv/results/windows-2022/00639dbd-virtualenv-py3.10.json": ("asv", 40),
    "asv/django-asv/results/windows-2022/machine.json": (ERROR, "asv: this is machine.json"),
    "asv/empymod-bench/results/benchmarks.json": (ERROR, "asv: this is benchmarks.json"),
    "asv/empymod-bench/results/dtr-latitude/08c987df-conda-py3.6-numpy1.17.json": ("asv", 53),
    "asv/empymod-bench/results/dtr-latitude/97744f19-conda-py3.6.json": ("asv", 53),
    "asv/empymod-bench/results/dtr-latitude/machine.json": (ERROR, "asv: this is machine.json"),
    "asv/gen_asv-0.6.6_console_run.txt": (
        ERROR,
        "not a supported format: this looks like asv console output",
    ),
    "asv/generated-asv-0.5.1/results/benchmarks.json": (ERROR, "asv: this is benchmarks.json"),
    f"{GEN05}/fa9525f8-existing-py_opt_venv-asv05_bin_python3.json": (
        "asv",
        10,
    ),
    "asv/generated-asv-0.5.1/results/gen-machine-05/machine.json": (
        ERROR,
        "asv: this is machine.json",
    ),
    "asv/generated-asv-0.6.6/results/benchmarks.json": (ERROR, "asv: this is benchmarks.json"),
    "asv/generated-asv-0.6.6/results/gen-machine/601f9ea6-existing-py_opt_venv_bin_python3.json": (
        "asv",
        10,
    ),
    "asv/generated-asv-0.6.6/results/gen-machine/fa9525f8-existing-py_opt_venv_bin_python3.json": (
        "asv",
        10,
    ),
    "asv/generated-asv-0.6.6/results/gen-machine/machine.json": (
        ERROR,
        "asv: this is machine.json",
    ),
    "asv/openmathlib-blas-benchmarks/results/benchmarks.json": (
        ERROR,
        "asv: this is benchmarks.json",
    ),
    "asv/openmathlib-blas-benchmarks/results/gha-aws-graviton/0e098f7e-virtualenv-py3.12.json": (
        "asv",
        222,
    ),
    "asv/openmathlib-blas-benchmarks/results/gha-aws-graviton/machine.json": (
        ERROR,
        "asv: this is machine.json",
    ),
    "asv/openmathlib-blas-benchmarks/results/gha-ubuntu-noble/fb8ab261-virtualenv-py3.12.json": (
        "asv",
        126,
    ),
    "asv/openmathlib-blas-benchmarks/results/gha-ubuntu-noble/machine.json": (
        ERROR,
        "asv: this is machine.json",
    ),
    "benchmarkdotnet/bencher_dotnet_memory.json": (
        ERROR,
        "not a supported format: this looks like BenchmarkDotNet JSON",
    ),
    "benchmarkdotnet/bencher_dotnet_null_namespace.json": (
        ERROR,
        "not a supported format: this looks like BenchmarkDotNet JSON",
    ),
    "benchmarkdotnet/gab_benchmarkdotnet.json": (
        ERROR,
        "not a supported format: this looks like BenchmarkDotNet JSON",
    ),
    "bmf/bencher_report_bmf_mixed.json": ("bmf", 3),
    "bmf/bencher_report_dhat.json": ("bmf", 6),
    "bmf/bencher_report_latency.json": ("bmf", 3),
    "bmf/bencher_report_mixed_versions_UNRELEASED.json": ("bmf", 2),
    "bmf/bencher_report_v1_canonical_UNRELEASED.json": ("bmf", 2),
    "cargo-bench/bencher_rust_bench_failed.txt": (
        ERROR,
        "not a supported format: this looks like cargo bench (libtest",
    ),
    "cargo-bench/bencher_rust_bench_ignore.txt": (
        ERROR,
        "not a supported format: this looks like cargo bench (libtest",
    ),
    "cargo-bench/bencher_rust_bench_issue_390.txt": (
        ERROR,
        "not a supported format: this looks like cargo bench (libtest",
    ),
    "cargo-bench/bencher_rust_bench_multi_target.txt": (
        ERROR,
        "not a supported format: this looks like cargo bench (libtest",
    ),
    "cargo-bench/gab_cargo_output.txt": (
        ERROR,
        "not a supported format: this looks like cargo bench (libtest",
    ),
    "cargo-bench/gab_cargo_output2.txt": (
        ERROR,
        "not a supported format: this looks like cargo bench (libtest",
    ),
    "cargo-bench/gab_cargo_output3.txt": (
        ERROR,
        "not a supported format: this looks like cargo bench (libtest",
    ),
    "cargo-bench/gab_cargo_output_units.txt": (
        ERROR,
        "not a supported format: this looks like cargo bench (libtest",
    ),
    "cargo-bench/gab_criterion_bencher_output.txt": (
        ERROR,
        "not a supported format: this looks like cargo bench (libtest",
    ),
    "catch2/bencher_catch2_issue_351.txt": (
        ERROR,
        "not a supported format: this looks like Catch2 console outpu",
    ),
    "catch2/gab_catch2_output_v2.txt": (
        ERROR,
        "not a supported format: this looks like Catch2 console outpu",
    ),
    "catch2/gab_catch2_output_v3.txt": (
        ERROR,
        "not a supported format: this looks like Catch2 console outpu",
    ),
    "criterion/bencher_criterion_console_failed.txt": (
        ERROR,
        "not a supported format: this looks like Criterion console te",
    ),
    "criterion/bencher_criterion_console_many.txt": (
        ERROR,
        "not a supported format: this looks like Criterion console te",
    ),
    "criterion/gab_cargo_criterion_message_format_json.json": ("criterion", 1),
    "github-action-benchmark-custom/gab_customBiggerIsBetter_output.json": (
        "customBiggerIsBetter",
        2,
    ),
    "github-action-benchmark-custom/gab_customSmallerIsBetter_output.json": (
        "customSmallerIsBetter",
        2,
    ),
    "github-action-benchmark-custom/gab_customSmallerIsBetter_output2.json": (
        "customSmallerIsBetter",
        4,
    ),
    "go-test-bench/bencher_go_three.txt": ("go-bench", 4),
    "go-test-bench/gab_go_fiber_duplicate_names_output.txt": ("go-bench", 16),
    "go-test-bench/gab_go_output.txt": ("go-bench", 10),
    "go-test-bench/gab_go_single_package_output.txt": ("go-bench", 2),
    "go-test-bench/gen_go1.19_bench_count2_benchmem.txt": ("go-bench", 19),
    "go-test-bench/gen_go1.19_bench_test2json.jsonl": ("go-bench", 10),
    "go-test-bench/gen_go1.19_bench_verbose_cpu1_4.txt": ("go-bench", 38),
    "google-benchmark/gab_googlecpp_output.json": ("google-benchmark", 4),
    "google-benchmark/gbench_compare_test1_run1.json": ("google-benchmark", 28),
    "google-benchmark/gbench_compare_test3_run0.json": ("google-benchmark", 8),
    "google-benchmark/gbench_compare_test4_run.json": (
        ERROR,
        "google-benchmark: 99 family 0 instance 0 repetition 0: a row",
    ),
    "google-benchmark/gbench_compare_test5_run0.json": ("google-benchmark", 2),
    "google-benchmark/gen_gbench-1.7.1_repetitions_aggregates.json": ("google-benchmark", 27),
    "hyperfine/bencher_hyperfine_one.json": ("hyperfine", 3),
    "hyperfine/bencher_hyperfine_two.json": ("hyperfine", 6),
    "hyperfine/gen_hyperfine-1.15_basic.json": ("hyperfine", 6),
    "hyperfine/gen_hyperfine-1.15_failing_ignored.json": ("hyperfine", 4),
    "hyperfine/gen_hyperfine-1.15_list_params.json": ("hyperfine", 6),
    "hyperfine/gen_hyperfine-1.15_param_scan.json": ("hyperfine", 9),
    "jmh/bencher_jmh_six.json": ("jmh", 6),
    "jmh/gab_jmh_output.json": ("jmh", 1),
    "jmh/gab_jmh_output_2.json": ("jmh", 1),
    "pyperf/gen_pyperf-2.11_suite.json": ("pyperf", 3),
    "pyperf/gen_pyperf-2.11_timeit_fast.json": ("pyperf", 1),
    "pyperf/gen_pyperf-2.11_track_memory.json": ("pyperf", 1),
    "pyperf/pyperf_doc_py3.json.gz": ("pyperf", 1),
    "pyperf/pyperf_mult_list_py36_tags.json": ("pyperf", 3),
    "pyperf/pyperf_telco.json": ("pyperf", 1),
    "pyperf/pyperf_telco_format_v5_old.json": ("pyperf", 1),
    "pyperf/pyperf_track_memory.json": ("pyperf", 1),
    "pytest-benchmark/bencher_pytest-benchmark-4.0.0_darwin_py3.12.json": ("pytest-benchmark", 1),
    "pytest-benchmark/bencher_pytest-benchmark-4.0.0_linux_py3.8.json": ("pytest-benchmark", 1),
    "pytest-benchmark/gab_pytest_output.json": ("pytest-benchmark", 2),
    "pytest-benchmark/gab_pytest_several_units.json": ("pytest-benchmark", 4),
    "pytest-benchmark/gen_autosave_0001_d466b67_20261128_061609.json": ("pytest-benchmark", 3),
    "pytest-benchmark/gen_pytest-benchmark-3.4.1.json": ("pytest-benchmark", 9),
    "pytest-benchmark/gen_pytest-benchmark-4.0.0.json": ("pytest-benchmark", 9),
    "pytest-benchmark/gen_pytest-benchmark-5.3.1.json": ("pytest-benchmark", 9),
    "pytest-benchmark/pbm_test_storage_0030_v2.5.0.json": ("pytest-benchmark", 1),
}


def test_table_covers_the_manifest() -> None:
    assert sorted(EXPECTED) == sorted(manifest_files())


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_corpus_file(relative: str) -> None:
    outcome, detail = EXPECTED[relative]
    if outcome == ERROR:
        with pytest.raises(ParseError) as info:
            parse_path(CORPUS / relative)
        assert str(info.value).startswith(str(detail))
        return
    output = parse_path(CORPUS / relative)
    assert output.format == outcome
    assert sum(len(run.results) for run in output.runs) == detail
    for run in output.runs:
        for rec in run.results:
            assert rec.unit != "ns" and rec.unit != "us"
            assert (rec.value is None) == (rec.status != "ok")


@pytest.mark.parametrize(
    "relative", sorted(p for p, (outcome, _) in EXPECTED.items() if outcome != ERROR)
)
def test_detection_from_bytes_alone(relative: str) -> None:
    """Content decides: detection without a file name agrees, except for the
    direction of github-action-benchmark custom files, which only a name can tell."""
    detected = detect_format(corpus_bytes(relative))
    expected = EXPECTED[relative][0]
    if expected == "customBiggerIsBetter":
        expected = "customSmallerIsBetter"
    assert detected == expected
    assert parse_bytes(corpus_bytes(relative)).format == expected
