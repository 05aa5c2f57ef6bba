"""What a job has found so far: its runs, verdicts and a bisection's state.

Kept apart from `Job.spec` (what the runner was told to do, a
`runner.schema.JobSpec`) in ``Job.progress``, and read and written only
through `JobProgress`, so the confirmation and bisection services and the
pages that show them agree on one typed shape. Fields a job kind does not use
keep their defaults; unknown keys of an older row are ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from web.models.job import Job


class ConfirmVerdict(BaseModel):
    """One alert's re-run comparison: the detector's verdict, change and p-value."""

    verdict: str
    rel_change: float
    pvalue: float


class AbVerdict(BaseModel):
    """One benchmark of an A/B job: verdict, change, q-value and confidence interval."""

    verdict: str
    rel_change: float
    qvalue: float
    ci: tuple[float, float]


class JobProgress(BaseModel):
    """The typed content of ``Job.progress``.

    Every job: ``run_ids`` (commit sha -> run stored). Confirmation jobs:
    ``alert_ids``, ``retries`` (inconclusive re-runs so far), ``confirmation``
    (alert id -> verdict). A/B jobs: ``comparison``. Bisection steps: ``verify``
    (a final check's fresh samples). A bisection's controller: the range
    ``commits`` with ``lo .. hi`` still open, the samples per commit, the
    alert's benchmark, direction and change, and at the end ``culprit`` or
    ``range`` with the ``reason`` none was named.
    """

    model_config = ConfigDict(extra="ignore")

    run_ids: dict[str, int] = Field(default_factory=dict)
    alert_ids: list[int] = Field(default_factory=list)
    retries: int = 0
    confirmation: dict[str, ConfirmVerdict] = Field(default_factory=dict)
    comparison: dict[str, AbVerdict] = Field(default_factory=dict)
    verify: bool = False
    commits: list[str] = Field(default_factory=list)
    lo: int = 0
    hi: int = 0
    steps: int = 0
    repeats: int = 0
    samples: dict[str, list[float]] = Field(default_factory=dict)
    verify_samples: dict[str, list[float]] = Field(default_factory=dict)
    benchmark: str = ""
    benchmark_id: int = 0
    measure_id: int = 0
    lower_is_better: bool = True
    expected: str = "regression"
    alert_change: float = 0.0
    culprit: str | None = None
    range: list[str] | None = None
    reason: str | None = None

    @classmethod
    def of(cls, job: Job) -> JobProgress:
        """The job's progress (a fresh copy: change it, then `save` it)."""
        return cls.model_validate(job.progress or {})

    def save(self, job: Job) -> None:
        """Store this progress on ``job`` (only fields that differ from the defaults)."""
        job.progress = self.model_dump(mode="json", exclude_defaults=True)
