"""Suites outside the benchmarked repository: stored per project, or ``schedule --config``.

The backfill runs for real: `benchwarden schedule` over a git repository that has
no benchwarden.toml in any commit, `runner.job.run_job` against the live app over
HTTP, then `benchwarden submit` of a result file at one of the same commits.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runner.job import RunnerContext, run_job
from tests.conftest import FIXTURES, LiveServer
from tests.integration.gitrepo import WRITE_RESULT, Repo, command_suite
from web.cli.main import main
from web.db import make_engine, make_sessionmaker, session_scope
from web.models import Benchmark, Commit, Job, Project, Result, Run
from web.models.project_settings import ProjectSettingsError
from web.services.jobs import create_job
from web.services.projects import create_project, find_project
from web.services.tokens import create_token

pytestmark = pytest.mark.timeout(180)

STORED = command_suite(WRITE_RESULT).replace("[suites.cmd]", "[suites.stored]")
BAD_TOML = "[suites.a\nkind = 'command'\n"


class Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def after_commit(
        self, session: Session, name: str, *args: Any, queue: str | None = None
    ) -> None:
        self.messages.append(args[0])


def _cli(url: str, *args: str) -> int:
    return main([*args, "--database-url", url])


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_project_suites_set_show_clear_and_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert _cli(url, "db", "upgrade") == 0
    assert _cli(url, "project", "create", "p") == 0
    capsys.readouterr()
    assert _cli(url, "project", "suites", "p") == 0
    assert "p has no stored suites" in capsys.readouterr().err
    assert _cli(url, "project", "suites", "p", "--set", _file(tmp_path, "bad.toml", BAD_TOML)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.toml: not valid TOML" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    declared = _file(tmp_path, "undeclared.toml", '[suites.a]\nkind = "nope"\n')
    assert _cli(url, "project", "suites", "p", "--set", declared) == 2
    assert "suites.a.kind must be one of" in capsys.readouterr().err
    assert _cli(url, "project", "suites", "p", "--set", _file(tmp_path, "ok.toml", STORED)) == 0
    capsys.readouterr()
    assert _cli(url, "project", "suites", "p", "--show") == 0
    shown = capsys.readouterr()
    assert shown.out == STORED and "suites_source = 'commit'" in shown.err
    assert _cli(url, "project", "set", "p", "suites_source=sometimes") == 2
    assert "suites_source: " in capsys.readouterr().err
    assert _cli(url, "project", "suites", "p", "--clear") == 0
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        project = find_project(session, "p")
        assert project is not None and project.suites_config is None
    engine.dispose()


def test_schedule_refuses_a_bad_config_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _file(tmp_path, "bad.toml", BAD_TOML)
    assert main(["schedule", "--project", "p", "--commits", "HEAD", "--config", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not valid TOML" in err and err.count("\n") == 1


def test_a_bad_stored_config_is_refused_by_the_model(db_session: Session) -> None:
    project = create_project(db_session, "p")
    with pytest.raises(ValueError, match="not valid TOML"):
        project.suites_config = BAD_TOML
    with pytest.raises(ProjectSettingsError, match="suites_source"):
        project.settings = {"suites_source": "maybe"}


def test_job_messages_carry_the_config_by_precedence(db_session: Session, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    sha = repo.commit({"a.txt": "1"})
    project = create_project(db_session, "p", repo_url=str(repo.path))
    recorder = Recorder()

    def spec() -> dict[str, Any]:
        create_job(db_session, recorder, project, machine="m1", commits=[sha])
        message = recorder.messages[-1]
        return {k: v for k, v in message.items() if k.startswith("suites_")}

    assert spec() == {}
    project.suites_config = STORED
    assert spec() == {"suites_config": STORED, "suites_origin": "project config",
                      "suites_config_wins": False}  # fmt: skip
    project.settings = {"suites_source": "project"}
    assert spec()["suites_config_wins"] is True
    from web.services.jobs import schedule_commits

    (job,) = schedule_commits(db_session, recorder, project, [sha], machines=["m1"], config="x")
    assert {k: v for k, v in job.spec.items() if k.startswith("suites_")} == {
        "suites_config": "x", "suites_origin": "schedule --config", "suites_config_wins": True,
    }  # fmt: skip


def _submit(server: LiveServer, token: str, repo: Path, result: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_"))}
    env |= {"BENCHWARDEN_URL": server.url, "BENCHWARDEN_TOKEN": token,
            "BENCHWARDEN_MACHINE": "ci-box"}  # fmt: skip
    done = subprocess.run(
        ["benchwarden", "submit", str(result), "--project", "proj", "--repo", str(repo)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_backfill_of_an_unmodified_repository_stores_runs_at_its_real_shas(
    live_server: LiveServer,
    live_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    (tmp_path / "data").mkdir()  # the broker's file lives there, whatever the database
    monkeypatch.setenv("BENCHWARDEN_DATA_DIR", str(tmp_path / "data"))
    repo = Repo(tmp_path / "repo")
    for n in range(5):
        repo.commit({"src/lib.py": f"VALUE = {n}\n"}, f"change {n}")
    assert not any(p.name in ("benchwarden.toml", "pyproject.toml") for p in repo.path.rglob("*"))
    engine = make_engine(live_database)
    request.addfinalizer(engine.dispose)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        create_project(session, "proj", repo_url=str(repo.path))
    assert _cli(live_database, "project", "suites", "proj", "--set",
                _file(tmp_path, "suites.toml", STORED)) == 0  # fmt: skip
    commits = f"{repo.shas[0]}..{repo.shas[-1]}"
    argv = ["schedule", "--project", "proj", "--commits", commits, "--every", "2",
            "--machine", "m1", "--force"]  # fmt: skip
    assert _cli(live_database, *argv) == 0
    capsys.readouterr()
    with session_scope(factory) as session:
        project = session.scalars(select(Project)).one()
        token = create_token(session, project, "write").secret
        specs = [dict(j.spec) for j in session.scalars(select(Job).order_by(Job.id))]
    ctx = RunnerContext(url=live_server.url, token=token, machine="m1", work_dir=tmp_path / "w")
    for spec in specs:
        assert run_job(spec, ctx).state == "done"
    expected = {repo.shas[2], repo.shas[4]}
    with factory() as session:
        jobs = list(session.scalars(select(Job)))
        assert {j.commit_sha for j in jobs} == expected
        assert all("suites from: project config" in (j.log_tail or "") for j in jobs)
        rows = session.execute(select(Commit.sha, Run.id).join(Run, Run.commit_id == Commit.id))
        assert {sha for sha, _ in rows} == expected
        assert session.scalar(select(Result.id).limit(1)) is not None
    # A CI job's result file at the tip lands on the same commit row.
    doc = json.loads((FIXTURES / "pytest-benchmark" / "pytest-benchmark.json").read_text())
    doc["commit_info"]["id"] = repo.shas[-1]
    result = tmp_path / "tip.json"
    result.write_text(json.dumps(doc))
    _submit(live_server, token, repo.path, result)
    with factory() as session:
        tip = session.scalars(select(Commit).where(Commit.sha == repo.shas[-1])).one()
        machines = session.scalars(select(Run.machine_id).where(Run.commit_id == tip.id)).all()
        assert len(machines) == 2 and len(set(machines)) == 2  # the job's and the CI box's
        assert session.scalar(select(Commit.id).where(Commit.sha.not_in(expected))) is None


def test_precedence_in_real_jobs_and_the_config_used_is_reported(
    live_server: LiveServer, live_database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    own = command_suite(WRITE_RESULT).replace("[suites.cmd]", "[suites.own]")
    repo = Repo(tmp_path / "repo")
    sha = repo.commit({"benchwarden.toml": own})
    engine = make_engine(live_database)
    request.addfinalizer(engine.dispose)
    factory = make_sessionmaker(engine)
    recorder = Recorder()
    overriding = command_suite(WRITE_RESULT).replace("[suites.cmd]", "[suites.cfg]")
    from web.services.jobs import schedule_commits

    with session_scope(factory) as session:
        project = create_project(session, "proj", repo_url=str(repo.path))
        project.suites_config = STORED
        token = create_token(session, project, "write").secret
        create_job(session, recorder, project, machine="m1", commits=[sha])
        project.settings = {"suites_source": "project"}
        create_job(session, recorder, project, machine="m1", commits=[sha])
        schedule_commits(session, recorder, project, [sha], machines=["m1"], config=overriding)
    ctx = RunnerContext(url=live_server.url, token=token, machine="m1", work_dir=tmp_path / "w")
    for message in recorder.messages:
        assert run_job(message, ctx).state == "done"
    with factory() as session:
        jobs = list(session.scalars(select(Job).order_by(Job.id)))
        origins = [next(line for line in (j.log_tail or "").splitlines() if "suites from" in line)
                   for j in jobs]  # fmt: skip
        suites = [
            session.scalars(
                select(Benchmark.suite)
                .join(Result, Result.benchmark_id == Benchmark.id)
                .where(Result.run_id == j.run_id)
            ).one()
            for j in jobs
        ]
    assert origins == [
        "[benchwarden] suites from: commit's benchwarden.toml",
        "[benchwarden] suites from: project config",
        "[benchwarden] suites from: schedule --config",
    ]
    assert suites == ["own", "stored", "cfg"]
