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

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

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


def _no_nul(text: str) -> str:
    reject_nul(text)
    return text


# Text as stored: no NUL character (see reject_nul).
Text = Annotated[str, AfterValidator(_no_nul)]


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


class ResultRecord(BaseModel):
    """One measure of one benchmark in one run.

    `value` is the representative value (mean for time measures unless the tool
    reports a better central estimate); `None` only when status is not ``ok``.
    `samples` holds raw per-repeat values when the tool wrote them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: Text = ""
    name: Text = Field(min_length=1, max_length=1000)
    params: dict[Text, Text] = Field(default_factory=dict)
    measure: Text = Field(min_length=1, max_length=200)
    unit: Text = Field(max_length=50)
    direction: Direction = "lower_is_better"
    value: float | None = None
    stats: Stats | None = None
    samples: list[float] | None = None
    status: ResultStatus = "ok"
    error: Text | None = None

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


class MachineInfo(BaseModel):
    """The fingerprint of the machine a run was measured on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    cpu_model: Text | None = None
    cores: int | None = None
    memory_bytes: int | None = None
    os: Text | None = None
    kernel: Text | None = None
    python: Text | None = None
    extra: dict[str, object] = Field(default_factory=dict)

    @field_validator("extra")
    @classmethod
    def _no_nul_inside(cls, extra: dict[str, object]) -> dict[str, object]:
        reject_nul(extra)
        return extra


class ParsedRun(BaseModel):
    """The results of one run as read from a file: one commit on one machine."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commit: Text | None = None
    machine: MachineInfo | None = None
    started_at: Text | None = None
    environment: Text | None = None
    results: list[ResultRecord]


class ParseOutput(BaseModel):
    """What a parser returns for one input: its format name and one or more runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str
    runs: list[ParsedRun]


class RunPayload(BaseModel):
    """Metadata a submitter sends with a result file to create a run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: Text = Field(min_length=1, max_length=200)
    commit: CommitSha
    branch: Text | None = Field(default=None, max_length=255)
    parents: list[CommitSha] = Field(default_factory=list, max_length=64)
    commit_time: datetime | None = None
    commit_author: Text | None = Field(default=None, max_length=500)
    commit_message: Text | None = Field(default=None, max_length=20000)
    machine: MachineInfo | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    ci_url: Text | None = Field(default=None, max_length=2000)
    pr_number: int | None = Field(default=None, ge=1)
    idempotency_key: Text | None = Field(default=None, max_length=200)
    format: Text | None = None
    source_name: Text | None = Field(default=None, max_length=500)
    # Sent by runner machines with the runs of a job: the suite log (tail), the job
    # it belongs to, and how the benchmark environment was built. All optional.
    log: Text | None = Field(default=None, max_length=200_000)
    job_id: int | None = Field(default=None, ge=1)
    environment: Text | None = Field(default=None, max_length=500)

    @field_validator("parents")
    @classmethod
    def _lowercase(cls, parents: list[str]) -> list[str]:
        return [p.lower() for p in parents]
