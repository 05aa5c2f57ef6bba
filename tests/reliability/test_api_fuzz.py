"""schemathesis against /api/v1/openapi.json with the app on PostgreSQL.

Every generated request must get a non-5xx answer that matches the documented
schema (status code, content type and body).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from tests.conftest import CORPUS
from tests.support.servers import PostgresServer
from web import create_app
from web.config import Settings
from web.db import session_scope
from web.migrations import upgrade
from web.services.projects import create_project
from web.services.tokens import create_token

EXAMPLES_PER_OPERATION = 300
CASES: list[str] = []


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
    sample = (CORPUS / "pytest-benchmark" / "gab_pytest_output.json").read_bytes()
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
    # werkzeug's test client spools a body over 500 kB to a temporary file that
    # only closing the response closes, and schemathesis does not close it: that
    # file's ResourceWarning belongs to the harness, not to the app (the ingest
    # tests, which close their responses, would see an app leak).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {fuzz_app.config['FUZZ_TOKEN']}"},
            # A schema-valid upload can still be an unreadable result file, an unknown
            # project or commit: validity of the file's content is beyond the schema.
            excluded_checks=[positive_data_acceptance],
        )
        del response


def test_enough_cases_were_generated() -> None:
    """Runs after the fuzz test in file order; proves the budget was really spent."""
    assert len(CASES) >= 2000, f"only {len(CASES)} generated cases"
    assert len(set(CASES)) >= 7
