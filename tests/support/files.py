"""Generated result files for tests and benchmarks."""

from __future__ import annotations

import json
import random

import numpy as np

SAMPLES = 20


def pytest_benchmark_file(n: int, seed: int = 0) -> bytes:
    """A --benchmark-json document of ``n`` parametrized benchmarks with raw samples."""
    rng = random.Random(seed)
    benches = []
    for i in range(n):
        data = [1e-4 * (1 + 0.02 * rng.random()) for _ in range(SAMPLES)]
        ordered = sorted(data)
        benches.append(
            {
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
                    "mean": sum(data) / SAMPLES,
                    "stddev": float(np.std(data, ddof=1)),
                    "rounds": SAMPLES,
                    "median": ordered[SAMPLES // 2],
                    "iqr": ordered[14] - ordered[4],
                    "q1": ordered[4],
                    "q3": ordered[14],
                    "iqr_outliers": 0,
                    "stddev_outliers": 1,
                    "outliers": "1;0",
                    "ld15iqr": ordered[0],
                    "hd15iqr": ordered[-1],
                    "ops": SAMPLES / sum(data),
                    "total": sum(data),
                    "iterations": 1,
                    "data": data,
                },
            }
        )
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
