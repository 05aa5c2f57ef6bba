"""Measuring suites: repeats interleaved across processes and commits, parsed and merged.

With several sides (the commits of an A/B or bisect job, each in its own work
tree) every repeat runs each side once before the next repeat starts
(A B A B ...), so slow drifts of the machine's state fall on both sides alike.
Each process contributes one sample per benchmark; the merged record's value
is the median of those per-process values, robust to one disturbed process.
"""

from __future__ import annotations

import json
import shlex
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
from runner.schema import ResultRecord, Stats
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


def measure(sides: Sequence[Side], plan: Plan, log: JobLog, work: Path) -> None:
    """Run every suite of ``plan`` on every side, interleaved; results land on the sides."""
    work.mkdir(parents=True, exist_ok=True)
    for suite in plan.suites:
        repeats = plan.repeats or suite.repeats
        failed: set[str] = set()
        known = {side.label: set(side.samples) for side in sides}
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
                if side.label not in failed:
                    new = [k for k in side.samples if k not in known[side.label]]
                    _instructions(suite, side, new, log, work)


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
        argv = ["python", "-m", "pytest", suite.target, "-q", "-p", "no:cacheprovider"]
        argv += ["--benchmark-only", f"--benchmark-json={out}", *suite.args]
        if plan.benchmarks:
            argv += ["-k", " or ".join(plan.benchmarks)]
        return argv
    if suite.kind == "asv":
        # asv refuses to run on a machine it has no description of; `asv machine
        # --yes` records one (idempotent) so a fresh runner needs no console step.
        machine = ["python", "-m", "asv", "machine", "--yes", f"--machine={plan.machine}",
                   f"--config={suite.config}"]  # fmt: skip
        run = [
            "python", "-m", "asv", "run", "--python=same", f"--set-commit-hash={side.commit}",
            f"--config={suite.config}", f"--machine={plan.machine}", *suite.args,
        ]  # fmt: skip
        return shell(f"{shlex.join(machine)} >/dev/null && {shlex.join(run)}")
    return shell(suite.command)


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


def _instructions(suite: Suite, side: Side, keys: list[RecordKey], log: JobLog, work: Path) -> None:
    """Add an ``instructions`` record per benchmark, counted once under cachegrind."""
    if suite.kind == "pytest-benchmark":
        for node, record in _pytest_nodes(side, keys):
            count = pytest_instructions(node, side.tree, side.env, log, work, suite.timeout)
            if count is not None:
                side.add([_as_instructions(record, count)])
        return
    count = command_instructions(shell(suite.command), side, log, work, suite.timeout)
    if count is not None:
        base = ResultRecord(suite=suite.name, name=suite.name, measure="time", unit="s")
        side.add([_as_instructions(base, count)])


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


def _pytest_nodes(side: Side, keys: list[RecordKey]) -> list[tuple[str, ResultRecord]]:
    """Node ids of the benchmarks behind ``keys``, with a record naming each."""
    nodes = []
    for key in keys:
        record = side.samples[key][0]
        if record.measure == "time":
            params = "[" + "-".join(record.params.values()) + "]" if record.params else ""
            nodes.append((f"{record.suite}::{record.name}{params}", record))
    return nodes


def pytest_instructions(
    node: str, tree: Path, env: dict[str, str], log: JobLog, work: Path, timeout: float
) -> int | None:
    """Instructions of one pytest benchmark body: its run minus a collect-only baseline.

    pytest-benchmark calls the function once when disabled; subtracting a
    process that only collects the same node removes interpreter and pytest
    start-up, which would otherwise dilute a change in the benchmark itself.
    """
    base = ["python", "-m", "pytest", node, "-q", "-p", "no:cacheprovider", "--benchmark-disable"]
    counts = []
    for extra in ([], ["--collect-only"]):
        side = Side("count", "", tree, env)
        counts.append(command_instructions([*base, *extra], side, log, work, timeout))
    run, baseline = counts
    if run is None or baseline is None:
        return None
    return max(run - baseline, 1)


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
