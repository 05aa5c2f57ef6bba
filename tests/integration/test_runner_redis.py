"""End to end on the production topology: PostgreSQL, Redis, real worker processes.

The web app serves on loopback; a service worker consumes detect/notify/schedule;
runner workers consume ``bench.<machine>``. Jobs go checkout -> run -> upload ->
detect, and survive a worker killed with SIGKILL and a Redis restart.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import LiveServer, _pg_url
from tests.integration.gitrepo import WRITE_RESULT, Repo, command_suite, demo_repo
from tests.integration.processes import BENCHWARDEN, Proc, stop_all, wait_until
from tests.support.servers import PostgresServer, RedisServer
from web.celery_app import Dispatcher, make_celery
from web.config import Settings
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Job, Project, Run, Series
from web.services.jobs import schedule_commits
from web.services.projects import create_project
from web.services.tokens import create_token

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@dataclass
class Stack:
    root: Path
    redis: RedisServer
    settings: Settings
    server: LiveServer
    factory: sessionmaker[Session]
    procs: list[Proc]

    def env(self, token: str = "") -> dict[str, str]:
        return {
            "BENCHWARDEN_DATABASE_URL": self.settings.database_url,
            "BENCHWARDEN_BROKER_URL": self.redis.url,
            "BENCHWARDEN_DATA_DIR": str(self.root / "data"),
            "BENCHWARDEN_URL": self.server.url,
            "BENCHWARDEN_TOKEN": token,
            "BENCHWARDEN_VISIBILITY_TIMEOUT": "4",
            "BENCHWARDEN_RESTORE_INTERVAL": "1",
            "BENCHWARDEN_UPLOAD_RETRIES": "8",
        }

    def start(self, args: list[str], token: str = "", name: str = "proc") -> Proc:
        proc = Proc(args, self.env(token), self.root / f"{name}-{len(self.procs)}.log")
        self.procs.append(proc)
        proc.wait_for_log(" ready.", timeout=40)
        return proc

    def project(self, name: str, repo: Repo, machines: list[str]) -> str:
        with session_scope(self.factory) as session:
            project = create_project(session, name, repo_url=str(repo.path))
            project.settings = {"machines": machines}
            return create_token(session, project, "write").secret

    def schedule(self, name: str, shas: list[str]) -> list[int]:
        dispatcher = Dispatcher(make_celery(self.settings, self.factory))
        with session_scope(self.factory) as session:
            project = session.scalar(select(Project).where(Project.name == name))
            assert project is not None
            ids = [job.id for job in schedule_commits(session, dispatcher, project, shas)]
        return ids

    def job(self, job_id: int) -> Job:
        with self.factory() as session:
            job = session.get(Job, job_id)
            assert job is not None
            return job

    def finished(self, job_id: int, timeout: float = 90) -> Job:
        wait_until(lambda: self.job(job_id).state in ("done", "failed"), timeout, f"job {job_id}")
        return self.job(job_id)


@pytest.fixture(scope="module")
def stack(
    pg_server: PostgresServer | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("redis-stack")
    url = _pg_url(pg_server, "bw_runner_jobs")
    upgrade(url)
    redis = RedisServer().start(appendonly=True)
    settings = replace(
        Settings.from_env({}),
        data_dir=root / "data",
        database_url=url,
        broker_url=redis.url,
        secret_key="t",
        eager_tasks=False,
    )
    engine = make_engine(url)
    stack = Stack(
        root, redis, settings, LiveServer(settings).__enter__(), make_sessionmaker(engine), []
    )
    try:
        stack.start(["service-worker"], name="service")
        yield stack
    finally:
        stop_all(stack.procs)
        stack.server.__exit__()
        stack.redis.stop()  # the restart test may have replaced the first server
        engine.dispose()


def test_demo_job_runs_end_to_end(stack: Stack, tmp_path: Path) -> None:
    repo = demo_repo(tmp_path / "demo")
    token = stack.project("demo", repo, ["m1"])
    stack.start(["worker", "--machine", "m1"], token, "m1")
    scheduled = subprocess.run(
        [BENCHWARDEN, "schedule", "--project", "demo", "--commits", repo.shas[-1], "--wait",
         "--timeout", "120"],
        env={**stack.env(), "PATH": __import__("os").environ["PATH"]},
        capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert scheduled.returncode == 0, scheduled.stderr
    job_id = int(scheduled.stdout.split()[1].rstrip(":"))
    job = stack.job(job_id)
    assert (job.state, job.attempts, job.machine) == ("done", 1, "m1")
    with stack.factory() as session:
        run = session.get(Run, job.run_id)
        assert run is not None and run.idempotency_key == f"job-{job_id}"
        # the demo suite's 2 benchmarks, each timed and counted in instructions
        assert run.status == "ok" and run.result_count == 4
        assert "callgrind" in (run.log or "")
        assert "benchmark-json" in (run.log or "") and "venv" in (run.environment or "")
        assert "preflight" in run.machine_snapshot["extra"]
    # The upload enqueued detection, which the service worker ran.
    wait_until(lambda: _detected(stack, run.project_id), 30, "detection")
    listing = subprocess.run(
        [BENCHWARDEN, "jobs", "--project", "demo"], env={**__import__("os").environ, **stack.env()},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "done" in listing.stdout and "m1" in listing.stdout


def _detected(stack: Stack, project_id: int) -> bool:
    with stack.factory() as session:
        stamps = session.scalars(select(Series.detected_at).where(Series.project_id == project_id))
        return all(s is not None for s in stamps)


def test_broken_and_hanging_suites_fail_with_their_log(stack: Stack, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "faulty")
    broken = repo.commit({"benchwarden.toml": command_suite("echo broken-output; exit 3")})
    hanging = repo.commit({"benchwarden.toml": command_suite("sleep 600", timeout=2)})
    token = stack.project("faulty", repo, ["m2"])
    stack.start(["worker", "--machine", "m2"], token, "m2")
    broken_id, hanging_id = stack.schedule("faulty", [broken, hanging])
    job = stack.finished(broken_id)
    assert job.state == "failed" and "exited with status 3" in (job.error or "")
    assert "broken-output" in (job.log_tail or "")
    with stack.factory() as session:
        run = session.get(Run, job.run_id)
        assert run is not None and run.status == "failed" and "broken-output" in (run.log or "")
    job = stack.finished(hanging_id, timeout=60)
    assert job.state == "failed" and "timed out after 2s" in (job.error or "")
    assert job.finished_at and job.started_at
    assert (job.finished_at - job.started_at).total_seconds() < 30


def test_worker_killed_mid_job_still_stores_one_run(stack: Stack, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "slow")
    sha = repo.commit({"benchwarden.toml": command_suite(f"sleep 3 && {WRITE_RESULT}")})
    token = stack.project("killed", repo, ["m3"])
    worker = stack.start(["worker", "--machine", "m3"], token, "m3")
    (job_id,) = stack.schedule("killed", [sha])
    wait_until(lambda: stack.job(job_id).state == "running", 30, "job to start")
    worker.kill()
    stack.start(["worker", "--machine", "m3"], token, "m3")
    job = stack.finished(job_id, timeout=90)
    assert job.state == "done" and job.attempts == 2
    with stack.factory() as session:
        runs = session.scalar(
            select(func.count()).select_from(Run).where(Run.idempotency_key == f"job-{job_id}")
        )
    assert runs == 1


def test_redis_restart_during_a_run_loses_no_job(stack: Stack, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "restart")
    first = repo.commit({"benchwarden.toml": command_suite(f"sleep 3 && {WRITE_RESULT}")})
    second = repo.commit({"x.txt": "x"})
    token = stack.project("restart", repo, ["m4"])
    stack.start(["worker", "--machine", "m4"], token, "m4")
    ids = stack.schedule("restart", [first, second])
    wait_until(lambda: stack.job(ids[0]).state == "running", 30, "job to start")
    port, root = stack.redis.port, stack.redis.root
    stack.redis.stop(cleanup=False)
    restarted = RedisServer(port=port)
    restarted.root = root
    stack.redis = restarted.start(appendonly=True)
    jobs = [stack.finished(i, timeout=120) for i in ids]
    assert [j.state for j in jobs] == ["done", "done"]
    with stack.factory() as session:
        keys = list(
            session.scalars(select(Run.idempotency_key).where(Run.project_id == jobs[0].project_id))
        )
    assert sorted(keys) == sorted(f"job-{i}" for i in ids)
