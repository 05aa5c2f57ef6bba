"""End to end on the embedded default: SQLite database, kombu's SQLAlchemy transport on SQLite."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import LiveServer
from tests.integration.gitrepo import WRITE_RESULT, Repo, command_suite
from tests.integration.processes import Proc, stop_all, wait_until
from web.celery_app import Dispatcher, make_celery
from web.config import Settings
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Job, Project, Run, Series
from web.services.jobs import schedule_commits
from web.services.projects import create_project
from web.services.tokens import create_token

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_job_end_to_end_on_the_embedded_broker(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'benchwarden.db'}"
    upgrade(url)
    settings = replace(Settings.from_env({"BENCHWARDEN_DATA_DIR": str(data)}), database_url=url,
                       secret_key="t", eager_tasks=False)  # fmt: skip
    assert settings.broker_url.startswith("sqlalchemy+sqlite:///")
    factory = make_sessionmaker(make_engine(url))
    repo = Repo(tmp_path / "repo")
    sha = repo.commit({"benchwarden.toml": command_suite(WRITE_RESULT, repeats=2)})
    with session_scope(factory) as session:
        project = create_project(session, "embedded", repo_url=str(repo.path))
        project.settings = {"machines": ["local"]}
        token = create_token(session, project, "write").secret
    procs: list[Proc] = []
    with LiveServer(settings) as server:
        env = {"BENCHWARDEN_DATA_DIR": str(data), "BENCHWARDEN_DATABASE_URL": url,
               "BENCHWARDEN_URL": server.url, "BENCHWARDEN_TOKEN": token}  # fmt: skip
        try:
            for args in (["service-worker"], ["worker", "--machine", "local"]):
                procs.append(Proc(args, env, tmp_path / f"{args[0]}.log"))
                procs[-1].wait_for_log(" ready.", timeout=40)
            with session_scope(factory) as session:
                found = session.scalar(select(Project).where(Project.name == "embedded"))
                assert found is not None
                dispatcher = Dispatcher(make_celery(settings, factory))
                (job_id,) = [j.id for j in schedule_commits(session, dispatcher, found, [sha])]

            def finished() -> Job | None:
                with factory() as session:
                    job = session.get(Job, job_id)
                    return job if job and job.state in ("done", "failed") else None

            job = wait_until(finished, 90, "the job")
            assert isinstance(job, Job) and job.state == "done", job.error
            with factory() as session:
                run = session.get(Run, job.run_id)
                assert run is not None and run.result_count == 1

            def detected() -> bool:
                # A fresh session per poll: on SQLite an open transaction holds the write lock.
                with factory() as session:
                    return session.scalar(select(Series.detected_at)) is not None

            wait_until(detected, 30, "detection by the service worker")
        finally:
            stop_all(procs)
