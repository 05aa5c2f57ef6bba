"""pytest-benchmark, asv, pyperf and hyperfine: facts checked by hand against the corpus files."""

from __future__ import annotations

import json

import pytest

from runner.parsers import parse_bytes, parse_path
from runner.schema import ParsedRun, ResultRecord
from tests.runner.corpus import CORPUS, corpus_bytes

# Facts about files of the shared corpus; tests/runner/test_fixtures.py covers our own.
pytestmark = pytest.mark.corpus


def one_run(relative: str) -> ParsedRun:
    output = parse_path(CORPUS / relative)
    assert len(output.runs) == 1
    return output.runs[0]


def by_name(run: ParsedRun, name: str, **params: str) -> ResultRecord:
    found = [
        r
        for r in run.results
        if r.name == name and all(r.params.get(k) == v for k, v in params.items())
    ]
    assert len(found) == 1, [r.name for r in run.results]
    return found[0]


# -- pytest-benchmark ---------------------------------------------------------


def test_pytest_benchmark_5_params_unicode_and_samples() -> None:
    run = one_run("pytest-benchmark/gen_pytest-benchmark-5.3.1.json")
    assert run.commit == "d466b67b36a79962882c5388f1a34abb40d58a74"
    assert run.machine is not None and run.machine.name == "vm"
    assert (run.machine.cpu_model, run.machine.cores, run.machine.python) == (
        "AMD EPYC",
        2,
        "3.11.7",
    )
    fib = by_name(run, "test_fib", n="5")
    assert fib.suite == "test_bench.py" and fib.unit == "s" and fib.measure == "time"
    assert fib.value == pytest.approx(1.9053806427961388e-05)
    assert fib.samples is not None and len(fib.samples) == 1815
    assert fib.stats is not None and fib.stats.rounds == 1815
    # pytest escapes the id (test_encode[\xfcn...]) but params keep the real text
    encode = by_name(run, "test_encode", text="ünïcödé ✓")
    assert encode.samples is not None and len(encode.samples) == 1767
    assert by_name(run, "test_join_pedantic").stats.rounds == 7  # type: ignore[union-attr]
    assert {r.name for r in run.results} >= {"test_xfail_after_benchmark", "test_sleep_ms"}


def _with_params(params: dict[str, str], param: str) -> bytes:
    bench = {
        "name": f"test_put[{param}]",
        "fullname": f"tests/test_benchmark.py::test_put[{param}]",
        "params": params,
        "param": param,
        "stats": {"mean": 1e-6, "rounds": 3},
    }
    return json.dumps({"benchmarks": [bench], "datetime": "2024-01-01T00:00:00"}).encode()


def test_pytest_benchmark_unserializable_params_are_named_by_their_pytest_id() -> None:
    """A class moved to another module (bidict 0.21) is still the same benchmark."""
    moved = [
        "UNSERIALIZABLE[<class 'bidict._bidict.bidict'>]",
        "UNSERIALIZABLE[<class 'bidict.bidict'>]",
    ]
    for value in moved:
        (run,) = parse_bytes(_with_params({"bi_cls": value}, "bidict")).runs
        assert (run.results[0].name, run.results[0].params) == ("test_put", {"bi_cls": "bidict"})
    two = {"bi_cls": moved[0], "n": "8"}
    (run,) = parse_bytes(_with_params(two, "bidict-8")).runs
    assert run.results[0].params == {"bi_cls": "bidict", "n": "8"}
    # an id that does not split into one part per parameter keeps the values as written
    (run,) = parse_bytes(_with_params(two, "bi-dict-8")).runs
    assert run.results[0].params == two


def test_pytest_benchmark_autosave_has_no_samples() -> None:
    run = one_run("pytest-benchmark/gen_autosave_0001_d466b67_20261128_061609.json")
    rec = by_name(run, "test_fib", n="15")
    assert rec.value == pytest.approx(0.00032689594827721864)
    assert rec.samples is None


