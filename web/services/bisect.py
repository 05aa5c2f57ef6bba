"""Bisection of a confirmed regression to the one commit that caused it.

The alert's range (last good commit .. first changed commit) is read along
first parents; each step measures the midpoint on the alert's machine and
compares it with both ends using the detector's two-sample test (Mann–Whitney
on per-process samples). The first step measures the ends too, interleaved
with the midpoint (A M B A M B ...); later steps reuse the samples gathered so
far. What to do next is decided by ``bisect_decision.decide``, a pure function
of the samples: it narrows only on significant evidence, retries an undecided
step with twice the repeats (then four times), and names a culprit only when
its own comparison with its parent explains the alert; otherwise the job ends
with the narrowed range and the reason in its progress.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from detector import Verdict
from web.models import Alert, Commit, Job, Project
from web.models.base import utcnow
from web.models.job_progress import JobProgress
from web.models.project_settings import ProjectSettings
from web.services.alert_samples import run_samples, series_context
from web.services.bisect_decision import Bisection, Culprit, Measure, Narrowed, decide
from web.services.jobs import FINAL_STATES, Sender, create_job
from web.services.repo import History


@dataclass(frozen=True)
class BisectRange:
    """What git is asked before a bisection starts: the repository and the alert's ends."""

    alert_ids: tuple[int, ...]
    repo_url: str
    good_sha: str
    first_sha: str


def bisect_range(session: Session, alert_ids: list[int]) -> BisectRange | None:
    """The first alert's range to bisect, or None when it has no known good end or URL."""
    alert = session.get(Alert, alert_ids[0])
    assert alert is not None
    first = session.get(Commit, alert.first_commit_id)
    good = session.get(Commit, alert.last_good_commit_id) if alert.last_good_commit_id else None
    project = session.get(Project, first.project_id) if first else None
    if first is None or good is None or project is None or not project.repo_url:
        return None
    return BisectRange(tuple(alert_ids), project.repo_url, good.sha, first.sha)


def range_commits(history: History, found: BisectRange) -> list[str]:
    """The range's first-parent commits, oldest first: git, with no session involved."""
    return history.first_parent_range(found.repo_url, found.good_sha, found.first_sha)


def start_bisection(
    session: Session, dispatcher: Sender, alert_ids: list[int], history: History
) -> Job | None:
    """Start bisecting the first alert's range; every alert listed gets the culprit.

    Reads the range, asks git and writes in one go; a task that must not hold its
    transaction across git calls `bisect_range`, `range_commits` and `begin_bisection`.
    """
    found = bisect_range(session, alert_ids)
    if found is None:
        return None
    return begin_bisection(session, dispatcher, found, range_commits(history, found))


