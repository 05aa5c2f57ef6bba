"""Runner-side job machinery without a service: suites, checkouts, processes, merging."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from runner.checkout import CheckoutError, Checkouts
from runner.config import RunnerSettingsError
from runner.execute import JobLog, run_command, shell
from runner.measure import Plan, Side, measure, merge
from runner.preflight import Preflight, PreflightRefused, check, enforce
from runner.schema import ResultRecord
from runner.suites import SuiteError, load_suites
from runner.worker import parse_cpus, worker_config
from tests.integration.gitrepo import WRITE_RESULT, Repo, command_suite


def test_suites_from_benchwarden_toml_and_pyproject(tmp_path: Path) -> None:
    (tmp_path / "benchwarden.toml").write_text(command_suite("true", timeout=5, repeats=2))
    declared = load_suites(tmp_path)
    (suite,) = declared.select("m1")
    assert (suite.kind, suite.timeout, suite.repeats, declared.env.kind) == (
        "command",
        5,
        2,
        "none",
    )
    (tmp_path / "benchwarden.toml").unlink()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.benchwarden.suites.p]\nkind = "pytest-benchmark"\nmachines = ["m2"]\n'
    )
    declared = load_suites(tmp_path)
    assert declared.select("m1") == [] and declared.select("m2")[0].name == "p"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[suites.a]\nkind = "make"\n', "suites.a.kind"),
        ('[suites.a]\nkind = "command"\n', "suites.a.command is required"),
        ('[suites.a]\nkind = "command"\ncommand = "x"\ntimeout = -1\n', "suites.a.timeout"),
        ('[suites.a]\nkind = "command"\ncommand = "x"\nmeasures = ["cycles"]\n', "cycles"),
        ("[env]\n", "no suites declared"),
    ],
)
def test_bad_declarations_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "benchwarden.toml").write_text(toml)
    with pytest.raises(SuiteError, match=message):
        load_suites(tmp_path)


def test_checkout_is_a_clean_tree_and_never_touches_the_source(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "src")
    first = repo.commit({"a.txt": "one"})
    repo.commit({"a.txt": "two"})
    (repo.path / "a.txt").write_text("uncommitted edit")
    checkouts = Checkouts(tmp_path / "work")
    tree = checkouts.work_tree(str(repo.path), first, "job-1")
    assert (tree / "a.txt").read_text() == "one"
    assert (repo.path / "a.txt").read_text() == "uncommitted edit"
    # Objects are borrowed from the mirror, not copied.
    assert (tree / ".git/objects/info/alternates").is_file()
    assert checkouts.first_parent_range(str(repo.path), repo.shas[0], repo.shas[1]) == [
        repo.shas[1]
    ]
    with pytest.raises(CheckoutError, match="not in"):
        checkouts.work_tree(str(repo.path), "f" * 40, "job-2")


def test_new_commits_are_fetched_into_the_mirror(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "src")
    repo.commit({"a.txt": "one"})
    checkouts = Checkouts(tmp_path / "work")
    checkouts.mirror(str(repo.path), repo.shas[0])
    later = repo.commit({"a.txt": "two"})
    assert (checkouts.work_tree(str(repo.path), later, "t") / "a.txt").read_text() == "two"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    log = JobLog(tmp_path / "log.txt")
    pidfile = tmp_path / "grandchild.pid"
    started = time.monotonic()
    done = run_command(
        shell(f"sleep 60 & echo $! > {pidfile}; wait"), cwd=tmp_path, log=log, timeout=1
    )
    assert done.timed_out and not done.ok
    assert time.monotonic() - started < 10
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)
    assert "timed out after 1s" in log.tail()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and ") Z" not in stat.read_text()


def test_pinning_restricts_the_suite_to_the_configured_cpus(tmp_path: Path) -> None:
    log = JobLog(tmp_path / "log.txt")
    cpu = sorted(os.sched_getaffinity(0))[-1]
    run_command(
        ["python", "-c", "import os; print('affinity', sorted(os.sched_getaffinity(0)))"],
        cwd=tmp_path,
        log=log,
        timeout=30,
        cpus=[cpu],
    )
    assert f"affinity [{cpu}]" in log.tail()
    assert parse_cpus("1,3-4") == (1, 3, 4)


def test_repeats_are_interleaved_and_merged(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    order = tmp_path / "order.txt"
    (tmp_path / "benchwarden.toml").write_text(
        command_suite(f"basename $PWD >> {order} && {WRITE_RESULT}", repeats=3)
    )
    suites = load_suites(tmp_path).select("m1")
    sides = [Side(n, n * 40, tmp_path / n, dict(os.environ)) for n in ("a", "b")]
    measure(sides, Plan(suites, "m1"), JobLog(tmp_path / "log.txt"), tmp_path / "work")
    assert order.read_text().split() == ["a", "b"] * 3
    (record,) = sides[0].records()
    assert record.samples == [1.5e-06] * 3 and record.stats and record.stats.rounds == 3


def test_merge_takes_the_median_of_per_process_values() -> None:
    group = [ResultRecord(name="x", measure="time", unit="s", value=v) for v in (1.0, 5.0, 2.0)]
    merged = merge(group)
    assert merged.value == 2.0 and merged.samples == [1.0, 5.0, 2.0]


def _noisy() -> Preflight:
    return Preflight(9.0, 2, None, None, 2, None, ["1:x"], problems=["load average 9.00"])


def test_preflight_policies() -> None:
    notes: list[str] = []
    assert enforce("warn", probe=_noisy, note=notes.append).problems == ["load average 9.00"]
    assert notes and "warn" in notes[0]
    with pytest.raises(PreflightRefused, match="load average"):
        enforce("refuse", probe=_noisy)
    waited = enforce("wait", probe=_noisy, max_wait=0.2, poll=0.05)
    assert waited.problems
    real = check()
    assert real.cpus and real.free_bytes is not None and isinstance(real.problems, list)


def test_log_tail_never_carries_nul_characters(tmp_path: Path) -> None:
    """A suite that prints NUL bytes must not make its run unstorable (PostgreSQL
    text holds no NUL): the tail sent with the run shows them as U+FFFD."""
    log = JobLog(tmp_path / "log.txt")
    done = run_command(shell("printf 'before\\000after\\n'"), cwd=tmp_path, log=log, timeout=30)
    assert done.ok
    tail = log.tail()
    assert "\x00" not in tail and "before\ufffdafter" in tail


def test_a_dedicated_worker_waits_for_a_quiet_machine_by_default(tmp_path: Path) -> None:
    """Issue 20, item 4: dedicated runners default to ``wait``; the setting still wins."""
    base = {"BENCHWARDEN_DATA_DIR": str(tmp_path)}
    assert worker_config("m", base).context.preflight == "wait"
    chosen = worker_config("m", base | {"BENCHWARDEN_PREFLIGHT": "warn"})
    assert chosen.context.preflight == "warn"
    with pytest.raises(RunnerSettingsError, match="BENCHWARDEN_PREFLIGHT"):
        worker_config("m", base | {"BENCHWARDEN_PREFLIGHT": "sometimes"})
