"""Measuring suites: repeats interleaved across processes and commits, parsed and merged.

With several sides (the commits of an A/B or bisect job, each in its own work
tree) every repeat runs each side once before the next repeat starts
(A B A B ...), so slow drifts of the machine's state fall on both sides alike.
Each process contributes one sample per benchmark; the merged record's value
is the median of those per-process values, robust to one disturbed process.
"""

from __future__ import annotations

import json
import os
import shlex
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.callgrind import PLUGIN as CALLGRIND_PLUGIN
from runner.callgrind import PLUGIN_DIR, CallgrindRun, CallgrindUnavailable, requests_library
from runner.callgrind.callgrind_profile import ProfileError, parse_profile
from runner.execute import (
    JobLog,
    missing_module_hint,
    no_aslr_prefix,
    read_instructions,
    run_command,
    shell,
    valgrind_prefix,
)
from runner.parsers import ParseError, parse_bytes, parse_path
from runner.schema import Profile, ResultRecord, Stats
from runner.suites import Suite

RecordKey = tuple[str, str, str, str]


@dataclass
class Side:
    """One commit checked out in its own tree, with the environment suites run in."""

    label: str
    commit: str
    tree: Path
    env: dict[str, str]
    samples: dict[RecordKey, list[ResultRecord]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, records: Sequence[ResultRecord]) -> None:
        for record in records:
            self.samples.setdefault(_key(record), []).append(record)

    def records(self) -> list[ResultRecord]:
        return [merge(group) for group in self.samples.values()]


def _key(record: ResultRecord) -> RecordKey:
    return (record.suite, record.name, json.dumps(record.params, sort_keys=True), record.measure)


@dataclass(frozen=True)
class Plan:
    """How to measure: which suites, how often, on which cores, which benchmarks."""

    suites: Sequence[Suite]
    machine: str
    repeats: int | None = None
    cpus: Sequence[int] | None = None
    benchmarks: Sequence[str] = ()
    # where the compiled callgrind client requests are kept between jobs
    tools_dir: Path | None = None
    # counted calls per benchmark under callgrind: the samples of its count
    instruction_rounds: int = 5


def measure(sides: Sequence[Side], plan: Plan, log: JobLog, work: Path) -> None:
    """Run every suite of ``plan`` on every side, interleaved; results land on the sides."""
    work.mkdir(parents=True, exist_ok=True)
    for suite in plan.suites:
        repeats = (plan.repeats or suite.repeats) if "time" in suite.measures else 0
        failed: set[str] = set()
        for repeat in range(repeats):
            for side in sides:
                if side.label in failed:
                    continue
                out = work / f"{suite.name}-{side.label}-{repeat}.json"
                log.note(
                    f"suite {suite.name}: {side.label} ({side.commit[:12]}) {repeat + 1}/{repeats}"
                )
                error = _one_process(suite, side, plan, log, out)
                if error:
                    side.errors.append(error)
                    failed.add(side.label)
        if "instructions" in suite.measures:
            for side in sides:
                if side.label in failed:
                    continue
                log.note(f"suite {suite.name}: {side.label} ({side.commit[:12]}) instructions")
                error = _instructions(suite, side, plan, log, work)
                if error:
                    side.errors.append(error)


def _one_process(suite: Suite, side: Side, plan: Plan, log: JobLog, out: Path) -> str | None:
    argv = [*no_aslr_prefix(), *suite_argv(suite, side, plan, out)]
    env = {**side.env, "BENCHWARDEN_OUTPUT": str(out)}
    start = log.size()
    done = run_command(argv, cwd=side.tree, log=log, timeout=suite.timeout, env=env, cpus=plan.cpus)
    if done.timed_out:
        return f"suite {suite.name} timed out after {suite.timeout:g}s on {side.commit[:12]}"
    if not done.ok:
        failed = f"suite {suite.name} exited with status {done.returncode} on {side.commit[:12]}"
        hint = missing_module_hint(log.since(start))
        if hint:
            log.note(hint)
        return f"{failed}; {hint}" if hint else failed
    try:
        records = _read_results(suite, side, out, plan.machine)
    except (ParseError, OSError) as exc:
        return f"suite {suite.name} wrote no readable results: {exc}"
    side.add(_selected(records, plan.benchmarks))
    return None


