"""Response models of the API; the OpenAPI document is generated from these."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class ProjectOut(BaseModel):
    name: str
    public: bool
    default_branch: str
    repo_url: str | None


class ProjectList(BaseModel):
    projects: list[ProjectOut]


class BenchmarkOut(BaseModel):
    id: int
    suite: str
    name: str
    params: dict[str, str]
    display_name: str | None


class BenchmarkList(BaseModel):
    benchmarks: list[BenchmarkOut]


class SeriesOut(BaseModel):
    id: int
    benchmark_id: int
    benchmark: str
    suite: str
    params: dict[str, str]
    display_name: str | None
    measure: str
    unit: str
    direction: str
    machine: str
    branch: str


class SeriesList(BaseModel):
    series: list[SeriesOut]


class SeriesPoints(BaseModel):
    """Column-wise points, one per commit: entry i of every list belongs to point i.

    Several runs of one commit (re-runs, confirmation, bisection, A/B) are one
    point whose value is the median of their ok values, as the detector uses.
    """

    position: list[int]
    sha: list[str]
    time: list[float | None] = Field(description="commit time, Unix seconds")
    author: list[str | None]
    message: list[str | None] = Field(description="first line of the commit message")
    run_id: list[int] = Field(description="the commit's first run")
    value: list[float | None] = Field(description="median of the commit's ok runs")
    stddev: list[float | None] = Field(description="one run's stddev; null for several runs")
    min: list[float | None]
    max: list[float | None]
    status: list[str] = Field(description="ok when any run of the commit was ok")
    runs: list[list[int]] = Field(description="every run of the commit, oldest first")
    run_values: list[list[float | None]] = Field(description="each run's value (null: failed)")


class SeriesDetail(BaseModel):
    series: SeriesOut
    points: SeriesPoints


class MachineOut(BaseModel):
    name: str
    cpu_model: str | None
    cores: int | None
    memory_bytes: int | None
    os: str | None
    kernel: str | None
    python: str | None


class ResultOut(BaseModel):
    benchmark_id: int
    suite: str
    name: str
    params: dict[str, str]
    measure: str
    unit: str
    value: float | None
    stddev: float | None
    sample_count: int | None
    status: str
    error: str | None


class RunOut(BaseModel):
    id: int
    project: str
    commit: str
    branch: str | None
    machine: MachineOut
    status: str
    source_format: str
    ci_url: str | None
    pr_number: int | None
    created_at: str
    result_count: int
    url: str


class RunDetail(BaseModel):
    run: RunOut
    results: list[ResultOut]


class RunCreated(BaseModel):
    run: RunOut
    created: bool = Field(description="false when the idempotency key matched an earlier run")
