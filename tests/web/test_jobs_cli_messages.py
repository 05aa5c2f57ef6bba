"""What ``schedule --wait`` and ``jobs`` tell a person when something is wrong (issue 15)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_project
from web.cli.jobs import _wait
from web.models import Job


def test_wait_names_each_failed_job_with_its_reason(
    db_session: Session, session_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(db_session)
    jobs = [
        Job(project_id=project.id, commit_sha="a" * 40, machine="local", state="done"),
        Job(project_id=project.id, commit_sha="b" * 40, machine="local", state="failed",
            error="No module named pytest\nhint: add an install step"),
        Job(project_id=project.id, commit_sha="c" * 40, machine="box", state="failed",
            log_tail="collecting\nsuite timed out after 600 s"),
    ]  # fmt: skip
    db_session.add_all(jobs)
    db_session.flush()
    assert _wait(session_factory, [j.id for j in jobs], timeout=5) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"job {jobs[1].id} (bbbbbbbbbbbb on local) failed: No module named pytest",
        f"job {jobs[2].id} (cccccccccccc on box) failed: suite timed out after 600 s",
        "error: 2 of 3 job(s) failed",
    ]


def test_wait_with_every_job_done_says_so(
    db_session: Session, session_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(db_session)
    job = Job(project_id=project.id, commit_sha="a" * 40, machine="local", state="done")
    db_session.add(job)
    db_session.flush()
    assert _wait(session_factory, [job.id], timeout=5) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 job(s) finished, none failed"


def test_jobs_without_a_data_dir_names_what_is_missing_and_creates_nothing(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHWARDEN_")}
    done = subprocess.run(
        ["benchwarden", "jobs"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: no benchwarden database at ")
    assert "BENCHWARDEN_DATA_DIR" in line and "server" not in line
    assert not (tmp_path / ".benchwarden").exists()