def suite_argv(suite: Suite, side: Side, plan: Plan, out: Path) -> list[str]:
    """The command line of one measuring process of ``suite``."""
    if suite.kind == "pytest-benchmark":
        return [*_pytest_argv(suite, plan), "--benchmark-only", f"--benchmark-json={out}"]
    if suite.kind == "asv":
        # asv refuses to run on a machine it has no description of; `asv machine
        # --yes` records one (idempotent) so a fresh runner needs no console step.
        machine = [
            "python",
            "-m",
            "asv",
            "machine",
            "--yes",
            f"--machine={plan.machine}",
            f"--config={suite.config}",
        ]
        run = [
            "python",
            "-m",
            "asv",
            "run",
            "--python=same",
            f"--set-commit-hash={side.commit}",
            f"--config={suite.config}",
            f"--machine={plan.machine}",
            *suite.args,
        ]
        return shell(f"{shlex.join(machine)} >/dev/null && {shlex.join(run)}")
    return shell(suite.command)


def _pytest_argv(suite: Suite, plan: Plan) -> list[str]:
    argv = ["python", "-m", "pytest", suite.target, "-q", "-p", "no:cacheprovider", *suite.args]
    if plan.benchmarks:
        argv += ["-k", " or ".join(plan.benchmarks)]
    return argv


def _read_results(suite: Suite, side: Side, out: Path, machine: str) -> list[ResultRecord]:
    if suite.kind == "asv":
        parsed = parse_path(side.tree / _asv_results_dir(side.tree / suite.config) / machine)
        runs = [r for r in parsed.runs if (r.commit or "").startswith(side.commit[:8])]
        if not runs:
            raise ParseError(f"asv stored no result for {side.commit[:12]}")
        results = runs[-1].results
    else:
        parsed = parse_bytes(out.read_bytes(), format=suite.format, filename=out.name)
        results = [r for run in parsed.runs for r in run.results]
    # Keep the suite's name for records the tool wrote without one.
    return [r if r.suite else r.model_copy(update={"suite": suite.name}) for r in results]


def _asv_results_dir(conf: Path) -> str:
    try:
        text = conf.read_text(encoding="utf-8")
        lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("//")]
        value = json.loads("\n".join(lines)).get("results_dir", "results")
    except (OSError, ValueError):
        return "results"
    return str(value)


def _selected(records: list[ResultRecord], names: Sequence[str]) -> list[ResultRecord]:
    return [r for r in records if not names or r.name in names]


def process_value(record: ResultRecord) -> float | None:
    """What one process measured: for time, its fastest round when the tool reports it.

    Interference (other processes, interrupts, frequency dips) only ever makes
    a round slower, so the minimum estimates the undisturbed cost best. On the
    2-core development VM the demo's ``checksum`` varies by 3.8 % (CV over 8
    processes) by its minimum against 7.5 % by its mean.
    """
    if record.measure == "time" and record.stats is not None and record.stats.min is not None:
        return record.stats.min
    return record.value


def merge(group: Sequence[ResultRecord]) -> ResultRecord:
    """One record from per-process records of the same benchmark and measure.

    Its value is the median of the per-process values (robust to one disturbed
    process); the per-process values are its samples.
    """
    ok = [r for r in group if r.status == "ok" and process_value(r) is not None]
    if not ok:
        return group[0]
    values = [float(v) for v in map(process_value, ok) if v is not None]
    return ok[0].model_copy(
        update={
            "value": statistics.median(values),
            "samples": values,
            "stats": Stats(
                mean=statistics.fmean(values),
                median=statistics.median(values),
                stddev=statistics.stdev(values) if len(values) > 1 else 0.0,
                min=min(values),
                max=max(values),
                rounds=len(values),
            ),
        }
    )


def _instructions(suite: Suite, side: Side, plan: Plan, log: JobLog, work: Path) -> str | None:
    """Add ``instructions`` records: per benchmark for pytest-benchmark, per process otherwise.

    Returns an error when counting failed: a suite that asks for instruction
    counts and gets none must say so, not report time alone.
    """
    if suite.kind == "pytest-benchmark":
        counted = pytest_instructions(suite, side, plan, log, work)
        if isinstance(counted, str):
            return counted
        side.add(counted)
        return None
    count = command_instructions(shell(suite.command), side, log, work, suite.timeout)
    if count is None:
        return f"suite {suite.name}: valgrind counted no instructions on {side.commit[:12]}"
    base = ResultRecord(suite=suite.name, name=suite.name, measure="time", unit="s")
    side.add([_as_instructions(base, count)])
    return None


def _as_instructions(record: ResultRecord, count: int) -> ResultRecord:
    return ResultRecord(
        suite=record.suite,
        name=record.name,
        params=record.params,
        measure="instructions",
        unit="instructions",
        value=float(count),
        samples=[float(count)],
    )


