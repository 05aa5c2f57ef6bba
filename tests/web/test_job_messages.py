"""The job messages between the service and runners are typed (issue 17, item 2).

The service builds a `JobSpec`, stores it without its token and sends it by the
shared task name to the shared queue name; the runner parses the same model
and reports with a `JobReport`. A message of an older service still parses; a
malformed one is refused by the runner before anything is checked out, with a
log line that names the bad field, and the job is reported failed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from runner.job import RunnerContext, run_job
from runner.schema import RUN_JOB_TASK, JobReport, JobSpec, bench_queue
from tests.conftest import LiveServer
from tests.integration.gitrepo import Repo
from web.api.jobs import JobStateIn
from web.db import make_engine, make_sessionmaker, session_scope
from web.models import Job
from web.models.job_progress import JobProgress
from web.services.jobs import create_job
from web.services.projects import create_project

pytestmark = pytest.mark.timeout(180)


class Recorder:
    """Takes the messages a service sends (name, queue and body) as the broker would."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None, dict[str, Any]]] = []

    def after_commit(
        self, session: Session, name: str, *args: Any, queue: str | None = None
    ) -> None:
        # through JSON, as Celery's json serializer carries it
        self.sent.append((name, queue, json.loads(json.dumps(args[0]))))


def test_a_job_message_round_trips_through_the_shared_model(
    db_session: Session, tmp_path: Path
) -> None:
    repo = Repo(tmp_path / "repo")
    base, head = repo.commit({"a.txt": "1"}), repo.commit({"a.txt": "2"})
    project = create_project(db_session, "p", repo_url=str(repo.path))
    recorder = Recorder()
    job = create_job(
        db_session,
        recorder,
        project,
        machine="m1",
        kind="confirm",
        commits=[base, head],
        benchmarks=["bench"],
        repeats=10,
        alert_id=None,
        progress=JobProgress(alert_ids=[7]),
    )
    ((name, queue, message),) = recorder.sent
    assert (name, queue) == (RUN_JOB_TASK, bench_queue("m1")) == ("benchwarden.run_job", "bench.m1")
    spec = JobSpec.model_validate(message)
    assert (spec.job_id, spec.kind, spec.commits) == (job.id, "confirm", (base, head))
    assert (spec.benchmarks, spec.repeats, spec.project) == (("bench",), 10, "p")
    assert spec.token and spec.token not in str(job.spec), "the secret is never stored"
    assert JobSpec.model_validate(job.spec).model_dump(exclude={"token"}) == spec.model_dump(
        exclude={"token"}
    )
    # progress is the job's own field, not part of what the runner is told
    assert "alert_ids" not in job.spec and JobProgress.of(job).alert_ids == [7]


def test_a_message_of_an_older_service_still_parses() -> None:
    old = {"job_id": 3, "project": "p", "repo_url": "/r", "commit": "a" * 40, "retries": 1}
    spec = JobSpec.model_validate(old)
    assert spec.commits == ("a" * 40,) and spec.kind == "run" and spec.key("a" * 40) == "job-3"
    assert spec.suites_origin == "project config" and not spec.suites_config_wins


def test_the_runner_report_is_what_the_service_validates() -> None:
    report = JobReport(state="done", run_ids={"a" * 40: 5}, log_tail="ok")
    body = json.loads(json.dumps(report.model_dump(mode="json", exclude_none=True)))
    assert JobStateIn.model_validate(body) == report
    with pytest.raises(ValueError, match="state"):
        JobReport.model_validate({"state": "finished"})


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"commits": ["not a sha!"]}, "commits.0"),
        ({"repeats": 0}, "repeats"),
        ({"kind": "explode"}, "kind"),
        ({"repo_url": None}, "repo_url"),
    ],
)
def test_a_malformed_message_is_refused_and_the_job_reported_failed(
    live_server: LiveServer,
    live_database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, Any],
    named: str,
) -> None:
    repo = Repo(tmp_path / "repo")
    sha = repo.commit({"a.txt": "1"})
    engine = make_engine(live_database)
    factory = make_sessionmaker(engine)
    recorder = Recorder()
    with session_scope(factory) as session:
        project = create_project(session, "p", repo_url=str(repo.path))
        job_id = create_job(session, recorder, project, machine="m1", commits=[sha]).id
    ((_, _, message),) = recorder.sent
    work = tmp_path / "work"
    ctx = RunnerContext(url=live_server.url, token="", machine="m1", work_dir=work)
    outcome = run_job({**message, **change}, ctx)
    assert outcome.state == "failed"
    line = f"benchwarden runner: job {job_id}: malformed job message refused: {named}"
    assert line in capsys.readouterr().err
    assert not (work / "jobs").exists(), "nothing was checked out"
    with factory() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.state == "failed"
        assert (job.error or "").startswith(f"malformed job message refused: {named}")
    engine.dispose()


def test_a_message_without_a_job_id_is_refused_with_a_log_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = RunnerContext(url="http://127.0.0.1:9", token="", machine="m1", work_dir=tmp_path)
    assert run_job({"project": "p"}, ctx).state == "failed"
    err = capsys.readouterr().err
    assert "a job without a valid job_id: malformed job message refused: job_id" in err