def test_pytest_benchmark_2_5_keeps_the_bracketed_name() -> None:
    run = one_run("pytest-benchmark/pbm_test_storage_0030_v2.5.0.json")
    (rec,) = run.results
    assert (rec.suite, rec.name, rec.params) == (
        "tests/test_normal.py",
        "test_xfast_parametrized[0]",
        {},
    )
    assert rec.value == pytest.approx(2.61205074138546e-07)
    assert rec.stats is not None and rec.stats.rounds == 9710
    assert rec.stats.q3 == pytest.approx(2.3675905302892982e-07)
    assert run.commit == "5b78858eb718649a31fb93d8dc96ca2cee41a4cd"
    assert run.machine is not None and run.machine.name == "minibox"


def test_pytest_benchmark_units_span_and_elided_data() -> None:
    run = one_run("pytest-benchmark/gab_pytest_several_units.json")
    assert by_name(run, "test_sleep_2").value == pytest.approx(2.0038430469999997)
    assert by_name(run, "test_fib_1").value == pytest.approx(1.4995610248628836e-07)
    # the fixture trimmed long stats.data with a text marker: those samples are
    # dropped (stats kept); the complete 5-round array of test_sleep_2 is kept
    assert by_name(run, "test_fib_1").samples is None
    assert by_name(run, "test_fib_1").stats.rounds == 68536  # type: ignore[union-attr]
    assert len(by_name(run, "test_sleep_2").samples or []) == 5


# -- asv -----------------------------------------------------------------------


def test_asv_generated_quick_run_statuses_and_params() -> None:
    run = one_run(
        "asv/generated-asv-0.6.6/results/gen-machine/601f9ea6-existing-py_opt_venv_bin_python3.json"
    )
    assert run.commit == "601f9ea65dca621b3c8e98960fb862a0113fa28d"
    assert run.environment == "existing-py_opt_venv_bin_python3"
    sums = [r for r in run.results if r.name == "time_sum"]
    assert [tuple(r.params.values()) for r in sums] == [
        ("10", "'list'"),
        ("10", "'tuple'"),
        ("100", "'list'"),
        ("100", "'tuple'"),
    ]
    assert sums[0].params == {"n": "10", "container": "'list'"}
    assert sums[1].value == pytest.approx(5.040000019107538e-06)
    assert sums[3].status == "skipped" and sums[3].value is None  # NaN
    assert by_name(run, "time_failing").status == "failed"  # null
    assert by_name(run, "track_nan").status == "skipped"
    assert by_name(run, "time_unicode_ünï").suite == "bench"
    peak = by_name(run, "peakmem_alloc")
    assert (peak.measure, peak.unit, peak.value) == ("peakmemory", "B", 24702976.0)
    assert by_name(run, "track_nan").unit == "widgets"


def test_asv_full_run_samples() -> None:
    run = one_run(
        "asv/generated-asv-0.6.6/results/gen-machine/fa9525f8-existing-py_opt_venv_bin_python3.json"
    )
    rec = by_name(run, "time_sum", n="10", container="'list'")
    assert rec.samples is not None and len(rec.samples) == 10
    assert rec.samples[1] == pytest.approx(8.420000767728197e-07)


def test_asv_result_bytes_alone_infer_units_and_param_names() -> None:
    data = corpus_bytes(
        "asv/generated-asv-0.6.6/results/gen-machine/601f9ea6-existing-py_opt_venv_bin_python3.json"
    )
    run = parse_bytes(data).runs[0]
    assert by_name(run, "time_sum", param1="10", param2="'list'").unit == "s"
    assert by_name(run, "mem_list").unit == "B"
    assert by_name(run, "track_count").unit == ""
    assert run.machine is not None and run.machine.name == "gen-machine"


def test_asv_two_dimensional_cartesian_order() -> None:
    run = one_run(
        "asv/openmathlib-blas-benchmarks/results/gha-aws-graviton/0e098f7e-virtualenv-py3.12.json"
    )
    nrm2 = [r for r in run.results if r.name == "time_nrm2"]
    assert len(nrm2) == 12
    assert nrm2[1].params == {"size": "100", "variant": "'dz'"}
    assert nrm2[1].value == pytest.approx(7.574503832467232e-07)


