"""An asv suite run through the runner with asv's own machinery, parsed from its results store."""

from __future__ import annotations

import os
from pathlib import Path

from runner.execute import JobLog
from runner.measure import Plan, Side, measure
from runner.suites import load_suites
from tests.integration.gitrepo import Repo

BENCHMARKS = """
def time_sum():
    sum(range(10000))


def track_answer():
    return 42


class Params:
    params = [10, 100]
    param_names = ["n"]

    def time_range(self, n):
        list(range(n))
"""
ASV_CONF = (
    '{"version": 1, "project": "tiny", "repo": ".", "branches": ["main"],'
    ' "environment_type": "existing", "benchmark_dir": "benchmarks",'
    ' "results_dir": "results", "html_dir": "html"}'
)
SUITE = '[env]\nkind = "none"\n\n[suites.asv]\nkind = "asv"\nrepeats = 2\nargs = ["--quick"]\n'


def test_asv_suite_runs_with_asv_and_is_parsed(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    sha = repo.commit(
        {
            "benchmarks/__init__.py": "",
            "benchmarks/bench.py": BENCHMARKS,
            "asv.conf.json": ASV_CONF,
            "benchwarden.toml": SUITE,
        }
    )
    # asv keeps machine descriptions in $HOME; keep the test's out of the real one.
    env = dict(os.environ) | {"HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    side = Side("a", sha, repo.path, env)
    suites = load_suites(repo.path).select("m1")
    measure([side], Plan(suites, "m1"), JobLog(tmp_path / "log.txt"), tmp_path / "work")
    assert side.errors == [], (tmp_path / "log.txt").read_text()[-2000:]
    records = {(r.suite, r.name, tuple(r.params.items())): r for r in side.records()}
    assert set(records) == {
        ("bench", "time_sum", ()),
        ("bench", "track_answer", ()),
        ("bench.Params", "time_range", (("n", "10"),)),
        ("bench.Params", "time_range", (("n", "100"),)),
    }
    summed = records[("bench", "time_sum", ())]
    assert summed.unit == "s" and summed.value is not None and 0 < summed.value < 0.1
    assert summed.stats is not None and summed.stats.rounds == 2  # two asv processes
    assert records[("bench", "track_answer", ())].value == 42.0
    assert (tmp_path / "home" / ".asv-machine.json").exists()
