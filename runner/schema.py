"""The wire contract between runners, the CLI and the service.

Parsers produce these records; `benchwarden parse` prints them; the ingest API
stores them. Both sides import this module so that a runner and the service can
never disagree on what a result is.

Units: time is always seconds (`unit="s"`), memory always bytes (`unit="B"`);
any other unit (ops/s, allocs, instructions, custom counters) is kept as written.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Direction = Literal["lower_is_better", "higher_is_better"]
ResultStatus = Literal["ok", "failed", "skipped"]

# A full or abbreviated git (SHA-1 or SHA-256) object name.
CommitSha = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{7,64}$")]

SECONDS = "s"
BYTES = "B"


def reject_nul(value: object) -> object:
    """``value`` unchanged, or ValueError when a string in it holds a NUL
    character: PostgreSQL can store no NUL in text or JSON, so such input is
    refused whole at the boundary instead of failing halfway through a write."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key)
            reject_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            reject_nul(item)
    return value


class _Text(BaseModel):
    """Base of the wire records: no NUL character anywhere (see :func:`reject_nul`)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        return reject_nul(value)


class Stats(BaseModel):
    """Summary statistics of one benchmark's samples, in the record's unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mean: float | None = None
    median: float | None = None
    stddev: float | None = None
    min: float | None = None
    max: float | None = None
    q1: float | None = None
    q3: float | None = None
    rounds: int | None = None

    @field_validator("mean", "median", "stddev", "min", "max", "q1", "q3")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("statistics must be finite numbers")
        return value


class ResultRecord(_Text):
    """One measure of one benchmark in one run.

    `value` is the representative value (mean for time measures unless the tool
    reports a better central estimate); `None` only when status is not ``ok``.
    `samples` holds raw per-repeat values when the tool wrote them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: str = ""
    name: str = Field(min_length=1, max_length=1000)
    params: dict[str, str] = Field(default_factory=dict)
    measure: str = Field(min_length=1, max_length=200)
    unit: str = Field(max_length=50)
    direction: Direction = "lower_is_better"
    value: float | None = None
    stats: Stats | None = None
    samples: list[float] | None = None
    status: ResultStatus = "ok"
    error: str | None = None

    @field_validator("value")
    @classmethod
    def _finite_value(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("value must be a finite number")
        return value

    @field_validator("samples")
    @classmethod
    def _finite_samples(cls, samples: list[float] | None) -> list[float] | None:
        if samples is not None and not all(math.isfinite(s) for s in samples):
            raise ValueError("samples must be finite numbers")
        return samples


class MachineInfo(_Text):
    """The fingerprint of the machine a run was measured on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    cpu_model: str | None = None
    cores: int | None = None
    memory_bytes: int | None = None
    os: str | None = None
    kernel: str | None = None
    python: str | None = None
    extra: dict[str, object] = Field(default_factory=dict)


class ParsedRun(_Text):
    """The results of one run as read from a file: one commit on one machine."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commit: str | None = None
    machine: MachineInfo | None = None
    started_at: str | None = None
    environment: str | None = None
    results: list[ResultRecord]


class ParseOutput(BaseModel):
    """What a parser returns for one input: its format name and one or more runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str
    runs: list[ParsedRun]


class RunPayload(_Text):
    """Metadata a submitter sends with a result file to create a run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: str = Field(min_length=1, max_length=200)
    commit: CommitSha
    branch: str | None = Field(default=None, max_length=255)
    parents: list[CommitSha] = Field(default_factory=list, max_length=64)
    commit_time: datetime | None = None
    commit_author: str | None = Field(default=None, max_length=500)
    commit_message: str | None = Field(default=None, max_length=20000)
    machine: MachineInfo | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    ci_url: str | None = Field(default=None, max_length=2000)
    pr_number: int | None = Field(default=None, ge=1)
    idempotency_key: str | None = Field(default=None, max_length=200)
    format: str | None = None
    source_name: str | None = Field(default=None, max_length=500)
    # Sent by runner machines with the runs of a job: the suite log (tail), the job
    # it belongs to, and how the benchmark environment was built. All optional.
    log: str | None = Field(default=None, max_length=200_000)
    job_id: int | None = Field(default=None, ge=1)
    environment: str | None = Field(default=None, max_length=500)

    @field_validator("parents")
    @classmethod
    def _lowercase(cls, parents: list[str]) -> list[str]:
        return [p.lower() for p in parents]
