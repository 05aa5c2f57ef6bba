"""pytest-benchmark JSON (``--benchmark-json`` and ``--benchmark-autosave``), 2.x to 5.x.

Mapping, one record per benchmark, measure ``time`` in seconds:

* suite: the test's node id without the test name (``tests/test_x.py`` or
  ``tests/test_x.py::TestClass``), because it is stable and unique while
  ``group`` is an optional display grouping that is usually null;
* name: the test function name without the ``[param-id]`` suffix when the
  parameters are known, because pytest escapes non-ASCII in ids
  (``test_encode[\\xfcn]``) while ``params`` keeps the real values; params
  from ``params`` (values stringified), else ``param`` as ``{"param": ...}``,
  else the name is kept as written (2.x files have neither); a value
  pytest-benchmark could not write (``UNSERIALIZABLE[<repr>]``: a class, a
  function) is named by its part of the pytest id instead, because a repr
  names where the object lives (``<class 'pkg._impl.Cls'>``) and moving it
  would start a new series for an unchanged benchmark;
* value: ``stats.mean``; stats from ``stats``; samples from ``stats.data``
  (per-iteration seconds; only present in ``--benchmark-json`` output or with
  ``--benchmark-save-data``; dropped when it holds non-numbers);
* run: commit ``commit_info.id``, start ``datetime``, machine from ``machine_info``.
"""

from __future__ import annotations

from typing import Any

from runner.parsers.fields import Reader, param_text
from runner.parsers.records import machine, record, stats
from runner.parsers.source import Source
from runner.schema import MachineInfo, ParsedRun, ResultRecord

FORMAT = "pytest-benchmark"
_read = Reader(FORMAT)
_STAT_KEYS = ("mean", "median", "stddev", "min", "max", "q1", "q3")
# pytest-benchmark's text for a parameter value JSON cannot hold (its SafeJSONEncoder).
_UNSERIALIZABLE = "UNSERIALIZABLE["


def sniff(doc: object) -> bool:
    """A pytest-benchmark document: ``benchmarks`` entries carry ``stats`` and ``fullname``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        return False
    benches = doc["benchmarks"]
    if not benches:
        return "machine_info" in doc and "commit_info" in doc
    first = benches[0]
    return isinstance(first, dict) and "stats" in first and "fullname" in first


def parse(src: Source) -> list[ParsedRun]:
    """Parse one pytest-benchmark JSON document into one run."""
    doc = _read.obj(src.json(FORMAT), "the document")
    benches = _read.array(doc.get("benchmarks"), "benchmarks")
    results = [_benchmark(_read.obj(b, f"benchmarks[{i}]"), i) for i, b in enumerate(benches)]
    commit_info = doc.get("commit_info")
    commit = None
    if isinstance(commit_info, dict):
        commit = _read.opt_string(commit_info.get("id"), "commit_info.id") or None
    return [
        ParsedRun(
            commit=commit,
            machine=_machine(doc.get("machine_info")),
            started_at=_read.opt_string(doc.get("datetime"), "datetime"),
            results=results,
        )
    ]


def _benchmark(bench: dict[str, Any], index: int) -> ResultRecord:
    where = f"benchmarks[{index}]"
    name = _read.string(bench.get("name"), f"{where}.name")
    fullname = _read.opt_string(bench.get("fullname"), f"{where}.fullname") or name
    suite = fullname[: -len(name)].removesuffix("::") if fullname.endswith(name) else ""
    params = _params(bench, where)
    if params and "[" in name:
        name = name[: name.index("[")]
    raw = _read.obj(bench.get("stats"), f"{where}.stats")
    # pytest-benchmark never writes NaN or infinities: one in the file means it is corrupt.
    numbers = {key: _read.opt_finite(raw.get(key), f"{where}.stats.{key}") for key in _STAT_KEYS}
    for key in ("ops", "iqr", "total"):
        _read.opt_finite(raw.get(key), f"{where}.stats.{key}")
    rounds = _read.opt_int(raw.get("rounds"), f"{where}.stats.rounds")
    samples = _samples(raw.get("data"), f"{where}.stats.data")
    return record(
        FORMAT,
        suite=suite,
        name=name,
        params=params,
        measure="time",
        unit="s",
        value=numbers["mean"],
        stats=stats(FORMAT, rounds=rounds, **numbers),
        samples=samples or None,
        status="ok" if numbers["mean"] is not None else "failed",
        error=None if numbers["mean"] is not None else "no mean time in the file",
    )


def _samples(data: object, where: str) -> list[float] | None:
    """``stats.data`` when it is complete.

    An array holding anything but numbers (files trimmed by hand carry a
    ``"... omitted"`` marker) is dropped: the summary statistics were computed
    by pytest-benchmark from the complete data and stay authoritative.
    """
    if data is None:
        return None
    items = _read.array(data, where)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in items):
        return None
    return _read.nums(items, where)


def _params(bench: dict[str, Any], where: str) -> dict[str, str]:
    params = bench.get("params")
    if isinstance(params, dict) and params:
        texts = {str(key): param_text(value) for key, value in params.items()}
        return _ids_for_unserializable(texts, bench.get("param"))
    if params is not None and not isinstance(params, dict):
        raise _read.error(f"{where}.params must be an object or null")
    param = bench.get("param")
    if param is not None:
        return {"param": param_text(param)}
    return {}


def _ids_for_unserializable(params: dict[str, str], param_id: object) -> dict[str, str]:
    """``params`` with each ``UNSERIALIZABLE[...]`` value replaced by its pytest id part.

    pytest joins the ids of a test's parameters with ``-`` in declaration order;
    when the id does not split into one part per parameter (an id holding ``-``),
    the values are kept as written.
    """
    if not isinstance(param_id, str) or not any(
        v.startswith(_UNSERIALIZABLE) for v in params.values()
    ):
        return params
    parts = [param_id] if len(params) == 1 else param_id.split("-")
    if len(parts) != len(params):
        return params
    return {
        key: part if value.startswith(_UNSERIALIZABLE) else value
        for (key, value), part in zip(params.items(), parts, strict=True)
    }


def _machine(info: object) -> MachineInfo | None:
    if not isinstance(info, dict):
        return None
    cpu = info.get("cpu")
    cpu = cpu if isinstance(cpu, dict) else {}
    extra = {k: info[k] for k in ("machine", "processor", "python_implementation") if k in info}
    return machine(
        FORMAT,
        name=info.get("node"),
        cpu_model=cpu.get("brand_raw") or cpu.get("brand"),
        cores=cpu.get("count"),
        os=info.get("system"),
        kernel=info.get("release"),
        python=info.get("python_version"),
        extra=extra,
    )
