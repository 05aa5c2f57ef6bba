"""Service-side jobs: scheduling, the state API, confirmation and bisection.

Runner work is played by the test: the jobs the services send are "executed"
by ingesting runs with known samples, as a runner's upload would.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import Session

from runner.schema import ParsedRun, ResultRecord, RunPayload
from tests.factories import make_project, make_token
from tests.integration.gitrepo import Repo
from web.models import Alert, AlertSummary, Commit, Job, Project, Series
from web.models.job_progress import JobProgress
from web.models.project_settings import DEFAULT_BISECT_REPEATS, DEFAULT_CONFIRM_REPEATS
from web.services.bisect import finish_step, start_bisection
from web.services.confirm import confirm_alerts, finish_confirmation
from web.services.ingest import ingest_run
from web.services.jobs import (
    FINISHED_TASK,
    RUN_TASK,
    JobFinishedError,
    create_job,
    record_state,
    schedule_pull_request,
    schedule_range,
)
from web.services.repo import History


class FakeDispatcher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...], str | None]] = []

    def after_commit(
        self, session: Session, name: str, *args: Any, queue: str | None = None
    ) -> None:
        self.sent.append((name, args, queue))

    def take(self, name: str) -> list[tuple[Any, ...]]:
        taken = [args for n, args, _ in self.sent if n == name]
        self.sent = [s for s in self.sent if s[0] != name]
        return taken


@pytest.fixture()
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    for i in range(32):
        repo.commit({"f.txt": str(i)}, f"commit {i}")
    return repo


@pytest.fixture()
def project(db_session: Session, repo: Repo) -> Project:
    project = make_project(db_session, "proj")
    project.repo_url = str(repo.path)
    project.settings = {"machines": ["m1", "m2"]}
    db_session.flush()
    return project


def test_schedule_range_every_nth_commit_per_machine(
    db_session: Session, project: Project, repo: Repo, tmp_path: Path
) -> None:
    sender = FakeDispatcher()
    spec = f"{repo.shas[0]}..{repo.shas[8]}"
    jobs = schedule_range(db_session, sender, project, History(tmp_path), spec, every=4)
    assert [(j.commit_sha, j.machine) for j in jobs] == [
        (repo.shas[i], m) for i in (4, 8) for m in ("m1", "m2")
    ]
    sent = sender.sent
    assert [(n, q) for n, _, q in sent] == [(RUN_TASK, "bench.m1"), (RUN_TASK, "bench.m2")] * 2
    spec_sent = sent[0][1][0]
    assert spec_sent["job_id"] == jobs[0].id and spec_sent["repo_url"] == str(repo.path)
    assert spec_sent["commits"] == [repo.shas[4]]


def test_a_whole_history_is_dot_dot_tip_root_included(repo: Repo, tmp_path: Path) -> None:
    history = History(tmp_path)
    assert history.commits(str(repo.path), f"..{repo.shas[5]}") == repo.shas[:6]
    assert history.commits(str(repo.path), f"{repo.shas[0]}..{repo.shas[5]}") == repo.shas[1:6]


def test_pull_request_is_one_ab_job_per_machine_from_the_merge_base(
    db_session: Session, project: Project, repo: Repo, tmp_path: Path
) -> None:
    sender = FakeDispatcher()
    jobs = schedule_pull_request(
        db_session, sender, project, 7, repo.shas[5], repo.shas[9], History(tmp_path)
    )
    assert [(j.kind, j.baseline_sha, j.commit_sha, j.pr_number) for j in jobs] == [
        ("ab", repo.shas[5], repo.shas[9], 7)
    ] * 2
    assert sender.sent[0][1][0]["commits"] == [repo.shas[5], repo.shas[9]]


def test_state_api_counts_attempts_and_refuses_a_finished_job(
    client: Any, db_session: Session, project: Project, repo: Repo
) -> None:
    token = make_token(db_session, project)
    job = create_job(db_session, FakeDispatcher(), project, machine="m1", commits=[repo.shas[3]])
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/jobs/{job.id}/state"
    assert client.post(url, json={"state": "running"}).status_code == 401
    for _ in range(2):  # a redelivered job that had not finished starts again
        answer = client.post(url, json={"state": "running"}, headers=headers)
        assert answer.status_code == 200, answer.json
    assert answer.json["attempts"] == 2 and answer.json["state"] == "running"
    done = client.post(url, json={"state": "done", "log_tail": "ok"}, headers=headers)
    assert done.json["state"] == "done" and done.json["seconds"] is not None
    again = client.post(url, json={"state": "running"}, headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "job_finished"
    listing = client.get("/api/v1/projects/proj/jobs").json["jobs"]
    assert [(j["id"], j["state"], j["log_tail"]) for j in listing] == [(job.id, "done", "ok")]
    bad = client.post(url, json={"state": "queued"}, headers=headers)
    assert bad.status_code == 422


def _ingest(
    session: Session, project: Project, sha: str, parent: str | None, samples: list[float], key: str
) -> int:
    record = ResultRecord(
        suite="s",
        name="bench",
        measure="time",
        unit="s",
        value=float(np.median(samples)),
        samples=samples,
    )
    payload = RunPayload(
        project=project.name,
        commit=sha,
        branch="main",
        parents=[parent] if parent else [],
        machine={"name": "m1"},
        idempotency_key=key,
    )
    return ingest_run(session, project, payload, ParsedRun(results=[record]), "custom").run.id


def _alert(
    session: Session,
    project: Project,
    good: str,
    first: str,
    series: Series | None = None,
    summary: AlertSummary | None = None,
) -> Alert:
    """A candidate regression of ``series`` (the project's only one if not given)."""
    ids = {c.sha: c for c in session.query(Commit).filter(Commit.project_id == project.id)}
    if series is None:
        series = session.query(Series).filter(Series.project_id == project.id).one()
    if summary is None:
        summary = AlertSummary(
            project_id=project.id,
            branch_id=series.branch_id,
            last_good_commit_id=ids[good].id,
            first_commit_id=ids[first].id,
        )
        session.add(summary)
        session.flush()
    alert = Alert(
        series_id=series.id,
        summary_id=summary.id,
        last_good_commit_id=ids[good].id,
        first_commit_id=ids[first].id,
        before=1.0,
        after=1.1,
        rel_change=0.1,
        pvalue=0.001,
        is_regression=True,
        detector_version="test",
        thresholds={},
        confirmation="candidate",
    )
    session.add(alert)
    session.flush()
    return alert


class PlantedRunner:
    """Plays the runner: times are 1.0 s (2% noise), 10% slower from ``planted`` on."""

    def __init__(self, session: Session, project: Project, repo: Repo, planted: int) -> None:
        self.session, self.project, self.repo, self.planted = session, project, repo, planted
        self.rng = np.random.default_rng(7)

    def run(self, spec: dict[str, Any]) -> dict[str, int]:
        run_ids, sigma = {}, self.noise(spec)
        for sha in spec["commits"]:
            index = self.repo.shas.index(sha)
            level = 1.1 if index >= self.planted else 1.0
            samples = self.rng.normal(level, sigma, spec.get("repeats") or 5)
            samples = list(samples.clip(0.1))  # a time, however disturbed the machine
            parent = self.repo.shas[index - 1] if index else None
            key = f"job-{spec['job_id']}-{sha}"
            run_ids[sha] = _ingest(self.session, self.project, sha, parent, samples, key)
        return run_ids

    def noise(self, spec: dict[str, Any]) -> float:
        return 0.02


def _bisect(
    session: Session, runner: PlantedRunner, repo: Repo, tmp_path: Path
) -> tuple[Job, list[int]]:
    """Bisect commits 0..31 with ``runner`` playing the runner, check that the
    alert blames the planted commit; the controller and the repeats each step
    asked for."""
    for i in (0, 31):
        runner.run({"job_id": 0, "commits": [repo.shas[i]], "repeats": 5})
    alert = _alert(session, runner.project, repo.shas[0], repo.shas[31])
    sender = FakeDispatcher()
    controller = start_bisection(session, sender, [alert.id], History(tmp_path))
    assert controller is not None
    repeats = []
    for _ in range(12):
        (sent,) = sender.take(RUN_TASK)
        repeats.append(sent[0]["repeats"])
        step = session.get(Job, sent[0]["job_id"])
        assert step is not None and step.parent_job_id == controller.id
        record_state(session, sender, step, "running")
        record_state(session, sender, step, "done", run_ids=runner.run(sent[0]))
        assert sender.take(FINISHED_TASK) == [(step.id,)]
        finish_step(session, sender, step)
        if controller.state == "done":
            break
    culprit = session.get(Commit, alert.culprit_commit_id)
    assert culprit is not None and culprit.sha == repo.shas[runner.planted]
    return controller, repeats


def test_bisection_names_the_planted_commit_in_at_most_six_steps(
    db_session: Session, project: Project, repo: Repo, tmp_path: Path
) -> None:
    controller, _ = _bisect(
        db_session, PlantedRunner(db_session, project, repo, 19), repo, tmp_path
    )
    progress = JobProgress.of(controller)
    assert progress.culprit == repo.shas[19]
    assert progress.steps <= 6


class NoisyFirstRunner(PlantedRunner):
    """The first ``disturbed`` jobs meet a disturbed machine (40% noise), so
    their comparisons cannot tell; every later measurement is clean."""

    def __init__(self, *args: Any, disturbed: int = 1) -> None:
        super().__init__(*args)
        self.disturbed = disturbed

    def noise(self, spec: dict[str, Any]) -> float:
        if spec["job_id"] == 0 or not self.disturbed:
            return super().noise(spec)
        self.disturbed -= 1
        return 0.4


def test_an_inconclusive_step_doubles_its_repeats_and_only_its_own(
    db_session: Session, project: Project, repo: Repo, tmp_path: Path
) -> None:
    runner = NoisyFirstRunner(db_session, project, repo, 19)
    controller, repeats = _bisect(db_session, runner, repo, tmp_path)
    assert controller.state == "done"
    # the disturbed first step, its retry at twice the repeats, then the base again,
    # and last the culprit and its parent measured afresh at twice the repeats
    assert repeats[:2] == [DEFAULT_BISECT_REPEATS, 2 * DEFAULT_BISECT_REPEATS]
    assert set(repeats[2:-1]) == {DEFAULT_BISECT_REPEATS}
    assert repeats[-1] == 2 * DEFAULT_BISECT_REPEATS


def _drive_confirmation(
    session: Session,
    sender: FakeDispatcher,
    runner: PlantedRunner,
    repo: Repo,
    tmp_path: Path,
    alert: Alert,
) -> tuple[list[int], dict[int, str]]:
    """Run every confirmation job sent (commits 30 and 31) until one decides;
    the repeats each asked for and the decision."""
    repeats: list[int] = []
    decided: dict[int, str] = {}
    while sent := sender.take(RUN_TASK):
        ((spec,),) = sent
        assert (spec["kind"], spec["commits"], spec["benchmarks"]) == (
            "confirm",
            [repo.shas[30], repo.shas[31]],
            ["bench"],
        )
        repeats.append(spec["repeats"])
        job = session.get(Job, spec["job_id"])
        assert job is not None
        record_state(session, sender, job, "done", run_ids=runner.run(spec))
        decided = finish_confirmation(session, sender, job, History(tmp_path))
        if not decided:  # not judged yet: an inconclusive comparison is run again
            assert alert.confirmation == "candidate"
            verdict = JobProgress.of(job).confirmation[str(alert.id)].verdict
            assert verdict == "inconclusive"
    return repeats, decided


@pytest.mark.parametrize(("planted", "expected"), [(31, "confirmed"), (99, "not_reproduced")])
def test_confirmation_reruns_the_first_changed_commit_and_its_parent(
    db_session: Session, project: Project, repo: Repo, tmp_path: Path, planted: int, expected: str
) -> None:
    runner = PlantedRunner(db_session, project, repo, planted)
    for i in (30, 31):
        runner.run({"job_id": 0, "commits": [repo.shas[i]], "repeats": 5})
    alert = _alert(db_session, project, repo.shas[30], repo.shas[31])
    sender = FakeDispatcher()
    (job,) = confirm_alerts(db_session, sender, [alert.id])
    assert job.kind == "confirm"
    assert confirm_alerts(db_session, sender, [alert.id]) == []  # never twice
    _, decided = _drive_confirmation(db_session, sender, runner, repo, tmp_path, alert)
    assert decided == {alert.id: expected} and alert.confirmation == expected
    # Adjacent commits need no bisection: the first changed commit is the culprit.
    assert (alert.culprit_commit_id is not None) == (expected == "confirmed")
    assert db_session.get(Alert, alert.id) is not None


@pytest.mark.parametrize("disturbed", [1, 3])
def test_an_inconclusive_confirmation_runs_again_with_twice_the_repeats(
    db_session: Session, project: Project, repo: Repo, tmp_path: Path, disturbed: int
) -> None:
    runner = NoisyFirstRunner(db_session, project, repo, 31, disturbed=disturbed)
    for i in (30, 31):
        runner.run({"job_id": 0, "commits": [repo.shas[i]], "repeats": 5})
    alert = _alert(db_session, project, repo.shas[30], repo.shas[31])
    sender = FakeDispatcher()
    confirm_alerts(db_session, sender, [alert.id])
    repeats, decided = _drive_confirmation(db_session, sender, runner, repo, tmp_path, alert)
    base = DEFAULT_CONFIRM_REPEATS
    if disturbed == 1:  # the re-run on a calm machine confirms the planted 10%
        assert repeats == [base, 2 * base] and decided == {alert.id: "confirmed"}
    else:  # re-confirmed once only, then judged, whatever it shows
        assert repeats == [base, 2 * base] and decided == {alert.id: alert.confirmation}
        assert alert.confirmation in ("confirmed", "not_reproduced")


def test_a_finished_job_refuses_to_run_again(
    db_session: Session, project: Project, repo: Repo
) -> None:
    job = create_job(db_session, FakeDispatcher(), project, machine="m1", commits=[repo.shas[1]])
    record_state(db_session, FakeDispatcher(), job, "failed", error="boom")
    with pytest.raises(JobFinishedError):
        record_state(db_session, FakeDispatcher(), job, "running")


def test_a_job_message_that_cannot_be_sent_is_logged_without_its_token(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message carries the job's write token; the log names the job only."""
    from celery import Celery

    import web.celery_app as celery_app

    celery = Celery("unreachable", broker="redis://127.0.0.1:9/0", set_as_current=False)
    celery.conf.broker_connection_retry = False
    celery.conf.broker_connection_max_retries = 0
    callbacks: list[Callable[[], None]] = []
    # The session only carries the after-commit callback: run it directly.
    monkeypatch.setattr(celery_app, "enqueue_after_commit", lambda _s, cb: callbacks.append(cb))
    secret = "bw_secret_job_token_value"
    message = {"job_id": 7, "token": secret}
    celery_app.Dispatcher(celery).after_commit(None, "benchwarden.run_job", message)  # type: ignore[arg-type]
    with caplog.at_level("ERROR"):
        callbacks[0]()
    assert "could not send task benchwarden.run_job (job 7)" in caplog.text
    assert secret not in caplog.text


@pytest.mark.parametrize(
    ("change", "setting", "confirmed"),
    [(-0.15, 0.10, True), (-0.05, 0.10, False), (-0.15, None, False)],
)
def test_large_improvements_are_confirmed_and_bisected_too(  # type: ignore[no-untyped-def]
    db_session: Session, project: Project, repo: Repo, change, setting, confirmed
) -> None:
    runner = PlantedRunner(db_session, project, repo, 19)
    for i in (0, 31):
        runner.run({"job_id": 0, "commits": [repo.shas[i]], "repeats": 5})
    project.settings = dict(project.settings) | {"bisect_improvements": setting}
    alert = _alert(db_session, project, repo.shas[0], repo.shas[31])
    alert.is_regression, alert.rel_change = False, change
    db_session.flush()
    jobs = confirm_alerts(db_session, FakeDispatcher(), [alert.id])
    assert [j.kind for j in jobs] == (["confirm"] if confirmed else [])


@pytest.mark.parametrize("closed_by", ["no_longer_detected", "decided", "invalid", None])
def test_a_confirmation_of_a_closed_candidate_is_cancelled_when_a_runner_takes_it(  # type: ignore[no-untyped-def]
    client: Any, db_session: Session, project: Project, repo: Repo, closed_by
) -> None:
    """Issue 20, item 6: false candidates come and go on a busy machine; their queued
    confirmations must not hold a runner (and the real work behind them)."""
    runner = PlantedRunner(db_session, project, repo, 31)
    for i in (0, 31):
        runner.run({"job_id": 0, "commits": [repo.shas[i]], "repeats": 5})
    alert = _alert(db_session, project, repo.shas[0], repo.shas[31])
    (job,) = confirm_alerts(db_session, FakeDispatcher(), [alert.id])
    if closed_by == "no_longer_detected":
        alert.active = False
    elif closed_by == "decided":
        alert.confirmation = "not_reproduced"
    elif closed_by == "invalid":
        alert.status = "invalid"
    token = make_token(db_session, project)
    db_session.commit()
    answer = client.post(
        f"/api/v1/jobs/{job.id}/state",
        json={"state": "running"},
        headers={"Authorization": f"Bearer {token}"},
    )
    db_session.expire_all()
    if closed_by is None:  # an open candidate is confirmed as usual
        assert answer.status_code == 200 and answer.json["state"] == "running"
        return
    assert answer.status_code == 409 and answer.json["error"]["code"] == "job_finished"
    assert answer.json["error"]["details"]["state"] == "cancelled"
    assert job.state == "cancelled" and "no longer open candidates" in (job.error or "")
    # the alert may be confirmed again if it comes back: a cancelled job does not count
    alert.active, alert.confirmation, alert.status = True, "candidate", "untriaged"
    db_session.flush()
    assert [j.kind for j in confirm_alerts(db_session, FakeDispatcher(), [alert.id])] == ["confirm"]


def test_alerts_of_one_commit_range_are_confirmed_by_one_job(
    db_session: Session, project: Project, repo: Repo
) -> None:
    """Issue 20, item 6: three benchmarks that moved at one commit are one re-run, not three."""
    names = ["alpha", "beta", "gamma"]
    for i in (0, 31):
        records = [
            ResultRecord(suite="s", name=n, measure="time", unit="s", value=1.0 + 0.1 * (i > 0))
            for n in names
        ]
        payload = RunPayload(
            project=project.name,
            commit=repo.shas[i],
            branch="main",
            parents=[repo.shas[i - 1]] if i else [],
            machine={"name": "m1"},
            idempotency_key=f"ci-{i}",
        )
        ingest_run(db_session, project, payload, ParsedRun(results=records), "custom")
    everything = list(db_session.query(Series).filter_by(project_id=project.id))
    first = _alert(db_session, project, repo.shas[0], repo.shas[31], everything[0])
    summary = db_session.get(AlertSummary, first.summary_id)
    alerts = [first] + [
        _alert(db_session, project, repo.shas[0], repo.shas[31], series, summary)
        for series in everything[1:]
    ]
    sender = FakeDispatcher()
    (job,) = confirm_alerts(db_session, sender, [a.id for a in alerts])
    assert sorted(JobProgress.of(job).alert_ids) == sorted(a.id for a in alerts)
    assert job.spec["benchmarks"] == names
    assert job.spec["commits"] == [repo.shas[0], repo.shas[31]]
    assert len(sender.take(RUN_TASK)) == 1
