"""The rows reading of asv files (bulk import) equals the record parser, errors included.

``runner.parsers.asv_rows`` reads the plain case by hand and hands everything
else to the record parser; each case here is read both ways and must give the
same rows, the same record texts and the same content hash, or the same error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from runner.parsers import asv, asv_rows
from runner.parsers.errors import ParseError
from runner.parsers.records import check_unique
from runner.parsers.rows import copy_columns, record_row, record_text
from runner.parsers.source import Source
from runner.schema import RunPayload
from tests.conftest import CORPUS, FIXTURES
from tests.support.asv_history import COLUMNS, write_history
from web.services.bulk_source import plan
from web.services.ingest import DEFAULT_MACHINE, content_hash, content_hash_of_texts

COMMIT = "0123456789abcdef0123456789abcdef01234567"
BENCHMARKS = {
    "suite.Time.time_it": asv.BenchmarkInfo("time", "seconds", ("n", "kind")),
    "suite.Mem.mem_it": asv.BenchmarkInfo("memory", "bytes", ()),
    "suite.Track.track_it": asv.BenchmarkInfo("track", "widgets", ("size",)),
}


def _file(results: dict[str, list[Any]], version: int = 2) -> bytes:
    doc: dict[str, Any] = {
        "commit_hash": COMMIT,
        "env_name": "py3.11",
        "date": 1_700_000_000_000,
        "params": {"machine": "box", "python": "3.11"},
        "version": version,
        "results": results,
    }
    if version == 2:
        doc["result_columns"] = COLUMNS
    return json.dumps(doc).encode()


def _entry(result: object, params: object = (), **columns: object) -> list[object]:
    row = {"result": result, "params": list(params) if isinstance(params, tuple) else params}
    row |= columns
    return [row.get(column) for column in COLUMNS]


def _both(data: bytes, benchmarks: dict[str, asv.BenchmarkInfo] | None) -> None:
    """Read ``data`` both ways (the record parser with ingest's ``check_unique``) and
    require the same outcome."""
    src = Source.from_bytes(data, "r.json")
    try:
        run = asv.parse_result_file(src, benchmarks, None)
        check_unique([run], asv.FORMAT)
    except ParseError as exc:
        with pytest.raises(ParseError) as raised:
            asv_rows.read_rows(Source.from_bytes(data, "r.json"), benchmarks, None)
        assert str(raised.value) == str(exc)
        return
    found = asv_rows.read_rows(Source.from_bytes(data, "r.json"), benchmarks, None)
    assert found.rows == [record_row(r) for r in run.results]
    assert found.texts == [record_text(r) for r in run.results]
    assert found.run == run.model_copy(update={"results": []})
    machine = run.machine.name if run.machine else DEFAULT_MACHINE
    payload = RunPayload(project="p", commit=COMMIT)
    assert content_hash_of_texts(COMMIT, machine, "asv", found.run, found.texts) == content_hash(
        payload, run, "asv"
    )


PLAIN = {
    "one value with quartiles and repeat": {
        "suite.Time.time_it": _entry([0.5], stats_q_25=[0.4], stats_q_75=[0.6], stats_repeat=[10])
    },
    "a bare number, no statistics": {"suite.Mem.mem_it": _entry(1234)},
    "an integer value and repeat given as 10.0": {
        "suite.Time.time_it": _entry([3], stats_repeat=[10.0])
    },
    "a parameter grid, asv's order": {
        "suite.Time.time_it": _entry(
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [[1, 2.0, "'x'"], [True, None]], stats_q_25=[0.5] * 6
        )
    },
    "unnamed parameters without benchmarks.json": {
        "suite.Other.time_other": _entry([1e-9, 2e-9], [["16", "1.6e1x"]])
    },
    "negative values where the unit allows them": {
        "suite.Track.track_it": _entry([-3.5, 2.0], [["a", "b"]], stats_q_25=[-4.0, 1.0])
    },
    "many benchmarks": {
        f"suite.Many.time_{i}": _entry([i * 1e-3], stats_q_75=[i * 2e-3]) for i in range(50)
    },
}
FALLBACK = {
    "a failed benchmark (null result)": {"suite.Time.time_it": _entry(None, [[1], ["a"]])},
    "a skipped combination (NaN)": {
        "suite.Time.time_it": _entry([1.0, math.nan], [[1, 2], ["a"]], stats_q_25=[0.9, None])
    },
    "samples recorded": {"suite.Mem.mem_it": _entry([5.0], samples=[[4.0, 5.0, 6.0]])},
    "a NaN quartile (dropped by the record parser)": {
        "suite.Time.time_it": _entry([1.0], stats_q_25=[math.nan], stats_q_75=[1.2])
    },
    "an empty parameter axis": {"suite.Time.time_it": _entry([], [[], ["a"]])},
    "an infinite value": {"suite.Time.time_it": _entry([math.inf])},
    "a negative time": {"suite.Time.time_it": _entry([-1.0])},
    "a negative quartile of a size": {"suite.Mem.mem_it": _entry([5.0], stats_q_25=[-1.0])},
    "a fractional repeat": {"suite.Time.time_it": _entry([1.0], stats_repeat=[2.5])},
    "a repeat too large for its column": {
        "suite.Time.time_it": _entry([1.0], stats_repeat=[2**40])
    },
    "a boolean value": {"suite.Time.time_it": _entry([True])},
    "a string value": {"suite.Time.time_it": _entry(["fast"])},
    "a value too large for a float": {"suite.Mem.mem_it": _entry([10**400])},
    "fewer values than combinations": {"suite.Time.time_it": _entry([1.0], [[1, 2], ["a"]])},
    "two parameter values that read alike": {"suite.Time.time_it": _entry([1.0, 2.0], [[1, 1.0]])},
    "a parameter that is an object": {"suite.Time.time_it": _entry([1.0], [[{"a": 1}]])},
    "params that are not a list": {"suite.Time.time_it": _entry([1.0], "n=1")},
    "a NUL in a parameter": {"suite.Time.time_it": _entry([1.0], [["a\x00b"]])},
    "a grid too large for the file": {"suite.Time.time_it": _entry(None, [[1, 2]] * 24)},
    "a row longer than the columns": {"suite.Time.time_it": [1.0] * (len(COLUMNS) + 1)},
}


@pytest.mark.parametrize("case", PLAIN)
def test_plain_entries_read_alike(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _both(_file(PLAIN[case]), BENCHMARKS)
    _both(_file(PLAIN[case]), None)
    # and they are read without the record parser (its cost is what this path avoids)
    monkeypatch.setattr(asv, "expand", None)
    for benchmarks in (BENCHMARKS, None):
        asv_rows.read_rows(Source.from_bytes(_file(PLAIN[case]), "r.json"), benchmarks, None)


@pytest.mark.parametrize("case", FALLBACK)
def test_other_entries_read_alike(case: str) -> None:
    """Mixed with a plain entry before and after, so both paths meet in one file."""
    plain = {"suite.Mem.mem_it": _entry([7.0], stats_repeat=[3])}
    entries = {"suite.Track.track_it": _entry([1.0], [["s"]])} | FALLBACK[case] | plain
    _both(_file(entries), BENCHMARKS)


def test_format_1_reads_alike() -> None:
    entries = {
        "suite.Time.time_it": {"result": [0.1, 0.2], "params": [[1, 2]]},
        "suite.Mem.mem_it": {"result": 10, "stats": {"min": 9, "max": 11, "repeat": 3}},
    }
    _both(_file(entries, version=1), BENCHMARKS)  # type: ignore[arg-type]


def test_two_results_for_one_series_are_refused() -> None:
    """``check_unique``'s rule, which the record parser leaves to ingest: 16 and 16.0
    name one parameter value."""
    data = _file({"suite.Time.time_it": _entry([1.0, 2.0], [[16, 16.0], ["a"]])})
    with pytest.raises(ParseError, match=r"two results for benchmark 'suite\.Time::time_it'"):
        asv_rows.read_rows(Source.from_bytes(data, "r.json"), BENCHMARKS, None)


def test_identities_are_validated_once_per_history(tmp_path: Path) -> None:
    """The second file of a history reuses the first one's validated benchmarks."""
    history = write_history(tmp_path, commits=3, benchmarks=20)
    files = plan(history)
    benchmarks = asv.benchmark_infos(json.loads((history / "benchmarks.json").read_text()))
    asv_rows._identities.cache_clear()
    for item in files:
        asv_rows.read_rows(Source.from_bytes(item.path.read_bytes(), "r.json"), benchmarks, None)
    info = asv_rows._identities.cache_info()
    assert (info.misses, info.hits) == (20, 40)


def _history_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*.json") if p.name not in ("machine.json", "benchmarks.json")
    )