def test_asv_partial_and_total_failure() -> None:
    partial = one_run("asv/django-asv/results/ubuntu-latest/f4a08b6d-conda-py3.10.json")
    assert sum(r.status == "failed" for r in partial.results) == 33
    clean = by_name(partial, "time_form_clean")
    assert clean.suite == "form_benchmarks.form_clean.benchmark.FormClean"
    assert clean.value == pytest.approx(3.179746312684111e-05)
    assert clean.samples is not None and len(clean.samples) == 10
    total = one_run("asv/django-asv/results/ubuntu-latest/e0f8104a-conda-py3.9.json")
    assert {r.status for r in total.results} == {"failed"}


def test_asv_format_1_stats_and_machine() -> None:
    run = one_run("asv/empymod-bench/results/dtr-latitude/97744f19-conda-py3.6.json")
    rec = by_name(run, "time_fields", size="'Small'")
    assert rec.value == pytest.approx(4.1338486940092946e-05)
    assert rec.stats is not None and rec.stats.rounds == 10
    assert rec.stats.mean == pytest.approx(4.3420851119350766e-05)
    assert sum(r.status == "failed" for r in run.results) == 16  # 8 failed entries x 2 sizes
    assert run.machine is not None and run.machine.memory_bytes == 16307368 * 1024


def test_asv_directory_gives_one_run_per_result_file() -> None:
    output = parse_path(CORPUS / "asv/django-asv")
    assert output.format == "asv"
    assert [(r.commit or "")[:8] for r in output.runs] == [
        "e0f8104a",
        "f4a08b6d",
        "e4c4a178",
        "00639dbd",
    ]
    assert {r.machine.name for r in output.runs if r.machine} == {"ubuntu-latest", "windows-2022"}


# -- pyperf --------------------------------------------------------------------


def test_pyperf_suite_unicode_names_exclude_warmups() -> None:
    run = one_run("pyperf/gen_pyperf-2.11_suite.json")
    rec = by_name(run, "sort ünïcode")
    # 11 runs: one calibration run (warmups only) and 10 with 2 values each
    assert rec.samples is not None and len(rec.samples) == 20
    assert rec.samples[0] == pytest.approx(3.193890087890838e-05)
    assert run.machine is not None and run.machine.name == "vm"


def test_pyperf_memory_unit_and_old_format_and_gzip() -> None:
    memory = one_run("pyperf/gen_pyperf-2.11_track_memory.json").results[0]
    assert (memory.measure, memory.unit) == ("memory", "B")
    assert memory.samples is not None and memory.samples[0] == 12517376.0
    old = one_run("pyperf/pyperf_telco_format_v5_old.json").results[0]
    new = one_run("pyperf/pyperf_telco.json").results[0]
    assert old.name == new.name == "telco"
    assert old.samples == new.samples and old.samples is not None and len(old.samples) == 120
    gz = one_run("pyperf/pyperf_doc_py3.json.gz").results[0]
    assert gz.name == "timeit" and gz.samples is not None and len(gz.samples) == 60


# -- hyperfine -----------------------------------------------------------------


def test_hyperfine_samples_params_and_failures() -> None:
    one = one_run("hyperfine/bencher_hyperfine_one.json")
    time = next(r for r in one.results if r.measure == "time")
    assert time.samples is not None and len(time.samples) == 214
    assert time.value == pytest.approx(0.013317239025420563)
    scan = one_run("hyperfine/gen_hyperfine-1.15_param_scan.json")
    rec = next(r for r in scan.results if r.measure == "time" and r.params == {"n": "2"})
    assert rec.name == "sleep 0.002" and rec.value == pytest.approx(0.0041641986)
    failing = one_run("hyperfine/gen_hyperfine-1.15_failing_ignored.json")
    bad = [r for r in failing.results if r.name == "exit-1 «ünï»"]
    assert [(r.measure, r.status) for r in bad] == [("time", "failed")]
    assert bad[0].error is not None and "4 of 4" in bad[0].error
