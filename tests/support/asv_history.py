"""Writing an asv results directory of many commits, shaped as asv 0.6 writes it.

Used by the import tests and the import and scale benchmarks: ``benchmarks.json``,
``<machine>/machine.json`` and one ``<commit8>-<env>.json`` (result format 2) per
commit, with the statistics columns asv stores (confidence interval, quartiles,
number, repeat). Values are a level of 1 ms per benchmark with 1 % noise; a
planted step multiplies chosen benchmarks from a chosen commit on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

ENV = "virtualenv-py3.11"
COLUMNS = [
    "result",
    "params",
    "version",
    "started_at",
    "duration",
    "stats_ci_99_a",
    "stats_ci_99_b",
    "stats_q_25",
    "stats_q_75",
    "stats_number",
    "stats_repeat",
    "samples",
    "profile",
]
DAY_MS = 86_400_000
START_MS = 1_700_000_000_000


def commit_sha(index: int, salt: str = "") -> str:
    return hashlib.sha1(f"commit {index}{salt}".encode()).hexdigest()


def benchmark_name(index: int) -> str:
    return f"bench_{index // 100}.Suite.time_case_{index}"


def write_history(
    root: Path,
    *,
    commits: int,
    benchmarks: int,
    machine: str = "bench-box",
    step_at: int | None = None,
    step_benchmarks: Iterable[int] = (),
    step: float = 1.3,
    seed: int = 0,
    first_commit: int = 0,
) -> Path:
    """Write ``root/results`` for commits ``first_commit ..`` and return its path."""
    results = root / "results"
    machine_dir = results / machine
    machine_dir.mkdir(parents=True, exist_ok=True)
    names = [benchmark_name(i) for i in range(benchmarks)]
    (results / "benchmarks.json").write_text(json.dumps(_benchmarks_json(names)))
    (machine_dir / "machine.json").write_text(
        json.dumps(
            {
                "arch": "x86_64",
                "cpu": "Intel(R) Xeon(R) CPU @ 2.20GHz",
                "machine": machine,
                "num_cpu": "2",
                "os": "Linux 6.1.0",
                "ram": "24000000",
                "version": 1,
            }
        )
    )
    rng = np.random.default_rng(seed)
    stepped = np.zeros(benchmarks, dtype=bool)
    stepped[list(step_benchmarks)] = True
    for index in range(first_commit, first_commit + commits):
        level = np.where(stepped & (step_at is not None and index >= (step_at or 0)), step, 1.0)
        values = 1e-3 * level * (1 + 0.01 * rng.standard_normal(benchmarks))
        doc = _result_doc(names, values, index, machine)
        sha = doc["commit_hash"]
        (machine_dir / f"{sha[:8]}-{ENV}.json").write_text(json.dumps(doc))
    return results


def _benchmarks_json(names: list[str]) -> dict[str, object]:
    doc: dict[str, object] = {
        name: {
            "code": "def time_case(self):\n    pass",
            "name": name,
            "number": 0,
            "param_names": [],
            "params": [],
            "repeat": 0,
            "rounds": 2,
            "sample_time": 0.01,
            "type": "time",
            "unit": "seconds",
            "version": hashlib.sha256(name.encode()).hexdigest(),
            "warmup_time": -1,
        }
        for name in names
    }
    doc["version"] = 2
    return doc


def _result_doc(names: list[str], values: np.ndarray, index: int, machine: str) -> dict:  # type: ignore[type-arg]
    started = START_MS + index * DAY_MS
    results = {
        name: [
            [float(v)],
            [],
            "0" * 64,
            started,
            0.5,
            [float(v) * 0.98],
            [float(v) * 1.02],
            [float(v) * 0.99],
            [float(v) * 1.01],
            [1000],
            [10],
        ]
        for name, v in zip(names, values, strict=True)
    }
    return {
        "commit_hash": commit_sha(index),
        "env_name": ENV,
        "date": started,
        "params": {"machine": machine, "python": "3.11"},
        "python": "3.11",
        "requirements": {},
        "env_vars": {},
        "result_columns": COLUMNS,
        "results": results,
        "durations": {},
        "version": 2,
    }
