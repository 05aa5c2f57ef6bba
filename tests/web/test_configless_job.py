"""A job whose commit declares no suites (and whose project stores none) fails cleanly.

It ends ``failed`` with the fix in its error, and leaves nothing in the
project's data: before, its failure was uploaded as a result of a made-up
benchmark called "suites", which then stood in the benchmark list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from runner.job import RunnerContext, run_job
from tests.conftest import LiveServer
from tests.integration.gitrepo import Repo
from web.db import make_engine, make_sessionmaker, session_scope
from web.models import Benchmark, Job, Run
from web.services.jobs import create_job
from web.services.projects import create_project
from web.services.tokens import create_token

pytestmark = pytest.mark.timeout(120)


class Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def after_commit(
        self, session: Session, name: str, *args: Any, queue: str | None = None
    ) -> None:
        self.messages.append(args[0])


def test_a_job_without_suites_fails_and_stores_no_benchmark(
    live_server: LiveServer, live_database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    repo = Repo(tmp_path / "repo")
    sha = repo.commit({"lib.py": "VALUE = 1\n"})
    engine = make_engine(live_database)
    request.addfinalizer(engine.dispose)
    factory = make_sessionmaker(engine)
    recorder = Recorder()
    with session_scope(factory) as session:
        project = create_project(session, "bare", repo_url=str(repo.path))
        token = create_token(session, project, "write").secret
        create_job(session, recorder, project, machine="m1", commits=[sha])
    ctx = RunnerContext(url=live_server.url, token=token, machine="m1", work_dir=tmp_path / "w")
    (message,) = recorder.messages
    outcome = run_job(message, ctx)
    assert outcome.state == "failed"
    with factory() as session:
        job = session.scalars(select(Job)).one()
        assert job.state == "failed"
        assert "project suites P --set FILE" in (job.error or "")
        assert session.scalars(select(Benchmark.name)).all() == []
        assert session.scalar(select(func.count(Run.id))) == 0
