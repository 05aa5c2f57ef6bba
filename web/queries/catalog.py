"""Read-side lookups of projects, benchmarks and runs."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from web.models import Benchmark, Branch, Commit, Machine, Measure, Project, Result, Run


def list_projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.name)))


def list_benchmarks(session: Session, project_id: int, *, limit: int = 5000) -> list[Benchmark]:
    return list(
        session.scalars(
            select(Benchmark)
            .where(Benchmark.project_id == project_id)
            .order_by(Benchmark.suite, Benchmark.name, Benchmark.id)
            .limit(limit)
        )
    )


def count_rows(session: Session, project_id: int) -> dict[str, int]:
    runs = session.scalar(select(func.count()).where(Run.project_id == project_id)) or 0
    benchmarks = session.scalar(select(func.count()).where(Benchmark.project_id == project_id))
    return {"runs": runs, "benchmarks": benchmarks or 0}


def run_detail(session: Session, run_id: int) -> tuple[Run, Commit, Machine, Branch | None] | None:
    row = session.execute(
        select(Run, Commit, Machine, Branch)
        .join(Commit, Commit.id == Run.commit_id)
        .join(Machine, Machine.id == Run.machine_id)
        .outerjoin(Branch, Branch.id == Run.branch_id)
        .where(Run.id == run_id)
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


def run_results(session: Session, run_id: int) -> list[tuple[Result, Benchmark, str, str]]:

    rows = session.execute(
        select(Result, Benchmark, Measure.name, Measure.unit)
        .join(Benchmark, Benchmark.id == Result.benchmark_id)
        .join(Measure, Measure.id == Result.measure_id)
        .where(Result.run_id == run_id)
        .order_by(Result.id)
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]
