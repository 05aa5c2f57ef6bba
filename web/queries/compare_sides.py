"""What each side of a comparison stands on: its runs, their machines' pre-flight checks, samples.

A comparison is only as good as its inputs: a side measured on a machine whose
pre-flight checks failed (load, governor, turbo, busy processes; see
``runner.preflight``) or with one sample per benchmark can show +74% from
noise alone. These facts let the page say so next to the numbers.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from web.models import Commit, Machine, Result, Run

FEW_SAMPLES = 5  # fewer per benchmark and one noisy value can decide (see services.inconclusive)


@dataclass(frozen=True)
class NoisyRun:
    run_id: int
    machine: str
    problems: list[str]


@dataclass(frozen=True)
class Side:
    runs: int
    machines: list[str]
    noisy: list[NoisyRun] = field(default_factory=list)
    median_samples: float | None = None

    @property
    def few_samples(self) -> bool:
        return self.median_samples is not None and self.median_samples < FEW_SAMPLES


def preflight_problems(snapshot: dict[str, object] | None) -> list[str]:
    """The failed pre-flight checks a run recorded (``machine_snapshot.extra.preflight``)."""
    extra = (snapshot or {}).get("extra")
    preflight = extra.get("preflight") if isinstance(extra, dict) else None
    problems = preflight.get("problems") if isinstance(preflight, dict) else None
    return [str(p) for p in problems] if isinstance(problems, list) else []


def commit_side(
    session: Session, project_id: int, commit: Commit, machine: str | None
) -> Side | None:
    query = _runs().where(Run.project_id == project_id, Run.commit_id == commit.id)
    if machine:
        query = query.where(Machine.name == machine)
    return _side(session, query)


def run_side(session: Session, project_id: int, run_id: int) -> Side | None:
    return _side(session, _runs().where(Run.project_id == project_id, Run.id == run_id))


def _runs() -> Select:  # type: ignore[type-arg]
    return select(Run.id, Machine.name, Run.machine_snapshot).join(
        Machine, Machine.id == Run.machine_id
    )


def _side(session: Session, query: Select) -> Side | None:  # type: ignore[type-arg]
    runs = session.execute(query.order_by(Run.id).limit(200)).all()
    if not runs:
        return None
    noisy = [
        NoisyRun(run_id, name, problems)
        for run_id, name, snapshot in runs
        if (problems := preflight_problems(snapshot))
    ]
    counts = session.execute(
        select(
            Result.benchmark_id,
            Result.measure_id,
            Result.samples,
            Result.sample_count,
            Result.rounds,
        ).where(Result.run_id.in_([r[0] for r in runs]), Result.status == "ok")
    )
    # Samples per benchmark and measure, pooled over the side's runs as the comparison pools them.
    pooled: dict[tuple[int, int], int] = {}
    for bench, measure, samples, sample_count, rounds in counts:
        n = len(samples) if samples else (sample_count or rounds or 1)
        pooled[(bench, measure)] = pooled.get((bench, measure), 0) + n
    median = float(statistics.median(pooled.values())) if pooled else None
    return Side(len(runs), sorted({r[1] for r in runs}), noisy, median)