def pytest_instructions(
    suite: Suite, side: Side, plan: Plan, log: JobLog, work: Path
) -> list[ResultRecord] | str:
    """Instructions of each benchmark's body, from one process under callgrind.

    One record per counted round: :func:`merge` makes the rounds the samples of
    the benchmark's ``instructions`` value, as processes are for time (a count
    does not vary with the machine's load, so rounds in one process are as
    good as processes; bench_suites/test_instruction_counts.py measures both).
    An error message instead when the process or the count failed.
    """
    run = CallgrindRun(work / f"callgrind-{suite.name}-{side.label}")
    run.prepare()
    try:
        library = requests_library(plan.tools_dir or work)
        prefix = run.prefix(side.env.get("PATH"))
    except CallgrindUnavailable as exc:
        return f"suite {suite.name}: {exc}"
    argv = [*no_aslr_prefix(), *prefix, *_pytest_argv(suite, plan)]
    argv += ["--benchmark-disable", "-p", CALLGRIND_PLUGIN]
    path = os.pathsep.join(p for p in (str(PLUGIN_DIR), side.env.get("PYTHONPATH")) if p)
    env = {**side.env, **run.environment(library, plan.instruction_rounds), "PYTHONPATH": path}
    start = log.size()
    # callgrind runs uninstrumented code ~5x and counted bodies ~50x slower
    done = run_command(argv, cwd=side.tree, log=log, timeout=suite.timeout * 20, env=env)
    where = f"suite {suite.name} under callgrind on {side.commit[:12]}"
    if done.timed_out:
        return f"{where} timed out after {suite.timeout * 20:g}s"
    if not done.ok:
        hint = missing_module_hint(log.since(start))
        return f"{where} exited with status {done.returncode}" + (f"; {hint}" if hint else "")
    records = counted_records(run, suite.name, side.tree)
    if not records:
        return f"{where} counted no benchmark (does the suite use the benchmark fixture?)"
    return _selected(records, plan.benchmarks)


def counted_records(
    run: CallgrindRun, suite_name: str, tree: Path | None = None
) -> list[ResultRecord]:
    """The counts of ``run`` as ``instructions`` records, one per benchmark and round.

    Benchmarks are named by the pytest-benchmark parser from the identities
    the plugin wrote, so a count lands on the same benchmark as its time. The
    first round of each carries the benchmark's profile (files in ``tree``
    named relative to it).
    """
    counts = run.counts()
    entries = []
    for entry in run.benchmarks():
        rounds = [float(n) for n in counts.get(int(str(entry["number"])), [])]
        if rounds:
            stats = {"mean": statistics.median(rounds), "rounds": len(rounds), "data": rounds}
            entries.append({**entry, "stats": stats})
    if not entries:
        return []
    document = json.dumps({"benchmarks": entries}).encode()
    parsed = parse_bytes(document, format="pytest-benchmark", filename="callgrind.json")
    found = [r for one in parsed.runs for r in one.results]
    named = [r if r.suite else r.model_copy(update={"suite": suite_name}) for r in found]
    if len(named) == len(entries):
        profiles = _profiles(run, entries, str(tree or ""))
    else:
        profiles = [None] * len(named)
    out = []
    for record, profile in zip(named, profiles, strict=True):
        counted = [_as_instructions(record, int(n)) for n in record.samples or ()]
        if counted and profile is not None:
            # on the first round: merge() keeps the first record's fields
            counted[0] = counted[0].model_copy(update={"profile": profile})
        out += counted
    return out


def _profiles(
    run: CallgrindRun, entries: list[dict[str, object]], root: str
) -> list[Profile | None]:
    """Each benchmark's profile from its first counted round; None where a dump does not read.

    A profile explains a count and never replaces it: a dump this parser cannot
    read leaves the benchmark without one, its count stands.
    """
    dumps = run.profile_dumps()
    out: list[Profile | None] = []
    for entry in entries:
        path = dumps.get(int(str(entry["number"])))
        try:
            profile = parse_profile(path.read_bytes(), root=root) if path is not None else None
            out.append(profile)
        except (OSError, ProfileError):
            out.append(None)
    return out


def command_instructions(
    argv: list[str], side: Side, log: JobLog, work: Path, timeout: float
) -> int | None:
    """Total instructions of ``argv`` and every process it starts, under cachegrind."""
    logs = work / "cachegrind"
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    prefix = valgrind_prefix(logs / "cg.%p.log")
    done = run_command(
        [*prefix, "--trace-children=yes", *argv],
        cwd=side.tree,
        log=log,
        timeout=timeout * 50,  # cachegrind runs code 20-50x slower
        env={**side.env, "BENCHWARDEN_OUTPUT": str(work / "cachegrind-out.json")},
    )
    if not done.ok:
        return None
    counts = [read_instructions(p) for p in logs.glob("*.log")]
    return sum(c for c in counts if c is not None) or None
