"""Skip pytest-benchmark's CPU probe: the runner records the machine itself.

py-cpuinfo spends about two seconds per process; with several interleaved
processes per commit that would dominate a job.
"""

import platform


def pytest_benchmark_generate_machine_info(config):
    return {
        "node": platform.node(),
        "python_version": platform.python_version(),
        "system": platform.system(),
        "release": platform.release(),
        "cpu": {},
    }
