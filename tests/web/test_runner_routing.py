"""Routing you can see: job tokens, heartbeats, `schedule`'s runner check, cancelling.

The runner half runs for real: `runner.job.run_job` against the live app over
HTTP, with a real git repository and a command suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from runner.job import RunnerContext, run_job
from runner.reporting import ServiceClient
from tests.conftest import LiveServer
from tests.integration.gitrepo import WRITE_RESULT, Repo, command_suite
from web.cli.main import main
from web.db import make_engine, make_sessionmaker, session_scope
from web.models import ApiToken, Job
from web.services.jobs import RUN_TASK, cancel_job, create_job
from web.services.projects import create_project
from web.services.runners import machine_status, record_heartbeat
from web.services.tokens import create_token

pytestmark = pytest.mark.timeout(120)


class Recorder:
    """Stands in for the broker: keeps the messages a service sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...], str | None]] = []

    def after_commit(
        self, session: Session, name: str, *args: Any, queue: str | None = None
    ) -> None:
        self.sent.append((name, args, queue))

    def jobs(self) -> list[dict[str, Any]]:
        return [args[0] for name, args, _ in self.sent if name == RUN_TASK]


@pytest.fixture()
def factory(live_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(live_database)
    yield make_sessionmaker(engine)
    engine.dispose()


def _setup(
    factory: sessionmaker[Session], repo: Repo
) -> tuple[sessionmaker[Session], str, Recorder, list[dict[str, Any]]]:
    """Projects "a" (whose token the runner holds) and "b" with one queued job each."""
    recorder = Recorder()
    with session_scope(factory) as session:
        a = create_project(session, "a", repo_url=str(repo.path))
        b = create_project(session, "b", repo_url=str(repo.path))
        runner_token = create_token(session, a, "write").secret
        for project in (a, b):
            create_job(session, recorder, project, machine="m1", commits=[repo.shas[-1]])
    return factory, runner_token, recorder, recorder.jobs()


def _context(server: LiveServer, token: str, tmp_path: Path) -> RunnerContext:
    return RunnerContext(url=server.url, token=token, machine="m1", work_dir=tmp_path / "work")


def test_a_runner_serves_every_project_and_a_job_token_ends_with_its_job(
    live_server: LiveServer, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit({"benchwarden.toml": command_suite(WRITE_RESULT)})
    factory, runner_token, _, (_, job_b) = _setup(factory, repo)
    with factory() as session:
        stored = session.get(Job, job_b["job_id"])
        assert stored is not None and job_b["token"] not in str(stored.spec)  # never stored
    outcome = run_job(job_b, _context(live_server, runner_token, tmp_path))
    assert outcome.state == "done", outcome.error
    with factory() as session:
        job = session.get(Job, job_b["job_id"])
        assert job is not None and (job.state, job.attempts) == ("done", 1)
        assert session.get(ApiToken, job.spec["token_id"]).revoked_at is not None
    # Delivered again after it ended: skipped, not run twice, not a failed login.
    assert run_job(job_b, _context(live_server, runner_token, tmp_path)).state == "skipped"
    with factory() as session:
        assert session.get(Job, job_b["job_id"]).attempts == 1


def test_a_cancelled_job_is_skipped_by_the_runner(
    live_server: LiveServer,
    live_database: str,
    factory: sessionmaker[Session],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit({"benchwarden.toml": command_suite(WRITE_RESULT)})
    factory, runner_token, _, (job_a, job_b) = _setup(factory, repo)
    assert main(["jobs", "cancel", str(job_a["job_id"]), "--database-url", live_database]) == 0
    assert main(["jobs", "cancel", "--queued", "--project", "b",
                 "--database-url", live_database]) == 0  # fmt: skip
    assert capsys.readouterr().out.splitlines() == ["cancelled 1 job(s)", "cancelled 1 job(s)"]
    assert main(["jobs", "cancel", str(job_a["job_id"]), "--database-url", live_database]) == 2
    assert "already ended (cancelled)" in capsys.readouterr().err
    for raw in (job_a, job_b):
        assert run_job(raw, _context(live_server, runner_token, tmp_path)).state == "skipped"
    with factory() as session:
        states = [(j.state, j.attempts, j.run_id) for j in session.scalars(select(Job))]
    assert states == [("cancelled", 0, None)] * 2


def test_a_refused_upload_ends_the_job_failed_with_the_reason(
    live_server: LiveServer, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    repo = Repo(tmp_path / "repo")
    noisy = f"python -c \"print('x' * 30000)\" && {WRITE_RESULT}"  # a long log: a big upload
    repo.commit({"benchwarden.toml": command_suite(noisy)})
    factory, runner_token, _, (_, job_b) = _setup(factory, repo)
    with LiveServer(replace(live_server.settings, max_upload_bytes=20_000)) as server:
        outcome = run_job(job_b, _context(server, runner_token, tmp_path))
    assert outcome.state == "failed"
    with factory() as session:
        job = session.get(Job, job_b["job_id"])
        assert job is not None and job.state == "failed" and "(413)" in (job.error or "")


def test_heartbeats_make_a_machine_live(
    live_server: LiveServer, factory: sessionmaker[Session]
) -> None:
    with session_scope(factory) as session:
        project = create_project(session, "a")
        write, read = (create_token(session, project, s).secret for s in ("write", "read"))
    with factory() as session:
        assert [s.live for s in machine_status(session, ["m1"])] == [False]
    ServiceClient(live_server.url, write).heartbeat("m1", "host-1")
    with factory() as session:
        (status,) = machine_status(session, ["m1"])
        assert status.live and status.last_seen_at is not None
    with pytest.raises(Exception, match="403"):
        ServiceClient(live_server.url, read, retries=0).heartbeat("m1")


def test_cancel_is_refused_for_a_finished_job(db_session: Session, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit({"a.txt": "1"})
    project = create_project(db_session, "p", repo_url=str(repo.path))
    job = create_job(db_session, Recorder(), project, machine="m1", commits=[repo.shas[0]])
    job.state = "done"
    assert cancel_job(db_session, job) is False and job.state == "done"


def test_schedule_names_its_machines_and_refuses_without_a_live_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BENCHWARDEN_DATA_DIR", str(tmp_path / "data"))
    url = f"sqlite:///{tmp_path / 'data' / 'benchwarden.db'}"
    monkeypatch.setenv("BENCHWARDEN_DATABASE_URL", url)
    repo = Repo(tmp_path / "repo")
    sha = repo.commit({"a.txt": "1"})
    assert main(["db", "upgrade"]) == 0
    assert main(["project", "create", "p", "--repo-url", str(repo.path)]) == 0
    capsys.readouterr()
    assert main(["schedule", "--project", "p", "--commits", sha]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "queueing for: default (no runner ever seen)",
        "error: no live runner serves machine 'default': start `benchwarden worker"
        " --machine default` (or `benchwarden up`); --force queues anyway",
    ]
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        assert session.scalars(select(Job)).all() == []
    with session_scope(factory) as session:
        record_heartbeat(session, "local")
    assert main(["schedule", "--project", "p", "--commits", sha, "--force"]) == 0
    err = capsys.readouterr().err
    assert "warning: no live runner serves machine 'default': `benchwarden project set p" in err
    assert "machines=local` to use the live runner(s)" in err
    assert main(["project", "set", "p", "machines=local"]) == 0
    assert main(["schedule", "--project", "p", "--commits", sha]) == 0
    assert "queueing for: local (runner seen 0 s ago)" in capsys.readouterr().err
    with factory() as session:
        assert [j.machine for j in session.scalars(select(Job))] == ["default", "local"]
    engine.dispose()