@pytest.mark.parametrize("where", ["fixture", "generated"])
def test_histories_read_alike(where: str, tmp_path: Path) -> None:
    root = (
        FIXTURES / "asv"
        if where == "fixture"
        else write_history(tmp_path, commits=3, benchmarks=40)
    )
    results = root / "results" if (root / "results").is_dir() else root
    benchmarks = asv.benchmark_infos(json.loads((results / "benchmarks.json").read_text()))
    for file in _history_files(results):
        _both(file.read_bytes(), benchmarks)


@pytest.mark.corpus
def test_the_corpus_reads_alike() -> None:
    roots = sorted((CORPUS / "asv").glob("*/results"))
    assert roots
    for results in roots:
        doc = json.loads((results / "benchmarks.json").read_text())
        benchmarks = asv.benchmark_infos(doc) if asv.is_benchmarks_json(doc) else None
        for file in _history_files(results):
            _both(file.read_bytes(), benchmarks)


def test_copy_columns_escape_text_and_write_nulls() -> None:
    row = ("s", "n", "{}", {}, "m", "u", "lower_is_better", 1.5, None, None, None, None, None)
    row += (None, None, 7, 7, "[1.0, 2.5]", "failed", "tab\there\\ and\nnewline\r")
    expected = "1.5\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t7\t7\t[1.0, 2.5]\tfailed\t"
    assert copy_columns(row) == expected + "tab\\there\\\\ and\\nnewline\\r"
