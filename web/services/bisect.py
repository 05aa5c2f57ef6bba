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
with the narrowed range and the reason in its spec.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from detector import Verdict
from web.models import Alert, Commit, Job, Project
from web.models.base import utcnow
from web.models.project_settings import ProjectSettings
from web.services.bisect_decision import Bisection, Culprit, Measure, Narrowed, decide
from web.services.confirm import run_samples, series_context
from web.services.jobs import FINAL_STATES, Sender, create_job, spec_of
from web.services.repo import History


def start_bisection(
    session: Session, dispatcher: Sender, alert_ids: list[int], history: History
) -> Job | None:
    """Start bisecting the first alert's range; every alert listed gets the culprit."""
    alert = session.get(Alert, alert_ids[0])
    assert alert is not None
    first = session.get(Commit, alert.first_commit_id)
    good = session.get(Commit, alert.last_good_commit_id) if alert.last_good_commit_id else None
    project = session.get(Project, first.project_id) if first else None
    if first is None or good is None or project is None or not project.repo_url:
        return None
    commits = history.first_parent_range(project.repo_url, good.sha, first.sha)
    if len(commits) <= 2:
        _set_culprit(session, project, alert_ids, first.sha)
        return None
    _, bench, measure, machine, branch = series_context(session, alert)
    repeats = ProjectSettings.of(project).bisect_repeats
    controller = Job(
        project_id=project.id, kind="bisect", commit_sha=first.sha, baseline_sha=good.sha,
        machine=machine, branch=branch, alert_id=alert.id, state="running", attempts=0,
        started_at=utcnow(),
    )  # fmt: skip
    session.add(controller)
    session.flush()
    controller.spec = {
        "job_id": controller.id, "commits": commits, "lo": 0, "hi": len(commits) - 1,
        "steps": 0, "retries": 0, "repeats": repeats, "samples": {}, "alert_ids": alert_ids,
        "benchmark": bench.name, "benchmark_id": bench.id, "measure_id": measure.id,
        "lower_is_better": measure.direction != "higher_is_better",
        "expected": (Verdict.REGRESSION if alert.is_regression else Verdict.IMPROVEMENT).value,
        "alert_change": alert.rel_change,
    }  # fmt: skip
    spec = spec_of(controller)
    _step(session, dispatcher, controller, [0, (spec["lo"] + spec["hi"]) // 2, spec["hi"]], repeats)
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
    spec = spec_of(controller)
    commits = [spec["commits"][i] for i in sorted(set(indices))]
    controller.spec = {**spec, "steps": spec["steps"] + 1}
    return create_job(
        session, dispatcher, project, machine=controller.machine, kind="bisect",
        commits=commits, branch=controller.branch, parent_job_id=controller.id,
        benchmarks=[spec["benchmark"]], repeats=repeats, verify=verify,
    )  # fmt: skip


def finish_step(session: Session, dispatcher: Sender, step: Job) -> Job | None:
    """Fold a finished step into its bisection and send the next step (or blame a commit)."""
    controller = session.get(Job, step.parent_job_id) if step.parent_job_id else None
    if controller is None or controller.state in FINAL_STATES:
        return controller
    if step.state != "done":
        controller.state, controller.finished_at = "failed", utcnow()
        controller.error = f"bisect step job {step.id} failed: {step.error or 'no detail'}"
        return controller
    spec = spec_of(controller)
    # a verification step's samples are kept apart: the final check uses only them
    key = "verify_samples" if spec_of(step).get("verify") else "samples"
    samples: dict[str, list[float]] = {k: list(v) for k, v in (spec.get(key) or {}).items()}
    for sha, run_id in (spec_of(step).get("run_ids") or {}).items():
        new = run_samples(session, int(run_id), spec["benchmark_id"], spec["measure_id"])
        samples.setdefault(sha, []).extend(new)
    spec[key] = samples
    controller.spec = spec
    return _advance(session, dispatcher, controller)


def _advance(session: Session, dispatcher: Sender, controller: Job) -> Job:
    """Decide on the samples so far (``bisect_decision.decide``) and act on it."""
    project = session.get(Project, controller.project_id)
    assert project is not None
    thresholds = ProjectSettings.of(project).thresholds()
    while True:
        spec = spec_of(controller)
        commits: list[str] = spec["commits"]
        samples = {i: spec["samples"].get(sha, []) for i, sha in enumerate(commits)}
        fresh = spec.get("verify_samples") or {}
        verify = {i: fresh.get(sha, []) for i, sha in enumerate(commits)}
        state = Bisection(
            lo=spec["lo"], hi=spec["hi"], samples=samples, verify=verify,
            first_lo=0, first_hi=len(commits) - 1,
            lower_is_better=bool(spec["lower_is_better"]),
            expected=Verdict(spec.get("expected", Verdict.REGRESSION.value)),
            alert_change=float(spec.get("alert_change", 0.0)),
            repeats=int(spec["repeats"]), retries=int(spec["retries"]),
        )  # fmt: skip
        decision = decide(state, thresholds)
        if isinstance(decision, Narrowed):
            controller.spec = {**spec, "lo": decision.lo, "hi": decision.hi, "retries": 0}
            continue
        if isinstance(decision, Measure):
            controller.spec = {**spec, "retries": decision.retries}
            _step(session, dispatcher, controller, list(decision.indices), decision.repeats,
                  verify=decision.verify)  # fmt: skip
            return controller
        if isinstance(decision, Culprit):
            return _blame(session, controller, commits[decision.index])
        return _range_only(controller, commits[decision.lo], commits[decision.hi], decision.reason)


def _range_only(controller: Job, good: str, first: str, reason: str) -> Job:
    """End without a culprit: the change lies after ``good``, at or before ``first``."""
    controller.spec = {**spec_of(controller), "culprit": None, "range": [good, first],
                       "reason": reason}  # fmt: skip
    controller.state, controller.finished_at = "done", utcnow()
    return controller


def _blame(session: Session, controller: Job, sha: str) -> Job:
    project = session.get(Project, controller.project_id)
    assert project is not None
    _set_culprit(session, project, list(spec_of(controller)["alert_ids"]), sha)
    controller.spec = {**spec_of(controller), "culprit": sha}
    controller.state, controller.finished_at = "done", utcnow()
    return controller


def _set_culprit(session: Session, project: Project, alert_ids: list[int], sha: str) -> None:
    commit_id = session.scalar(
        select(Commit.id).where(Commit.project_id == project.id, Commit.sha == sha)
    )
    for alert in session.scalars(select(Alert).where(Alert.id.in_(alert_ids))):
        alert.culprit_commit_id = commit_id
        alert.updated_at = utcnow()
