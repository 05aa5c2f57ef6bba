"""The wire contract between runners, the CLI and the service.

Parsers produce these records; `benchwarden parse` prints them; the ingest API
stores them. Both sides import this module so that a runner and the service can
never disagree on what a result is.

Units: time is always seconds (`unit="s"`), memory always bytes (`unit="B"`);
any other unit (ops/s, allocs, instructions, custom counters) is kept as written.

Limits: every length, range and nesting limit the service's database enforces
is declared here, so a submission is refused (422) before it reaches any
database, and SQLite (which would store anything) and PostgreSQL answer the
same. ``tests/web/test_wire_limits.py`` keeps them equal to the column types.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Direction = Literal["lower_is_better", "higher_is_better"]
ResultStatus = Literal["ok", "failed", "skipped"]

# A full or abbreviated git (SHA-1 or SHA-256) object name.
CommitSha = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{7,64}$")]

SECONDS = "s"
BYTES = "B"
# Units whose values cannot be negative: a duration or a size below zero is a broken tool.
NON_NEGATIVE_UNITS = frozenset({SECONDS, BYTES})

INT32_MAX = 2**31 - 1  # INTEGER columns (pr_number, cores, a result's sample count)
INT64_MAX = 2**63 - 1  # BIGINT columns and row ids
MAX_EXTRA_DEPTH = 16  # nesting of a machine's free-form ``extra`` document
MAX_PARAMS_KEY = 2000  # characters of a benchmark's canonical params (params_key)

# A whole number that fits the column it is stored in.
Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
Int64 = Annotated[int, Field(ge=0, le=INT64_MAX)]
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]


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


def check_json_document(value: object, max_depth: int = MAX_EXTRA_DEPTH) -> None:
    """Raise ValueError unless ``value`` is a JSON document every engine stores
    alike: no NUL in any string, only finite numbers (PostgreSQL's JSON has no
    NaN), and arrays/objects nested at most ``max_depth`` deep (a deeper one
    exhausts the recursion of the code that stores or shows it)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            reject_nul(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite (no NaN or Infinity)")
        elif isinstance(item, dict | list | tuple):
            if depth >= max_depth:
                raise ValueError(f"nested deeper than {max_depth} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC (a naive value is taken as UTC already); ValueError when
    the conversion leaves the years 1-9999 (``0001-01-01T00:30+01:00``)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time lies outside the years 1-9999 in UTC") from None


# A point in time, stored in UTC.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


def params_key(params: dict[str, str]) -> str:
    """The canonical text of a benchmark's params, as stored in its unique key."""
    return json.dumps(params, sort_keys=True, ensure_ascii=False)


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
    # Also the sample count when no samples are sent, so it fits that INTEGER column.
    rounds: Int32 | None = None

    @field_validator("mean", "median", "stddev", "min", "max", "q1", "q3")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("statistics must be finite numbers")
        return value

    @field_validator("stddev")
    @classmethod
    def _spread(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError("a standard deviation cannot be negative")
        return value

    def central_values(self) -> list[float]:
        """The statistics in the record's unit (not the spread or the count)."""
        found = (self.mean, self.median, self.min, self.max, self.q1, self.q3)
        return [v for v in found if v is not None]


MAX_PROFILE_FUNCTIONS = 500  # functions in one result's profile


class ProfileFunction(BaseModel):
    """One function of a profile: instructions in its own code and in everything it calls."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    function: Text = Field(min_length=1, max_length=2000)
    file: Text = Field(default="", max_length=1000)
    line: Int32 = Field(default=0, description="first line with a cost; 0 when unknown")
    self_instructions: Int64
    inclusive_instructions: Int64


class Profile(BaseModel):
    """Where one benchmark's counted instructions went: its most expensive functions.

    ``total`` is every instruction of the counted call; ``functions`` keeps only
    the top ones (by inclusive and by self count), so their self counts add up
    to at most ``total``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    total: Int64
    functions: list[ProfileFunction] = Field(default_factory=list, max_length=MAX_PROFILE_FUNCTIONS)


class ResultRecord(BaseModel):
    """One measure of one benchmark in one run.

    `value` is the representative value (mean for time measures unless the tool
    reports a better central estimate); `None` only when status is not ``ok``.
    `samples` holds raw per-repeat values when the tool wrote them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    suite: Text = Field(default="", max_length=500)
    name: Text = Field(min_length=1, max_length=1000)
    params: dict[Text, Text] = Field(
        default_factory=dict,
        description=f"stored as sorted JSON of at most {MAX_PARAMS_KEY} characters",
    )
    measure: Text = Field(min_length=1, max_length=200)
    unit: Text = Field(max_length=50)
    direction: Direction = "lower_is_better"
    value: float | None = None
    stats: Stats | None = None
    samples: list[float] | None = None
    status: ResultStatus = "ok"
    error: Text | None = None
    # Left out of the JSON when absent, so records without one read and hash as before.
    profile: Profile | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="per-function instructions of an instructions record (optional)",
    )

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

    @field_validator("params")
    @classmethod
    def _params_fit(cls, params: dict[str, str]) -> dict[str, str]:
        if len(params_key(params)) > MAX_PARAMS_KEY:
            raise ValueError(f"params take over {MAX_PARAMS_KEY} characters as sorted JSON")
        return params

    @model_validator(mode="after")
    def _not_negative(self) -> ResultRecord:
        """A duration or a size below zero is refused (other units may be negative)."""
        if self.unit not in NON_NEGATIVE_UNITS:
            return self
        values = [*([] if self.value is None else [self.value]), *(self.samples or ())]
        values += self.stats.central_values() if self.stats else []
        if any(v < 0 for v in values):
            raise ValueError(f"values in unit {self.unit!r} cannot be negative")
        return self


class MachineInfo(BaseModel):
    """The fingerprint of the machine a run was measured on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    cpu_model: Text | None = Field(default=None, max_length=500)
    cores: Int32 | None = None
    memory_bytes: Int64 | None = None
    os: Text | None = Field(default=None, max_length=500)
    kernel: Text | None = Field(default=None, max_length=500)
    python: Text | None = Field(default=None, max_length=200)
    extra: dict[str, object] = Field(
        default_factory=dict,
        description=f"free-form JSON: finite numbers, nested at most {MAX_EXTRA_DEPTH} deep",
    )

    @field_validator("extra")
    @classmethod
    def _storable(cls, extra: dict[str, object]) -> dict[str, object]:
        check_json_document(extra)
        return extra


class ParsedRun(BaseModel):
    """The results of one run as read from a file: one commit on one machine."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commit: Text | None = None
    machine: MachineInfo | None = None
    started_at: Text | None = None
    environment: Text | None = Field(default=None, max_length=500)
    results: list[ResultRecord]

    @field_validator("started_at")
    @classmethod
    def _in_range(cls, value: str | None) -> str | None:
        # Only a time that converts is checked here; one that does not parse at
        # all is refused when stored (see web.services.ingest).
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
        except ValueError:
            return value
        if parsed is not None:
            as_utc(parsed)
        return value


class ParseOutput(BaseModel):
    """What a parser returns for one input: its format name and one or more runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = Field(max_length=50)
    runs: list[ParsedRun]


class RunPayload(BaseModel):
    """Metadata a submitter sends with a result file to create a run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: Text = Field(min_length=1, max_length=200)
    commit: CommitSha
    branch: Text | None = Field(default=None, max_length=255)
    parents: list[CommitSha] = Field(default_factory=list, max_length=64)
    commit_time: UtcDatetime | None = None
    commit_author: Text | None = Field(default=None, max_length=500)
    commit_message: Text | None = Field(default=None, max_length=20000)
    machine: MachineInfo | None = None
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = Field(default=None, description="not before started_at")
    ci_url: Text | None = Field(default=None, max_length=2000)
    pr_number: int | None = Field(default=None, ge=1, le=INT32_MAX)
    idempotency_key: Text | None = Field(default=None, max_length=200)
    format: Text | None = Field(default=None, max_length=50)
    source_name: Text | None = Field(default=None, max_length=500)
    # Sent by runner machines with the runs of a job: the suite log (tail), the job
    # it belongs to, and how the benchmark environment was built. All optional.
    log: Text | None = Field(default=None, max_length=200_000)
    job_id: Id | None = None
    environment: Text | None = Field(default=None, max_length=500)

    @field_validator("parents")
    @classmethod
    def _lowercase(cls, parents: list[str]) -> list[str]:
        return [p.lower() for p in parents]

    @model_validator(mode="after")
    def _no_negative_duration(self) -> RunPayload:
        if self.started_at and self.finished_at and self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        return self


# --- Runner jobs: the messages between the service and runner machines. ---
# Both sides import these names; neither writes them out again.
RUN_JOB_TASK = "benchwarden.run_job"
JOB_FINISHED_TASK = "benchwarden.job_finished"
JOB_KINDS = ("run", "ab", "confirm", "bisect")
JobKind = Literal["run", "ab", "confirm", "bisect"]
JobState = Literal["running", "done", "failed"]
# Where suites from outside a commit came from, when the message does not say.
DEFAULT_SUITES_ORIGIN = "project config"


def bench_queue(machine: str) -> str:
    """The broker queue a runner serving ``machine`` consumes."""
    return f"bench.{machine}"


class JobSpec(BaseModel):
    """What a runner is told to do: one job, one or more commits measured interleaved.

    Sent by name (`RUN_JOB_TASK`) to `bench_queue` of the job's machine. The
    message of a service older or newer than the runner still parses: unknown
    keys are ignored, every field added later has a default, and the old
    single ``commit`` key stands for ``commits``. ``token`` (the job's own write
    token) travels only in the message and is never stored.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    job_id: Id
    kind: JobKind = "run"
    project: Text = Field(min_length=1, max_length=200)
    repo_url: Text = Field(min_length=1, max_length=2000)
    commits: tuple[CommitSha, ...] = Field(min_length=1, max_length=1000)
    branch: Text | None = Field(default=None, max_length=255)
    pr_number: int | None = Field(default=None, ge=1, le=INT32_MAX)
    suites: tuple[str, ...] = ()
    benchmarks: tuple[str, ...] = ()
    repeats: int | None = Field(default=None, ge=1, le=10_000)
    # Suites from outside the commit (TOML): ``schedule --config`` or the project's
    # stored suites; ``suites_config_wins`` puts them above the commit's own file.
    suites_config: str | None = None
    suites_origin: str = DEFAULT_SUITES_ORIGIN
    suites_config_wins: bool = False
    # The service's reference to the job's token row, so it can revoke it.
    token_id: Id | None = None
    token: str | None = Field(default=None, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _single_commit(cls, raw: object) -> object:
        if isinstance(raw, dict) and not raw.get("commits") and raw.get("commit"):
            return {**raw, "commits": [raw["commit"]]}
        return raw

    @field_validator("suites_origin", mode="before")
    @classmethod
    def _origin_or_default(cls, value: object) -> object:
        return value or DEFAULT_SUITES_ORIGIN

    def key(self, commit: str) -> str:
        """The upload's idempotency key: the job and the commit, never the attempt."""
        return f"job-{self.job_id}" if len(self.commits) == 1 else f"job-{self.job_id}-{commit}"

    def stored(self) -> dict[str, object]:
        """The spec as the service keeps it: everything but the secret."""
        return self.model_dump(mode="json", exclude={"token"})

    def message(self) -> dict[str, object]:
        """The broker message: the stored spec and the job's token."""
        return self.model_dump(mode="json")


LOG_TAIL_MAX = 20_000
ERROR_MAX = 20_000


class JobReport(BaseModel):
    """A runner's report on a job (``POST /api/v1/jobs/<id>/state``).

    ``running`` counts an attempt; ``done`` and ``failed`` carry the runs the
    job stored (commit sha -> run id), its log tail and error.
    """

    # As the spec: a report of a newer runner, with fields added later, still parses.
    model_config = ConfigDict(extra="ignore")

    state: JobState
    run_ids: dict[str, Id] = Field(default_factory=dict, max_length=1000)
    log_tail: str | None = Field(default=None, max_length=LOG_TAIL_MAX)
    error: str | None = Field(default=None, max_length=ERROR_MAX)
    machine: str | None = Field(default=None, max_length=200)
