"""Outside calls run with no transaction open (issue 17, item 3).

On SQLite a transaction that writes holds the database's one write lock, and a
task used to hold one session around its GitHub calls, webhooks and git: every
submission meanwhile waited out the busy timeout and failed with "database is
locked". Each test below holds one such call open (a webhook receiver, the fake
GitHub, a git fetch) on a real SQLite file while 20 submissions arrive through
the ingest API; all of them must be stored. The busy timeout is 2 s here, so a
lock held across the call fails them quickly instead of slowly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_project, make_token, native_results, post_results, sha
from tests.integration.gitrepo import Repo
from tests.web.github.fake_github import FakeGitHub
from web import create_app
from web.celery_app import Dispatcher
from web.config import Settings
from web.db import begin_reading, make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Alert, AlertSummary, Commit, Job, PrComment, Project, Run, Series
from web.models.job_progress import JobProgress
from web.services.repo import History
from web.tasks.schedule import bisect_confirmed

pytestmark = pytest.mark.timeout(180)
SUBMISSIONS = 20


@dataclass
class Service:
    app: Flask
    factory: sessionmaker[Session]


@pytest.fixture()
def service(tmp_path: Path) -> Iterator[Service]:
    url = f"sqlite:///{tmp_path / 'bw.db'}"
    upgrade(url)
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path,
        database_url=url,
        secret_key="t",
        base_url="http://bw.test",
        eager_tasks=True,
    )
    app = create_app(settings)
    app.extensions["benchwarden.engine"].dispose()
    engine = make_engine(url, connect_args={"timeout": 2, "check_same_thread": False})
    factory = make_sessionmaker(engine)
    app.extensions["benchwarden.sessionmaker"] = factory
    celery = app.extensions["benchwarden.celery"]
    celery.conf.benchwarden_sessionmaker = factory
    celery.conf.benchwarden_settings = settings
    yield Service(app, factory)
    engine.dispose()


class Gate:
    """Holds a call open: ``entered`` once the call arrives, it returns after ``release``."""

    def __init__(self) -> None:
        self.armed = False
        self.entered = threading.Event()
        self.release = threading.Event()

    def hold(self) -> None:
        if self.armed:
            self.entered.set()
            assert self.release.wait(60), "the test never released the call"


class SlowReceiver:
    """A webhook endpoint on loopback that answers only once its gate opens."""

    def __init__(self, gate: Gate) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                gate.hold()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture()
def gate() -> Gate:
    return Gate()


@pytest.fixture()
def receiver(gate: Gate) -> Iterator[SlowReceiver]:
    found = SlowReceiver(gate)
    thread = threading.Thread(target=found.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield found
    gate.release.set()
    found.server.shutdown()
    found.server.server_close()
    thread.join(timeout=10)


def _other_project(service: Service) -> str:
    """A second project whose submissions arrive while the call is held (no notifications)."""
    with session_scope(service.factory) as session:
        return make_token(session, make_project(session, "other"))


def _submit_while_held(service: Service, token: str, gate: Gate, work: threading.Thread) -> None:
    """Start ``work``, wait until its outside call is held, then submit 20 runs."""
    client = service.app.test_client()
    work.start()
    assert gate.entered.wait(30), "the outside call never happened"
    for n in range(1, SUBMISSIONS + 1):
        parents = [sha(1000 + n - 1)] if n > 1 else []
        data = native_results({"other": 1.0})
        post_results(client, token, sha(1000 + n), data, project="other", parents=parents)
    assert work.is_alive(), "the call was still held while every submission was stored"
    gate.release.set()
    work.join(timeout=60)
    with service.factory() as session:
        query = select(func.count(Run.id)).join(Project).where(Project.name == "other")
        assert session.scalar(query) == SUBMISSIONS


@pytest.mark.parametrize("held", ["webhook", "github"])
def test_submissions_succeed_while_a_summary_is_announced_slowly(
    service: Service, receiver: SlowReceiver, github: FakeGitHub, gate: Gate, held: str
) -> None:
    client = service.app.test_client()
    with session_scope(service.factory) as session:
        project = make_project(session)
        token = make_token(session, project)
        project.repo_url = "https://github.example/o/r.git"  # confirmation re-runs need one
        project.settings = {
            "webhooks": [{"url": receiver.url, "secret": "s", "format": "json"}],
            "github": {"repo": "o/r", "token": "test-token", "api_url": github.url},
        }
    for n in range(1, 15):
        value = (1.0 if n <= 7 else 1.5) + 0.001 * (n % 3)
        parents = [sha(n - 1)] if n > 1 else []
        post_results(client, token, sha(n), native_results({"parse": value}), parents=parents)
    with session_scope(service.factory) as session:
        summary = session.scalars(select(AlertSummary).order_by(AlertSummary.id)).first()
        assert summary is not None and summary.notified_at is not None
        summary.notified_at = None  # announce it again, this time slowly
        summary_id = summary.id
    other = _other_project(service)
    # the receiver's own gate, or one on GitHub's commit status (the receiver answers at once)
    held_gate = gate if held == "webhook" else Gate()
    github.on_request = lambda method, path: held_gate.hold() if "/statuses/" in path else None
    held_gate.armed = True
    task = service.app.extensions["benchwarden.celery"].tasks["benchwarden.notify_summary"]
    work = threading.Thread(target=task.apply, args=((summary_id,),), daemon=True)
    _submit_while_held(service, other, held_gate, work)
    with service.factory() as session:
        announced = session.get(AlertSummary, summary_id)
        assert announced is not None and announced.notified_at is not None


class HeldHistory(History):
    """Git history whose range read (a mirror's fetch, for a remote) waits on a gate."""

    def __init__(self, root: Path, gate: Gate) -> None:
        super().__init__(root)
        object.__setattr__(self, "gate", gate)

    def first_parent_range(self, repo_url: str, good: str, bad: str) -> list[str]:
        self.gate.hold()  # type: ignore[attr-defined]
        return super().first_parent_range(repo_url, good, bad)


def test_submissions_succeed_while_a_bisection_waits_on_git(
    service: Service, gate: Gate, tmp_path: Path
) -> None:
    repo = Repo(tmp_path / "repo")
    for i in range(16):
        repo.commit({"f.txt": str(i)}, f"commit {i}")
    client = service.app.test_client()
    with session_scope(service.factory) as session:
        project = make_project(session)
        token = make_token(session, project)
        project.repo_url = str(repo.path)
    for i in (0, 15):
        parents = [repo.shas[i - 1]] if i else []
        value = 1.0 if i == 0 else 1.1
        post_results(client, token, repo.shas[i], native_results({"b": value}), parents=parents)
    with session_scope(service.factory) as session:
        alert_id = _alert(session, repo.shas[0], repo.shas[15])
    other = _other_project(service)
    gate.armed = True
    celery = service.app.extensions["benchwarden.celery"]

    def confirm_then_bisect() -> None:
        with session_scope(service.factory) as session:
            alert = session.get(Alert, alert_id)
            assert alert is not None
            alert.confirmation = "confirmed"  # what the confirmation task writes first
            bisect_confirmed(
                session, Dispatcher(celery), [alert_id], HeldHistory(tmp_path / "m", gate)
            )

    work = threading.Thread(target=confirm_then_bisect, daemon=True)
    _submit_while_held(service, other, gate, work)
    with service.factory() as session:
        controller = session.scalar(
            select(Job).where(Job.kind == "bisect", Job.parent_job_id.is_(None))
        )
        assert controller is not None
        assert JobProgress.of(controller).commits == repo.shas[:16]
        assert session.get(Alert, alert_id).confirmation == "confirmed"  # type: ignore[union-attr]


def _alert(session: Session, good: str, first: str) -> int:
    ids = {c.sha: c.id for c in session.scalars(select(Commit))}
    series = session.scalars(select(Series)).one()
    summary = AlertSummary(
        project_id=series.project_id,
        branch_id=series.branch_id,
        last_good_commit_id=ids[good],
        first_commit_id=ids[first],
    )
    session.add(summary)
    session.flush()
    alert = Alert(
        series_id=series.id,
        summary_id=summary.id,
        last_good_commit_id=ids[good],
        first_commit_id=ids[first],
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
    return alert.id


def test_the_read_step_of_a_task_takes_no_write_lock(service: Service) -> None:
    """`begin_reading` starts a plain BEGIN: another writer commits meanwhile; the write
    step after it takes the lock again, as every writer does."""
    with session_scope(service.factory) as session:
        make_project(session)
    reader = service.factory()
    begin_reading(reader)
    assert reader.scalar(select(func.count(Project.id))) == 1
    with session_scope(service.factory) as writer:
        make_project(writer, "written-meanwhile")  # waited out the busy timeout before
    reader.commit()
    reader.scalar(select(func.count(Project.id)))  # the next transaction writes
    blocked = pytest.raises(OperationalError, match="database is locked")
    with blocked, session_scope(service.factory) as writer:
        make_project(writer, "blocked")
    reader.close()


def test_submissions_succeed_while_a_pull_request_report_waits_on_github(
    service: Service, github: FakeGitHub
) -> None:
    client = service.app.test_client()
    with session_scope(service.factory) as session:
        project = make_project(session)
        token = make_token(session, project)
        project.settings = {"github": {"repo": "o/r", "token": "test-token", "api_url": github.url}}
        project_id = project.id
    base = [1.0 + 0.002 * i for i in range(12)]
    post_results(client, token, sha(1), native_results({"parse": 1.0}, samples={"parse": base}))
    github.set_pull(7, sha(11))
    slower = {"parse": [v * 1.25 for v in base]}
    post_results(
        client,
        token,
        sha(11),
        native_results({"parse": 1.25}, samples=slower),
        branch="feature",
        parents=[sha(1)],
        pr_number=7,
    )
    assert github.comments, "the report was posted once already"
    other = _other_project(service)
    held = Gate()
    github.on_request = lambda method, path: held.hold() if path.endswith("/pulls/7") else None
    held.armed = True  # the pull request's read is held open
    task = service.app.extensions["benchwarden.celery"].tasks["benchwarden.notify_pr"]
    work = threading.Thread(target=task.apply, args=((project_id, 7, sha(11)),), daemon=True)
    _submit_while_held(service, other, held, work)
    with service.factory() as session:
        stored = session.scalar(select(PrComment))
        assert stored is not None and stored.head_sha == sha(11)
