"""Factories for test data; every test builds what it needs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from web.models import Project
from web.services.projects import create_project
from web.services.tokens import create_token


def make_project(session: Session, name: str = "proj", *, public: bool = True) -> Project:
    project = create_project(session, name, public=public)
    session.commit()
    return project


def make_token(session: Session, project: Project, scope: str = "write") -> str:
    secret = create_token(session, project, scope).secret
    session.commit()
    return secret


def native_results(
    values: dict[str, float],
    *,
    measure: str = "time",
    unit: str = "s",
    direction: str = "lower_is_better",
    samples: dict[str, list[float]] | None = None,
) -> bytes:
    """A result file in benchwarden's own format: one run, one record per benchmark."""
    import json

    records = [
        {
            "suite": "suite",
            "name": name,
            "measure": measure,
            "unit": unit,
            "direction": direction,
            "value": value,
            "samples": (samples or {}).get(name),
        }
        for name, value in values.items()
    ]
    return json.dumps({"format": "custom", "runs": [{"results": records}]}).encode()


def post_results(client, token: str, commit: str, data: bytes, **metadata: object):  # type: ignore[no-untyped-def]
    """Post through the real ingest API (multipart), as `benchwarden submit` does."""
    import io
    import json

    fields = {"project": "proj", "commit": commit, "branch": "main", "format": "benchwarden"}
    fields |= metadata
    response = client.post(
        "/api/v1/runs",
        data={"file": (io.BytesIO(data), "results.json"), "metadata": json.dumps(fields)},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 201), response.json
    return response


def sha(n: int) -> str:
    return f"{n:040x}"


# --- dashboard: series, alerts and users built directly (fast, exact values) ---


def make_history(  # type: ignore[no-untyped-def]
    session: Session,
    project: Project,
    values: dict[str, list[float]],
    *,
    machine: str = "box1",
    branch: str = "main",
    measure: str = "time",
    unit: str = "s",
    direction: str = "lower_is_better",
    suite: str = "suite",
    first_commit: int = 1,
    stddev: float | None = None,
    samples: int = 0,
):
    """One run per commit, one series per benchmark name; commits are ``sha(first_commit + i)``.

    Returns ``{name: series}``. Results carry ``samples`` raw samples around the
    value (deterministic) when ``samples`` > 0. Nothing goes through ingest, so
    no detection runs: add alerts with :func:`make_alert`.
    """
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from web.models import (
        Benchmark,
        Branch,
        BranchCommit,
        Commit,
        Machine,
        Measure,
        Result,
        Run,
        Series,
    )

    def get_or_add(model, **fields):  # type: ignore[no-untyped-def]
        found = session.scalar(select(model).filter_by(**fields))
        if found is None:
            found = model(**fields)
            session.add(found)
            session.flush()
        return found

    box = get_or_add(Machine, project_id=project.id, name=machine)
    br = get_or_add(Branch, project_id=project.id, name=branch)
    meas = get_or_add(Measure, project_id=project.id, name=measure, unit=unit)
    meas.direction = direction
    series = {}
    for name in values:
        bench = get_or_add(
            Benchmark, project_id=project.id, suite=suite, name=name, params_key="{}"
        )
        series[name] = get_or_add(
            Series,
            project_id=project.id,
            benchmark_id=bench.id,
            measure_id=meas.id,
            machine_id=box.id,
            branch_id=br.id,
        )
    length = max(len(v) for v in values.values())
    start = datetime(2026, 1, 1, tzinfo=UTC)
    numbers = [first_commit + i for i in range(length)]
    commits = [
        Commit(
            project_id=project.id,
            sha=sha(n),
            author="Ada",
            message=f"commit {n}\n\nbody",
            committed_at=start + timedelta(hours=n),
        )
        for n in numbers
    ]
    session.add_all(commits)
    session.flush()
    session.add_all(
        BranchCommit(branch_id=br.id, commit_id=c.id, position=n * 1024)
        for n, c in zip(numbers, commits, strict=True)
    )
    runs = [
        Run(
            project_id=project.id,
            commit_id=c.id,
            branch_id=br.id,
            machine_id=box.id,
            source_format="custom",
            result_count=len(values),
            machine_snapshot={"name": machine, "cpu_model": "TestCPU", "cores": 4},
        )
        for c in commits
    ]
    session.add_all(runs)
    session.flush()
    for i, (n, commit, run) in enumerate(zip(numbers, commits, runs, strict=True)):
        for name, vals in values.items():
            if i >= len(vals):
                continue
            v = vals[i]
            raw = [v * (1 + 0.001 * ((k % 5) - 2)) for k in range(samples)] if samples else None
            session.add(
                Result(
                    run_id=run.id,
                    series_id=series[name].id,
                    benchmark_id=series[name].benchmark_id,
                    measure_id=meas.id,
                    commit_id=commit.id,
                    position=n * 1024,
                    value=v,
                    mean=v,
                    stddev=stddev,
                    samples=raw,
                    sample_count=samples or None,
                )
            )
    session.commit()
    return series


def make_alert(  # type: ignore[no-untyped-def]
    session: Session,
    series,
    first_commit: int,
    *,
    before: float = 1.0,
    after: float = 1.2,
    status: str = "untriaged",
    summary=None,
):
    """An active alert (and its summary, unless given) at commit ``sha(first_commit)``."""
    from sqlalchemy import select

    from web.models import Alert, AlertSummary, Commit

    first = session.scalar(
        select(Commit).where(
            Commit.project_id == series.project_id, Commit.sha == sha(first_commit)
        )
    )
    last_good = session.scalar(
        select(Commit).where(
            Commit.project_id == series.project_id, Commit.sha == sha(first_commit - 1)
        )
    )
    if summary is None:
        summary = AlertSummary(
            project_id=series.project_id,
            branch_id=series.branch_id,
            status=status,
            first_commit_id=first.id,
            last_good_commit_id=last_good.id if last_good else None,
        )
        session.add(summary)
        session.flush()
    alert = Alert(
        series_id=series.id,
        summary_id=summary.id,
        first_commit_id=first.id,
        last_good_commit_id=last_good.id if last_good else None,
        before=before,
        after=after,
        rel_change=after / before - 1,
        pvalue=0.001,
        is_regression=after > before,
        status=status,
        detector_version="test",
    )
    session.add(alert)
    session.commit()
    return alert


def make_user(session: Session, username: str = "maintainer", password: str = "correct horse"):  # type: ignore[no-untyped-def]
    from werkzeug.security import generate_password_hash

    from web.models import User

    user = User(username=username, password_hash=generate_password_hash(password))
    session.add(user)
    session.commit()
    return user


def grant_role(session: Session, username: str, project: str, role: str) -> None:
    """Give a dashboard user a project role, as ``benchwarden user grant`` does."""
    from web.services.membership import grant

    grant(session, username, project, role)
    session.commit()
