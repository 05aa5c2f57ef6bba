"""Migration 0009 moves a stored job's progress out of its spec (issue 17, item 2).

Rows written before it kept confirmation verdicts, A/B comparisons and a whole
bisection's state inside ``job.spec``; after it, the spec holds what the runner
was told and ``job.progress`` the rest, readable through `JobProgress`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import MetaData, text

from tests.conftest import _pg_url
from tests.support.servers import PostgresServer
from web.db import make_engine
from web.migrations import alembic_config
from web.models.job_progress import JobProgress

CONFIRM_SPEC = {
    "job_id": 1,
    "kind": "confirm",
    "project": "p",
    "repo_url": "/r",
    "commits": ["a" * 40, "b" * 40],
    "benchmarks": ["bench"],
    "repeats": 10,
    "token_id": 4,
    "alert_ids": [7],
    "retries": 1,
    "run_ids": {"a" * 40: 11, "b" * 40: 12},
    "confirmation": {"7": {"verdict": "regression", "rel_change": 0.1, "pvalue": 0.001}},
}
STEP_SPEC = {
    "job_id": 3,
    "kind": "bisect",
    "project": "p",
    "repo_url": "/r",
    "commits": ["a" * 40, "b" * 40],
    "benchmarks": ["bench"],
    "repeats": 5,
    "verify": True,
}
CONTROLLER_SPEC = {
    "job_id": 2,
    "commits": ["a" * 40, "c" * 40, "b" * 40],
    "lo": 0,
    "hi": 1,
    "steps": 2,
    "retries": 0,
    "repeats": 5,
    "samples": {"a" * 40: [1.0, 1.01]},
    "alert_ids": [7],
    "benchmark": "bench",
    "benchmark_id": 3,
    "measure_id": 1,
    "lower_is_better": True,
    "expected": "regression",
    "alert_change": 0.1,
    "culprit": "c" * 40,
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    server: PostgresServer | None = request.getfixturevalue("pg_server")
    return _pg_url(server, "bw_progress")


def test_progress_moves_out_of_the_spec(database: str) -> None:
    command.upgrade(alembic_config(database), "0008")
    engine = make_engine(database)
    try:
        tables = MetaData()
        tables.reflect(engine, only=["project", "job"])
        project, job = tables.tables["project"], tables.tables["job"]
        now = datetime.now(UTC)
        with engine.begin() as connection:
            connection.execute(
                project.insert().values(
                    id=1, name="p", public=True, default_branch="main", settings={}, created_at=now
                )
            )
            for job_id, kind, parent, spec in (
                (1, "confirm", None, CONFIRM_SPEC),
                (2, "bisect", None, CONTROLLER_SPEC),
                (3, "bisect", 2, STEP_SPEC),
            ):
                connection.execute(
                    job.insert().values(
                        id=job_id,
                        project_id=1,
                        kind=kind,
                        commit_sha="b" * 40,
                        machine="m1",
                        parent_job_id=parent,
                        spec=spec,
                        state="done",
                        attempts=1,
                        created_at=now,
                    )
                )
        command.upgrade(alembic_config(database), "head")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, spec, progress FROM job ORDER BY id"))
            found = {
                row[0]: (_json(row[1]), JobProgress.model_validate(_json(row[2]))) for row in rows
            }
    finally:
        engine.dispose()
    spec, progress = found[1]
    moved = ("alert_ids", "retries", "run_ids", "confirmation")
    assert spec == {k: v for k, v in CONFIRM_SPEC.items() if k not in moved}
    assert "repeats" in spec and "token_id" in spec and "benchmarks" in spec
    assert progress.alert_ids == [7] and progress.retries == 1
    assert progress.confirmation["7"].verdict == "regression"
    assert progress.run_ids == {"a" * 40: 11, "b" * 40: 12}
    spec, progress = found[2]
    assert spec == {"job_id": 2}, "a controller is never sent: its spec was all progress"
    assert progress.commits == CONTROLLER_SPEC["commits"] and progress.culprit == "c" * 40
    assert (progress.lo, progress.hi, progress.steps, progress.repeats) == (0, 1, 2, 5)
    assert progress.samples == {"a" * 40: [1.0, 1.01]} and progress.benchmark == "bench"
    spec, progress = found[3]
    assert spec["commits"] == STEP_SPEC["commits"] and spec["repeats"] == 5
    assert progress.verify is True and "verify" not in spec


def _json(value: object) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    assert isinstance(loaded, dict)
    return loaded
