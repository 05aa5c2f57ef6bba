"""schemathesis against /api/v1/openapi.json with the app on PostgreSQL.

Every generated request must get a non-5xx answer that matches the documented
schema (status code, content type and body).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from werkzeug.test import Client, TestResponse

from tests.conftest import FIXTURES
from tests.support.servers import PostgresServer
from web import create_app
from web.config import Settings
from web.db import session_scope
from web.migrations import upgrade
from web.services.projects import create_project
from web.services.tokens import create_token

EXAMPLES_PER_OPERATION = 300
CASES: list[str] = []


class ClosingClient(Client):
    """werkzeug's test client, keeping the responses it opens so the test can
    close them and their request bodies. werkzeug spools a body over 500 kB to
    a temporary file and, without ``follow_redirects``, never closes it;
    schemathesis does not either. The file was left to the garbage collector,
    whose ResourceWarning then surfaced in whichever test happened to run."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.opened: list[TestResponse] = []

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        self.opened.append(response)
        return response

    def close_responses(self) -> None:
        for response in self.opened:
            response.close()
            response.request.input_stream.close()
        self.opened.clear()


@pytest.fixture(scope="module")
def fuzz_app(pg_server: PostgresServer | None, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tests.conftest import _pg_url

    url = _pg_url(pg_server, "bw_fuzz")
    upgrade(url)
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        replace(Settings.from_env({}), data_dir=data_dir, database_url=url, eager_tasks=True)
    )
    with session_scope(app.extensions["benchwarden.sessionmaker"]) as session:
        project = create_project(session, "proj")
        create_project(session, "secret", public=False)
        token = create_token(session, project, "write").secret
    client = app.test_client()
    sample = (FIXTURES / "pytest-benchmark" / "pytest-benchmark.json").read_bytes()
    client.post(
        f"/api/v1/runs?project=proj&commit={'a' * 40}",
        data=sample,
        headers={"Authorization": f"Bearer {token}"},
    )
    app.config["FUZZ_TOKEN"] = token
    yield app
    app.extensions["benchwarden.engine"].dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_app) -> Iterator[schemathesis.BaseSchema]:  # type: ignore[no-untyped-def]
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_never_fails_and_matches_its_schema(case, fuzz_app) -> None:  # type: ignore[no-untyped-def]
    CASES.append(case.operation.label)
    # schemathesis probes every operation with bad credentials (its ignored_auth
    # check); across thousands of cases those would trip the failed-authentication
    # limit, which tests/web/test_auth_throttle.py covers, and turn 401s into 429s.
    fuzz_app.extensions["benchwarden.auth_limiter"].limiter.reset()
    client = ClosingClient(fuzz_app)
    try:
        case.call_and_validate(
            session=client,
            headers={"Authorization": f"Bearer {fuzz_app.config['FUZZ_TOKEN']}"},
            # A schema-valid upload can still be an unreadable result file, an unknown
            # project or commit: validity of the file's content is beyond the schema.
            excluded_checks=[positive_data_acceptance],
        )
    finally:
        client.close_responses()


def test_enough_cases_were_generated() -> None:
    """Runs after the fuzz test in file order; proves the budget was really spent."""
    assert len(CASES) >= 2000, f"only {len(CASES)} generated cases"
    assert len(set(CASES)) >= 7
