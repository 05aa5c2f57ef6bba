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
