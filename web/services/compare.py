"""Compare two commits (or two runs) of a project, benchmark by benchmark.

Pure read plus numerics: results are gathered per (benchmark, measure, machine),
compared with :func:`detector.compare.compare_many` so the verdicts control the
false-discovery rate across the whole comparison (Benjamini & Hochberg 1995),
and returned sorted by impact. Used by the dashboard and the PR-comment bot.

Which statistics a row uses, per side:
  * raw samples when both sides have at least two (Mann–Whitney + bootstrap CI);
  * otherwise mean/stddev/n summaries when both sides have them (Welch's t);
    a side with samples is summarised so the two kinds meet;
  * otherwise single values: no test is possible, so the row is ``inconclusive``
    unless the values are identical (``no_change``); its CI and p-value are NaN.
An inconclusive row says why and what to change (``ComparisonRow.why``, see
``web.services.inconclusive``). Single values are medians, as a commit's point.
Benchmarks merged into another (renames) are compared under the survivor.
Wall times measured by a noisy run (failed pre-flight checks) are left out of a
comparison of commits unless asked for, as detection leaves them out; the
comparison counts what it left out so the page can say so. Two runs named by
id are compared as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from detector.compare import compare_many
from detector.types import Comparison, SummaryStats, Thresholds, Verdict
from web.models import Benchmark, Commit, Machine, Measure, Project, Result, Run
from web.models.naming import benchmark_label
from web.models.project_settings import ProjectSettings
from web.queries.noisy_runs import noisy_time
from web.services.inconclusive import Evidence, Inconclusive, explain

Key = tuple[int, int, int | None]  # (benchmark id, measure id, machine id or None)
_IMPACT_ORDER = {
    Verdict.REGRESSION: 0,
    Verdict.IMPROVEMENT: 1,
    Verdict.INCONCLUSIVE: 2,
    Verdict.NO_CHANGE: 3,
}


class CompareError(ValueError):
    """The comparison cannot be made as asked (unknown commit or run)."""


@dataclass(frozen=True)
class ComparisonRow:
    benchmark_id: int
    name: str
    suite: str
    params: dict[str, str]
    measure: str
    unit: str
    direction: str
    machine: str | None
    baseline_center: float
    candidate_center: float
    comparison: Comparison
    basis: str  # "samples" | "summary" | "single"
    why: Inconclusive | None = None  # set on inconclusive rows only

    @property
    def label(self) -> str:
        """The benchmark's name with its params (parametrized rows differ only there)."""
        return benchmark_label(self.name, self.params)


@dataclass(frozen=True)
class MissingBenchmark:
    benchmark_id: int
    name: str
    suite: str
    measure: str
    machine: str | None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return benchmark_label(self.name, self.params)


@dataclass(frozen=True)
class CommitComparison:
    baseline: str
    candidate: str
    machine: str | None
    rows: list[ComparisonRow]
    only_in_baseline: list[MissingBenchmark] = field(default_factory=list)
    only_in_candidate: list[MissingBenchmark] = field(default_factory=list)
    noisy_left_out: int = 0  # wall-time results of noisy runs not compared

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.rows if r.comparison.verdict == verdict)

    def reasons(self) -> list[tuple[str, int, str]]:
        """(reason, how many rows, what to change) of the inconclusive rows, commonest first."""
        found: dict[str, tuple[int, str]] = {}
        for row in self.rows:
            if row.why is not None:
                count, _ = found.get(row.why.reason, (0, ""))
                found[row.why.reason] = (count + 1, row.why.advice)
        ordered = sorted(found.items(), key=lambda item: -item[1][0])
        return [(reason, count, advice) for reason, (count, advice) in ordered]


@dataclass
class _Side:
    samples: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    summaries: list[SummaryStats] = field(default_factory=list)
    single_sample: int = 0  # results (processes) that measured one sample only


@dataclass(frozen=True)
class _Meta:
    benchmark_id: int
    name: str
    suite: str
    params: dict[str, str]
    measure: str
    unit: str
    direction: str
    machine: str | None


def compare_commits(
    session: Session,
    project_id: int,
    baseline_sha: str,
    candidate_sha: str,
    machine: str | None = None,
    *,
    thresholds: Thresholds | None = None,
    include_noisy: bool = False,
) -> CommitComparison:
    """Every benchmark measured at both commits (on ``machine`` when given).

    Several runs of one commit pool their samples; times from noisy runs only
    with ``include_noisy``. Raises CompareError when a commit has no results in
    the project.
    """
    base_runs = _runs_of_commit(session, project_id, baseline_sha, machine)
    cand_runs = _runs_of_commit(session, project_id, candidate_sha, machine)
    return _compare(
        session,
        project_id,
        base_runs,
        cand_runs,
        baseline_sha,
        candidate_sha,
        machine,
        True,
        thresholds,
        include_noisy,
    )


