"""Confirmation re-runs: a candidate regression is shown as confirmed only once it reproduces.

When detection raises regression alerts, the affected benchmarks are run
again on the first changed commit and its parent, interleaved on the same
machine (as an A/B job), and the two samples are compared with the detector's
two-sample test. A regression that does not reproduce is marked
``not_reproduced`` and kept, never deleted, so its history stays explainable.
An inconclusive comparison (too few samples for the machine's noise) is not a
verdict: it is run again with twice the repeats, then four times, as bisection
does, and only then judged. Confirmed alerts whose range holds untested
commits go on to bisection.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from detector import Thresholds, Verdict, compare
from web.models import Alert, Commit, Job, Project, Series
from web.models.base import utcnow
from web.models.job_progress import ConfirmVerdict, JobProgress
from web.models.project_settings import ProjectSettings
from web.services.alert_samples import run_samples, series_context
from web.services.bisect import start_bisection
from web.services.jobs import Sender, create_job
from web.services.repo import History

# An inconclusive confirmation runs once more, at twice the repeats, then is judged:
# every further round re-ran false candidates on a busy machine (about 100 s each)
# while real work queued behind them.
MAX_INCONCLUSIVE_RETRIES = 1


def confirm_alerts(session: Session, dispatcher: Sender, alert_ids: list[int]) -> list[Job]:
    """Queue one confirmation job per (commit range, machine) for new candidate regressions."""
    groups: dict[tuple[int, str], list[Alert]] = defaultdict(list)
    for alert in session.scalars(select(Alert).where(Alert.id.in_(alert_ids))):
        if (
            _worth_bisecting(session, alert)
            and alert.confirmation == "candidate"
            and not _has_job(session, alert)
        ):
            _, _, _, machine, _ = series_context(session, alert)
            groups[(alert.summary_id, machine)].append(alert)
    return [
        _confirm_job(session, dispatcher, machine, alerts)
        for (_, machine), alerts in sorted(groups.items())
    ]


def _worth_bisecting(session: Session, alert: Alert) -> bool:
    """Every regression; an improvement when at least the project's ``bisect_improvements``.

    Never a drift: it has no one commit to re-run against its parent, and its
    range is already the answer.
    """
    if alert.kind == "drift":
        return False
    if alert.is_regression:
        return True
    series = session.get(Series, alert.series_id)
    project = session.get(Project, series.project_id) if series else None
    floor = ProjectSettings.of(project).bisect_improvements if project else None
    return floor is not None and abs(alert.rel_change) >= floor


def _has_job(session: Session, alert: Alert) -> bool:
    query = select(Job.id).where(Job.alert_id == alert.id, Job.state != "cancelled")
    return session.scalar(query.limit(1)) is not None


def stale_confirmation(session: Session, job: Job) -> str | None:
    """Why a queued confirmation is no longer worth a runner's time, or None.

    A candidate that later results no longer show (detection deactivated it),
    that another job already decided, or that a maintainer marked invalid needs
    no re-run. On a busy machine false candidates come and go while real work
    queues behind their confirmations; a runner asks before it starts one and
    the job is cancelled with this reason instead of run.
    """
    if job.kind != "confirm":
        return None
    ids = _alert_ids(job)
    alerts = list(session.scalars(select(Alert).where(Alert.id.in_(ids))))
    if any(a.active and a.confirmation == "candidate" and a.status != "invalid" for a in alerts):
        return None
    return "its alerts are no longer open candidates (no longer detected, decided or invalid)"


def _alert_ids(job: Job) -> list[int]:
    """The alerts a confirmation job re-runs (jobs of old kept only ``alert_id``)."""
    listed = JobProgress.of(job).alert_ids
    return listed or ([job.alert_id] if job.alert_id is not None else [])


def _confirm_job(
    session: Session, dispatcher: Sender, machine: str, alerts: list[Alert], retries: int = 0
) -> Job:
    first = session.get(Commit, alerts[0].first_commit_id)
    assert first is not None
    project = session.get(Project, first.project_id)
    assert project is not None
    # The last good commit is the tested one before the change: the parent itself when
    # every commit is measured, else the start of the range bisection will narrow down.
    parent = _sha(session, alerts[0].last_good_commit_id) or (
        first.parents[0] if first.parents else None
    )
    if parent is None:
        raise ValueError(f"alert {alerts[0].id} has no parent commit to compare with")
    names = sorted({series_context(session, a)[1].name for a in alerts})
    repeats = ProjectSettings.of(project).confirm_repeats
    return create_job(
        session,
        dispatcher,
        project,
        machine=machine,
        kind="confirm",
        commits=[parent, first.sha],
        branch=series_context(session, alerts[0])[4],
        alert_id=alerts[0].id,
        benchmarks=names,
        repeats=repeats * 2**retries,
        progress=JobProgress(alert_ids=[a.id for a in alerts], retries=retries),
    )


def _thresholds(session: Session, job: Job) -> Thresholds:
    """The project's thresholds: confirmation judges with the numbers that raised the alert."""
    project = session.get(Project, job.project_id)
    assert project is not None
    return ProjectSettings.of(project).thresholds()


