"""Benchmarks, measures, series and the results that fill them.

A series is (benchmark, measure, machine, branch). Each result row carries its
series id and its commit's position on the branch, so reading one series is a
single range scan of ``ix_result_series_position`` on either engine.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from web.models.base import Base, BigId, JsonDoc, UTCDateTime

DIRECTIONS = ("lower_is_better", "higher_is_better")


class Benchmark(Base):
    __tablename__ = "benchmark"
    __table_args__ = (UniqueConstraint("project_id", "suite", "name", "params_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    suite: Mapped[str] = mapped_column(String(500), default="")
    name: Mapped[str] = mapped_column(String(1000))
    params: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)
    # Canonical text of params (sorted JSON) so the unique key is comparable on every engine.
    params_key: Mapped[str] = mapped_column(String(2000), default="{}")
    display_name: Mapped[str | None] = mapped_column(String(1000))
    # A renamed/merged benchmark points at the one whose history it continues.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("benchmark.id"))


class Measure(Base):
    __tablename__ = "measure"
    __table_args__ = (UniqueConstraint("project_id", "name", "unit"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(50))
    direction: Mapped[str] = mapped_column(String(20), default="lower_is_better")


class Series(Base):
    __tablename__ = "series"
    __table_args__ = (
        UniqueConstraint("benchmark_id", "measure_id", "machine_id", "branch_id"),
        # The target of result's composite key (see Result); an index, not a
        # constraint, for SQLite's sake (see migration 0010).
        Index(
            "uq_series_id_benchmark_id_measure_id", "id", "benchmark_id", "measure_id", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmark.id", ondelete="CASCADE"))
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id", ondelete="CASCADE"))
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id", ondelete="CASCADE"))
    # Filled by detection: robust relative noise, stability flag, and the time of the last pass.
    noise: Mapped[float | None] = mapped_column(Float)
    unstable: Mapped[bool] = mapped_column(Boolean, default=False)
    latest_change: Mapped[float | None] = mapped_column(Float)
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Result(Base):
    """One benchmark's numbers in one run.

    benchmark_id, measure_id and commit_id copy what the series and the run
    already say, so two composite keys check them against their source instead
    of five single ones against benchmark, measure and commit: a result cannot
    disagree with its run or its series, and a bulk load checks two keys a row
    instead of five (about twice the rows a second on PostgreSQL). Deleting a
    commit, benchmark or measure still removes its results, through the run's
    and the series' own cascades.
    """

    __tablename__ = "result"
    __table_args__ = (
        ForeignKeyConstraint(
            ["run_id", "commit_id"], ["run.id", "run.commit_id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["series_id", "benchmark_id", "measure_id"],
            ["series.id", "series.benchmark_id", "series.measure_id"],
            ondelete="CASCADE",
        ),
        Index("ix_result_series_position", "series_id", "position"),
        Index("ix_result_run", "run_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(BigId)
    series_id: Mapped[int] = mapped_column(BigId)
    benchmark_id: Mapped[int] = mapped_column(BigId)
    measure_id: Mapped[int] = mapped_column(BigId)
    commit_id: Mapped[int] = mapped_column(BigId)
    position: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float)
    mean: Mapped[float | None] = mapped_column(Float)
    median: Mapped[float | None] = mapped_column(Float)
    stddev: Mapped[float | None] = mapped_column(Float)
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)
    q1: Mapped[float | None] = mapped_column(Float)
    q3: Mapped[float | None] = mapped_column(Float)
    rounds: Mapped[int | None] = mapped_column(BigInteger)
    sample_count: Mapped[int | None] = mapped_column(Integer)
    samples: Mapped[list[float] | None] = mapped_column(JsonDoc)
    status: Mapped[str] = mapped_column(String(10), default="ok")
    error: Mapped[str | None] = mapped_column(Text)