def compare_runs(
    session: Session,
    project_id: int,
    baseline_run_id: int,
    candidate_run_id: int,
    *,
    thresholds: Thresholds | None = None,
) -> CommitComparison:
    """Two runs of the project, benchmark by benchmark, whatever machines they ran on."""
    for run_id in (baseline_run_id, candidate_run_id):
        run = session.get(Run, run_id)
        if run is None or run.project_id != project_id:
            raise CompareError(f"run {run_id} does not exist in this project")
    return _compare(
        session,
        project_id,
        [baseline_run_id],
        [candidate_run_id],
        f"run {baseline_run_id}",
        f"run {candidate_run_id}",
        None,
        False,
        thresholds,
        True,
    )


def _runs_of_commit(session: Session, project_id: int, sha: str, machine: str | None) -> list[int]:
    sha = sha.strip().lower()
    query = (
        select(Run.id)
        .join(Commit, Commit.id == Run.commit_id)
        .where(Run.project_id == project_id, Commit.project_id == project_id)
    )
    query = (
        query.where(Commit.sha == sha)
        if len(sha) >= 40
        else query.where(Commit.sha.startswith(sha, autoescape=True))
    )
    if machine:
        query = query.join(Machine, Machine.id == Run.machine_id).where(Machine.name == machine)
    runs = list(session.scalars(query))
    if len(sha) < 7 or not runs:
        where = f" on machine {machine!r}" if machine else ""
        raise CompareError(f"no runs of commit {sha!r}{where} in this project")
    return runs


def _compare(
    session: Session,
    project_id: int,
    base_runs: list[int],
    cand_runs: list[int],
    base_label: str,
    cand_label: str,
    machine: str | None,
    by_machine: bool,
    thresholds: Thresholds | None,
    include_noisy: bool,
) -> CommitComparison:
    if thresholds is None:  # the project's, as for alerts and PR reports
        project = session.get(Project, project_id)
        thresholds = ProjectSettings.of(project).thresholds() if project else None
    survivors = _survivors(session, project_id)
    meta: dict[Key, _Meta] = {}
    gathered = _Gathered(meta, survivors, by_machine, include_noisy)
    base = gathered.sides(session, base_runs)
    cand = gathered.sides(session, cand_runs)
    common = sorted(set(base) & set(cand), key=lambda k: _sort_name(meta[k]))
    rows = _rows(common, base, cand, meta, thresholds)
    rows.sort(key=lambda r: (_IMPACT_ORDER[r.comparison.verdict], -_magnitude(r)))
    return CommitComparison(
        baseline=base_label,
        candidate=cand_label,
        machine=machine,
        rows=rows,
        only_in_baseline=_missing(set(base) - set(cand), meta),
        only_in_candidate=_missing(set(cand) - set(base), meta),
        noisy_left_out=gathered.left_out,
    )


def _sort_name(m: _Meta) -> tuple[str, str, str, str]:
    return (m.suite, m.name, m.measure, m.machine or "")


def _magnitude(row: ComparisonRow) -> float:
    rel = row.comparison.rel_change
    return abs(rel) if math.isfinite(rel) else math.inf


def _missing(keys: set[Key], meta: dict[Key, _Meta]) -> list[MissingBenchmark]:
    items = sorted(keys, key=lambda k: _sort_name(meta[k]))
    return [
        MissingBenchmark(
            meta[k].benchmark_id,
            meta[k].name,
            meta[k].suite,
            meta[k].measure,
            meta[k].machine,
            meta[k].params,
        )
        for k in items
    ]


def _survivors(session: Session, project_id: int) -> dict[int, int]:
    """benchmark id -> the id it was (transitively) merged into, for merged ones."""
    rows = session.execute(
        select(Benchmark.id, Benchmark.merged_into_id).where(
            Benchmark.project_id == project_id, Benchmark.merged_into_id.is_not(None)
        )
    )
    parent: dict[int, int] = {row[0]: int(row[1]) for row in rows}
    out: dict[int, int] = {}
    for bench_id in parent:
        seen, current = {bench_id}, parent[bench_id]
        while current in parent and parent[current] not in seen:
            seen.add(current)
            current = parent[current]
        out[bench_id] = current
    return out


@dataclass
class _Gathered:
    """Reads each side's results into ``meta``; counts the noisy times it leaves out."""

    meta: dict[Key, _Meta]
    survivors: dict[int, int]
    by_machine: bool
    include_noisy: bool
    left_out: int = 0

    def sides(self, session: Session, run_ids: list[int]) -> dict[Key, _Side]:
        rows = session.execute(
            select(Result, Benchmark, Measure, Machine.id, Machine.name, noisy_time())
            .join(Run, Run.id == Result.run_id)
            .join(Machine, Machine.id == Run.machine_id)
            .join(Measure, Measure.id == Result.measure_id)
            .join(Benchmark, Benchmark.id == survivors_target(Result.benchmark_id, self.survivors))
            .where(Result.run_id.in_(run_ids), Result.status == "ok", Result.value.is_not(None))
        ).all()
        sides: dict[Key, _Side] = {}
        for result, bench, measure, machine_id, machine_name, noisy in rows:
            if noisy and not self.include_noisy:
                self.left_out += 1
                continue
            key: Key = (bench.id, measure.id, machine_id if self.by_machine else None)
            if key not in self.meta:
                self.meta[key] = _Meta(
                    bench.id,
                    bench.display_name or bench.name,
                    bench.suite,
                    bench.params,
                    measure.name,
                    measure.unit,
                    measure.direction,
                    machine_name if self.by_machine else None,
                )
            _add(sides.setdefault(key, _Side()), result)
        return sides