def _sha(session: Session, commit_id: int | None) -> str | None:
    commit = session.get(Commit, commit_id) if commit_id is not None else None
    return commit.sha if commit else None


def finish_confirmation(
    session: Session, dispatcher: Sender, job: Job, history: History | None = None
) -> dict[int, str]:
    """Decide each alert of a finished confirmation job; returns alert id -> confirmation.

    With ``history`` the confirmed alerts' bisection starts here, git included;
    the ``job_finished`` task passes none and starts it after the session's
    transaction ended (`confirmed_to_bisect`, then `web.services.bisect`).
    """
    if job.state != "done":
        return {}
    progress = JobProgress.of(job)
    base_run = progress.run_ids.get(str(job.baseline_sha))
    cand_run = progress.run_ids.get(job.commit_sha)
    decided: dict[int, str] = {}
    again: list[Alert] = []
    thresholds = _thresholds(session, job)
    for alert_id in _alert_ids(job):
        alert = session.get(Alert, alert_id)
        if alert is None or base_run is None or cand_run is None:
            continue
        _, bench, measure, _, _ = series_context(session, alert)
        base = run_samples(session, int(base_run), bench.id, measure.id)
        cand = run_samples(session, int(cand_run), bench.id, measure.id)
        if not base or not cand:
            continue
        lower = measure.direction != "higher_is_better"
        result = compare(base, cand, lower_is_better=lower, thresholds=thresholds)
        progress.confirmation[str(alert.id)] = ConfirmVerdict(
            verdict=str(result.verdict), rel_change=result.rel_change, pvalue=result.pvalue
        )
        if result.verdict == Verdict.INCONCLUSIVE and progress.retries < MAX_INCONCLUSIVE_RETRIES:
            again.append(alert)  # stays a candidate until the re-run decides
            continue
        reproduced = result.verdict == (
            Verdict.REGRESSION if alert.is_regression else Verdict.IMPROVEMENT
        )
        alert.confirmation = "confirmed" if reproduced else "not_reproduced"
        alert.updated_at = utcnow()
        decided[alert.id] = alert.confirmation
    progress.save(job)
    if again:
        _confirm_job(session, dispatcher, job.machine, again, progress.retries + 1)
    confirmed = confirmed_to_bisect(decided)
    if confirmed and history is not None:
        start_bisection(session, dispatcher, confirmed, history)
    return decided


def confirmed_to_bisect(decided: dict[int, str]) -> list[int]:
    """The alerts a confirmation decided that go on to bisection: the confirmed ones."""
    return [alert_id for alert_id, state in decided.items() if state == "confirmed"]
