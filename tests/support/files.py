"""Generated result files for tests and benchmarks."""

from __future__ import annotations

import json
import random

import numpy as np

SAMPLES = 20


def pytest_benchmark_file(n: int, seed: int = 0) -> bytes:
    """A --benchmark-json document of ``n`` parametrized benchmarks with raw samples."""
    rng = random.Random(seed)
    return pytest_benchmark_document(
        [[1e-4 * (1 + 0.02 * rng.random()) for _ in range(SAMPLES)] for _ in range(n)]
    )


def pytest_benchmark_document(samples: list[list[float]]) -> bytes:
    """A --benchmark-json document: benchmark ``test_op[i]`` has ``samples[i]``
    (at least 15 rounds each) as its raw data."""
    benches = [_benchmark(i, data) for i, data in enumerate(samples)]
    doc = {
        "machine_info": {
            "node": "bench",
            "processor": "x86_64",
            "machine": "x86_64",
            "python_version": "3.11.7",
            "system": "Linux",
            "release": "6",
        },
        "commit_info": {"id": "0" * 40, "dirty": False},
        "benchmarks": benches,
        "datetime": "2026-11-28T00:00:00",
        "version": "5.2.3",
    }
    return json.dumps(doc).encode()


def _benchmark(i: int, data: list[float]) -> dict[str, object]:
    ordered = sorted(data)
    rounds = len(data)
    return {
        "group": None,
        "name": f"test_op[{i}]",
        "fullname": f"tests/test_ops.py::test_op[{i}]",
        "params": {"size": i},
        "param": str(i),
        "extra_info": {},
        "options": {},
        "stats": {
            "min": ordered[0],
            "max": ordered[-1],
            "mean": sum(data) / rounds,
            "stddev": float(np.std(data, ddof=1)),
            "rounds": rounds,
            "median": ordered[rounds // 2],
            "iqr": ordered[14] - ordered[4],
            "q1": ordered[4],
            "q3": ordered[14],
            "iqr_outliers": 0,
            "stddev_outliers": 1,
            "outliers": "1;0",
            "ld15iqr": ordered[0],
            "hd15iqr": ordered[-1],
            "ops": rounds / sum(data),
            "total": sum(data),
            "iterations": 1,
            "data": data,
        },
    }