def survivors_target(column, survivors: dict[int, int]):  # type: ignore[no-untyped-def]
    """SQL expression mapping a benchmark id column to its merge survivor."""
    if not survivors:
        return column
    return case(survivors, value=column, else_=column)


def _add(side: _Side, result: Result) -> None:
    assert result.value is not None
    side.values.append(float(result.value))
    if result.samples:
        side.samples.extend(float(v) for v in result.samples)
    n = result.sample_count or result.rounds
    if len(result.samples or ()) <= 1 and (n or 1) <= 1:
        side.single_sample += 1
    if result.stddev is not None and n and n >= 2:
        centre = result.mean if result.mean is not None else result.value
        side.summaries.append(SummaryStats(float(centre), float(result.stddev), int(n)))


def _rows(
    keys: list[Key],
    base: dict[Key, _Side],
    cand: dict[Key, _Side],
    meta: dict[Key, _Meta],
    thresholds: Thresholds | None,
) -> list[ComparisonRow]:
    pairs: dict[str, tuple[object, object]] = {}
    bases: dict[str, str] = {}
    singles: list[Key] = []
    for key in keys:
        chosen = _choose(base[key], cand[key])
        if chosen is None:
            singles.append(key)
        else:
            pairs[repr(key)], bases[repr(key)] = (chosen[0], chosen[1]), chosen[2]
    lower = {repr(k): meta[k].direction != "higher_is_better" for k in keys}
    results = (
        compare_many(pairs, lower_is_better={n: lower[n] for n in pairs}, thresholds=thresholds)  # type: ignore[arg-type]
        if pairs
        else {}
    )
    rows = []
    for key in keys:
        name = repr(key)
        if name in results:
            comparison, basis = results[name], bases[name]
        else:
            comparison, basis = _single(base[key], cand[key]), "single"
        why = explain(comparison, basis, _evidence(base[key], cand[key], basis), thresholds)
        rows.append(_row(meta[key], comparison, basis, why))
    return rows


def _evidence(b: _Side, c: _Side, basis: str) -> Evidence:
    """How many samples each side brought to the test, and whether each process gave one."""

    def count(side: _Side) -> int:
        if basis == "samples":
            return len(side.samples)
        summary = _as_summary(side)
        return summary.n if basis == "summary" and summary is not None else len(side.values)

    one_each = all(s.single_sample == len(s.values) for s in (b, c))
    return Evidence(count(b), count(c), one_each)


def _row(m: _Meta, c: Comparison, basis: str, why: Inconclusive | None) -> ComparisonRow:
    return ComparisonRow(
        m.benchmark_id,
        m.name,
        m.suite,
        m.params,
        m.measure,
        m.unit,
        m.direction,
        m.machine,
        c.baseline_center,
        c.candidate_center,
        c,
        basis,
        why,
    )


def _choose(b: _Side, c: _Side) -> tuple[object, object, str] | None:
    """The statistics both sides can be compared with, or None for single values."""
    b_stats, c_stats = _as_summary(b), _as_summary(c)
    if len(b.samples) >= 2 and len(c.samples) >= 2:
        if float(np.median(b.samples)) != 0.0:
            return b.samples, c.samples, "samples"
        return None
    if b_stats is not None and c_stats is not None and b_stats.mean != 0.0:
        return b_stats, c_stats, "summary"
    return None


def _as_summary(side: _Side) -> SummaryStats | None:
    if len(side.samples) >= 2:
        arr = np.asarray(side.samples)
        return SummaryStats(float(arr.mean()), float(arr.std(ddof=1)), int(arr.size))
    if len(side.summaries) == 1:
        return side.summaries[0]
    if len(side.values) >= 2:  # several runs without samples: each run is one sample
        arr = np.asarray(side.values)
        return SummaryStats(float(arr.mean()), float(arr.std(ddof=1)), int(arr.size))
    return None


def _single(b: _Side, c: _Side) -> Comparison:
    # The median, as a commit's point is valued (one run: its value).
    base, cand = float(np.median(b.values)), float(np.median(c.values))
    same = base == cand
    rel = 0.0 if same else (cand / base - 1.0 if base != 0.0 else math.copysign(math.inf, cand))
    direction = "none" if same else ("increase" if cand > base else "decrease")
    nan = math.nan
    return Comparison(
        rel,
        nan,
        nan,
        nan,
        nan,
        direction,  # type: ignore[arg-type]
        Verdict.NO_CHANGE if same else Verdict.INCONCLUSIVE,
        nan,
        base,
        cand,
        "single",
    )
