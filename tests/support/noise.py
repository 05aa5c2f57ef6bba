"""How steady wall time is on this machine, measured the way a runner measures.

The demo plants a ~15% slowdown and finds it by wall time. On some virtual
machines the same process, started again with ASLR off and the same hash seed
and pinned to the same CPU, runs a fixed workload at one of two speeds about
1.6x apart (seen here on an idle machine); no wall-time detector can tell a 15%
change from that. Instruction counts can; until the demo measures them, its
end-to-end test first checks that the machine can measure time at all.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "bench_suites" / "demo"
_BEST_OF = (
    "import time; from demo_pkg.work import checksum; checksum(); best = min("
    "(lambda t: (checksum(), time.perf_counter() - t)[1])(time.perf_counter())"
    " for _ in range(30)); print(best)"
)


def process_to_process_cv(processes: int = 7) -> float:
    """Coefficient of variation of the best of 30 calls of the demo's ``checksum``,
    over ``processes`` fresh processes (ASLR off, fixed hash seed, one CPU)."""
    cpu = str(max(os.sched_getaffinity(0)))
    env = os.environ | {"PYTHONHASHSEED": "0", "PYTHONPATH": str(DEMO)}
    command = ["setarch", "-R", "taskset", "-c", cpu, sys.executable, "-c", _BEST_OF]
    best = [
        float(subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout)
        for _ in range(processes)
    ]
    return statistics.stdev(best) / statistics.fmean(best)
