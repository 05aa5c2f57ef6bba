"""The demo ends at once, naming the job, when one of its jobs fails; failures
left by an earlier demo in the same data directory do not count."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from web.demo import PROJECT, DemoError, _log_errors, _Watcher
from web.demo_repo import DemoHistory
from web.models import Job
from web.services.projects import create_project


def _job(session: Session, project_id: int, state: str, error: str | None = None) -> Job:
    job = Job(
        project_id=project_id,
        kind="bisect",
        commit_sha="a" * 40,
        machine="local",
        state=state,
        attempts=1,
        error=error,
    )
    session.add(job)
    session.flush()
    return job


def test_a_failed_job_of_this_demo_ends_it(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with session_factory() as session, session.begin():
        project = create_project(session, PROJECT)
        old = _job(session, project.id, "failed", "from an earlier demo")
        _job(session, project.id, "running")
    history = DemoHistory(tmp_path, (), 0, 0)
    watcher = _Watcher(session_factory, history, [], older_than=old.id)
    watcher.raise_if_failed()  # the earlier demo's failure is not this one's
    with session_factory() as session, session.begin():
        step = _job(session, project.id, "failed", "suite demo timed out after 300s")
    with pytest.raises(DemoError, match=rf"#{step.id} bisect .* suite demo timed out"):
        watcher.raise_if_failed()


def test_a_timeout_message_carries_the_workers_errors(tmp_path: Path) -> None:
    (tmp_path / "service-worker.log").write_text(
        "[12:00: INFO/MainProcess] ready\n[12:01: ERROR/MainProcess] could not send task x\n"
    )
    (tmp_path / "runner.log").write_text("[12:00: INFO/MainProcess] ready\n")
    text = _log_errors(tmp_path)
    assert "service-worker.log: [12:01: ERROR/MainProcess] could not send task x" in text
    assert "ready" not in text
    assert _log_errors(tmp_path / "missing") == ""


def test_the_demo_says_what_to_install_when_pytest_benchmark_is_missing(tmp_path: Path) -> None:
    """A fresh `pip install -e .` has no pytest-benchmark; the demo stops at once, in one line."""
    import subprocess
    import sys

    from web.demo import missing_demo_packages

    assert missing_demo_packages(sys.executable) is None
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    reason = missing_demo_packages(str(bare / "bin" / "python"))
    assert reason is not None
    assert 'pip install -e ".[demo]"' in reason


def test_a_bisection_that_names_no_commit_ends_the_demo_with_its_reason(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    from web.demo import _bisect_step

    with session_factory() as session, session.begin():
        project = create_project(session, PROJECT)
        controller = _job(session, project.id, "done")
        controller.progress = {
            "range": ["a" * 40, "b" * 40],
            "reason": "no half explained the change after retries",
        }
    watcher = _Watcher(session_factory, DemoHistory(tmp_path, (), 0, 0), [])
    with pytest.raises(DemoError, match="only a range: no half explained the change"):
        _bisect_step(watcher)