def begin_bisection(
    session: Session, dispatcher: Sender, found: BisectRange, commits: list[str]
) -> Job | None:
    """The controller job and its first step over ``commits`` (the range, oldest first).

    Adjacent ends need no step: the first changed commit is the culprit.
    """
    alert_ids = list(found.alert_ids)
    alert = session.get(Alert, alert_ids[0])
    first = session.get(Commit, alert.first_commit_id) if alert else None
    project = session.get(Project, first.project_id) if first else None
    if alert is None or first is None or project is None:
        return None
    if len(commits) <= 2:
        _set_culprit(session, project, alert_ids, found.first_sha)
        return None
    _, bench, measure, machine, branch = series_context(session, alert)
    repeats = ProjectSettings.of(project).bisect_repeats
    controller = Job(
        project_id=project.id,
        kind="bisect",
        commit_sha=found.first_sha,
        baseline_sha=found.good_sha,
        machine=machine,
        branch=branch,
        alert_id=alert.id,
        state="running",
        attempts=0,
        started_at=utcnow(),
    )
    session.add(controller)
    session.flush()
    controller.spec = {"job_id": controller.id}
    expected = Verdict.REGRESSION if alert.is_regression else Verdict.IMPROVEMENT
    progress = JobProgress(
        commits=commits,
        lo=0,
        hi=len(commits) - 1,
        repeats=repeats,
        alert_ids=alert_ids,
        benchmark=bench.name,
        benchmark_id=bench.id,
        measure_id=measure.id,
        lower_is_better=measure.direction != "higher_is_better",
        expected=expected.value,
        alert_change=alert.rel_change,
    )
    progress.save(controller)
    _step(
        session, dispatcher, controller, [0, (progress.lo + progress.hi) // 2, progress.hi], repeats
    )
    return controller


def _step(
    session: Session,
    dispatcher: Sender,
    controller: Job,
    indices: list[int],
    repeats: int,
    verify: bool = False,
) -> Job:
    project = session.get(Project, controller.project_id)
    assert project is not None
    progress = JobProgress.of(controller)
    commits = [progress.commits[i] for i in sorted(set(indices))]
    progress.steps += 1
    progress.save(controller)
    return create_job(
        session,
        dispatcher,
        project,
        machine=controller.machine,
        kind="bisect",
        commits=commits,
        branch=controller.branch,
        parent_job_id=controller.id,
        benchmarks=[progress.benchmark],
        repeats=repeats,
        progress=JobProgress(verify=verify),
    )


def finish_step(session: Session, dispatcher: Sender, step: Job) -> Job | None:
    """Fold a finished step into its bisection and send the next step (or blame a commit)."""
    controller = session.get(Job, step.parent_job_id) if step.parent_job_id else None
    if controller is None or controller.state in FINAL_STATES:
        return controller
    if step.state != "done":
        controller.state, controller.finished_at = "failed", utcnow()
        controller.error = f"bisect step job {step.id} failed: {step.error or 'no detail'}"
        return controller
    progress = JobProgress.of(controller)
    done = JobProgress.of(step)
    # a verification step's samples are kept apart: the final check uses only them
    samples = progress.verify_samples if done.verify else progress.samples
    for sha, run_id in done.run_ids.items():
        new = run_samples(session, int(run_id), progress.benchmark_id, progress.measure_id)
        samples.setdefault(sha, []).extend(new)
    progress.save(controller)
    return _advance(session, dispatcher, controller)


def _advance(session: Session, dispatcher: Sender, controller: Job) -> Job:
    """Decide on the samples so far (``bisect_decision.decide``) and act on it."""
    project = session.get(Project, controller.project_id)
    assert project is not None
    thresholds = ProjectSettings.of(project).thresholds()
    while True:
        progress = JobProgress.of(controller)
        commits = progress.commits
        state = Bisection(
            lo=progress.lo,
            hi=progress.hi,
            samples={i: progress.samples.get(sha, []) for i, sha in enumerate(commits)},
            verify={i: progress.verify_samples.get(sha, []) for i, sha in enumerate(commits)},
            first_lo=0,
            first_hi=len(commits) - 1,
            lower_is_better=progress.lower_is_better,
            expected=Verdict(progress.expected),
            alert_change=progress.alert_change,
            repeats=progress.repeats,
            retries=progress.retries,
        )
        decision = decide(state, thresholds)
        if isinstance(decision, Narrowed):
            progress.lo, progress.hi, progress.retries = decision.lo, decision.hi, 0
            progress.save(controller)
            continue
        if isinstance(decision, Measure):
            progress.retries = decision.retries
            progress.save(controller)
            indices = list(decision.indices)
            _step(session, dispatcher, controller, indices, decision.repeats, decision.verify)
            return controller
        if isinstance(decision, Culprit):
            return _blame(session, controller, commits[decision.index])
        return _range_only(controller, commits[decision.lo], commits[decision.hi], decision.reason)


def _range_only(controller: Job, good: str, first: str, reason: str) -> Job:
    """End without a culprit: the change lies after ``good``, at or before ``first``."""
    progress = JobProgress.of(controller)
    progress.culprit, progress.range, progress.reason = None, [good, first], reason
    progress.save(controller)
    controller.state, controller.finished_at = "done", utcnow()
    return controller


def _blame(session: Session, controller: Job, sha: str) -> Job:
    project = session.get(Project, controller.project_id)
    assert project is not None
    progress = JobProgress.of(controller)
    _set_culprit(session, project, progress.alert_ids, sha)
    progress.culprit = sha
    progress.save(controller)
    controller.state, controller.finished_at = "done", utcnow()
    return controller


def _set_culprit(session: Session, project: Project, alert_ids: list[int], sha: str) -> None:
    commit_id = session.scalar(
        select(Commit.id).where(Commit.project_id == project.id, Commit.sha == sha)
    )
    for alert in session.scalars(select(Alert).where(Alert.id.in_(alert_ids))):
        alert.culprit_commit_id = commit_id
        alert.updated_at = utcnow()
