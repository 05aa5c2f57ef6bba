"""One upload cannot stall the service (issue 14, findings 1 and 2).

Against real server processes on loopback, with the upload limit set to 1 MB
(``BENCHWARDEN_MAX_UPLOAD_BYTES``): gunicorn (gthread workers, the production
server) on SQLite and PostgreSQL, and werkzeug's threaded server (what
``benchwarden up`` runs) on SQLite.

- A body over the limit answers 413 with the error envelope and stores
  nothing: chunked (no Content-Length, which werkzeug used to cut silently at
  the limit and hand to the parser), with Content-Length, and as a chunked
  multipart upload. A chunked body under the limit is read whole and stored.
- ``{`` followed by 256,000 spaces (which took 129 s in format detection)
  answers 4xx within 5 s, also four of them at once while a ``GET`` is served.
  The timed figures are in ``bench_suites/test_upload_bounded.py``.
- In process, on a SQLite file: while the parser runs, the request holds no
  transaction and another connection can write (on SQLite every transaction
  takes the write lock, see ``web/db.py``).
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, func, select

from runner.parsers import parse_bytes
from tests.conftest import LiveServer, _pg_url
from tests.support.servers import GunicornServer
from web.config import Settings
from web.db import make_engine, make_sessionmaker, request_session, session_scope
from web.migrations import upgrade
from web.models import Run
from web.services.projects import create_project
from web.services.tokens import create_token

LIMIT = 1_000_000
SHA = "abcdef1"
VALID_FILE = b'{"parse": {"latency": {"value": 1500.0}}}'
ADVERSARIAL = b"{" + b" " * 256_000
FUNCTIONAL_SECONDS = 5.0


@dataclass
class Service:
    url: str
    token: str
    database_url: str
    in_process: bool = False

    def upload_url(self, commit: str = SHA) -> str:
        return f"{self.url}/api/v1/runs?project=alpha&commit={commit}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def runs(self) -> int:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(Run)).scalar_one())
        finally:
            engine.dispose()


def _prepare(url: str) -> str:
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        token = create_token(session, create_project(session, "alpha"), "write").secret
    engine.dispose()
    return token


def _wait_until_serving(url: str) -> None:
    """Until the workers answer (they import the app after the port opens)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"{url}/api/v1/projects", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


@pytest.fixture(
    scope="module", params=["gunicorn-sqlite", "gunicorn-postgresql", "werkzeug-sqlite"]
)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    data_dir: Path = tmp_path_factory.mktemp("upload")
    if request.param.endswith("postgresql"):
        url = _pg_url(request.getfixturevalue("pg_server"), "bw_upload")
    else:
        url = f"sqlite:///{data_dir / 'benchwarden.db'}"
    token = _prepare(url)
    if request.param.startswith("gunicorn"):
        web = GunicornServer(
            {
                "BENCHWARDEN_DATABASE_URL": url,
                "BENCHWARDEN_DATA_DIR": str(data_dir),
                "BENCHWARDEN_SECRET_KEY": "upload",
                "BENCHWARDEN_EAGER_TASKS": "true",
                "BENCHWARDEN_MAX_UPLOAD_BYTES": str(LIMIT),
            }
        ).start()
        try:
            _wait_until_serving(web.url)
            yield Service(web.url, token, url)
        finally:
            log = web.stop()
        assert "Traceback" not in log, log
        return
    settings = replace(
        Settings.from_env({}),
        data_dir=data_dir,
        database_url=url,
        secret_key="upload",
        eager_tasks=True,
        max_upload_bytes=LIMIT,
    )
    with LiveServer(settings) as live:
        yield Service(live.url, token, url, in_process=True)


def _body(size: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    """`size` bytes of ``{`` and spaces; as a generator, requests sends them chunked."""
    yield b"{"
    sent = 1
    while sent < size:
        step = min(piece, size - sent)
        yield b" " * step
        sent += step


def _assert_too_large(response: requests.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": f"request body exceeds the limit of {LIMIT} bytes",
        "details": None,
    }


@pytest.mark.slow
def test_chunked_body_over_the_limit_is_refused(service: Service) -> None:
    before = service.runs()
    for size in (LIMIT + 1, 3 * LIMIT):
        response = requests.post(
            service.upload_url(),
            data=_body(size),
            headers=service.auth | {"Content-Type": "application/octet-stream"},
            timeout=60,
        )
        assert "Content-Length" not in response.request.headers
        _assert_too_large(response)
    assert service.runs() == before


@pytest.mark.slow
def test_body_with_content_length_over_the_limit_is_refused(service: Service) -> None:
    before = service.runs()
    response = requests.post(
        service.upload_url(),
        data=b"{" + b" " * (2 * LIMIT),
        headers=service.auth | {"Content-Type": "application/octet-stream"},
        timeout=60,
    )
    _assert_too_large(response)
    assert service.runs() == before


@pytest.mark.slow
def test_chunked_multipart_over_the_limit_is_refused(service: Service) -> None:
    if service.in_process:
        # werkzeug's multipart parser, stopped mid-part by the limit, leaves the
        # part's spooled file for the garbage collector to close: in process, that
        # ResourceWarning would land in whichever test runs then.
        pytest.skip("multipart limit checked against gunicorn (separate process)")
    boundary = "bw-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
        + json.dumps({"project": "alpha", "commit": SHA})
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="r.json"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        yield from _body(2 * LIMIT)
        yield f"\r\n--{boundary}--\r\n".encode()

    before = service.runs()
    response = requests.post(
        f"{service.url}/api/v1/runs",
        data=body(),
        headers=service.auth | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=60,
    )
    _assert_too_large(response)
    assert service.runs() == before


@pytest.mark.slow
def test_chunked_body_under_the_limit_is_read_whole(service: Service) -> None:
    padded = VALID_FILE + b" " * (LIMIT - len(VALID_FILE))  # exactly the limit
    before = service.runs()
    response = requests.post(
        service.upload_url("abcdef2"),
        data=(padded[i : i + 4096] for i in range(0, len(padded), 4096)),
        headers=service.auth | {"Content-Type": "application/octet-stream"},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    assert response.json()["run"]["source_format"] == "bmf"
    assert service.runs() == before + 1


def _timed(call: Callable[[], requests.Response]) -> tuple[int, float]:
    started = time.perf_counter()
    response = call()
    return response.status_code, time.perf_counter() - started


@pytest.mark.slow
def test_brace_and_spaces_answers_quickly_and_does_not_block_reads(service: Service) -> None:
    def upload() -> requests.Response:
        return requests.post(
            service.upload_url(),
            data=ADVERSARIAL,
            headers=service.auth | {"Content-Type": "application/octet-stream"},
            timeout=60,
        )

    def read() -> requests.Response:
        return requests.get(f"{service.url}/api/v1/projects", headers=service.auth, timeout=60)

    before = service.runs()
    status, seconds = _timed(upload)
    assert status == 422 and seconds < FUNCTIONAL_SECONDS
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        uploads = [pool.submit(_timed, upload) for _ in range(4)]
        time.sleep(0.05)
        reading = pool.submit(_timed, read)
        answers = [future.result() for future in uploads]
        read_status, read_seconds = reading.result()
    assert [status for status, _ in answers] == [422] * 4
    assert max(seconds for _, seconds in answers) < FUNCTIONAL_SECONDS, answers
    assert read_status == 200 and read_seconds < FUNCTIONAL_SECONDS
    assert service.runs() == before


# -- no transaction while parsing (in process, deterministic) -----------------------


@pytest.fixture()
def sqlite_app(tmp_path: Path) -> Iterator[tuple[Any, str, Path]]:
    from web import create_app

    path = tmp_path / "benchwarden.db"
    url = f"sqlite:///{path}"
    token = _prepare(url)
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path,
        database_url=url,
        secret_key="s",
        eager_tasks=True,
    )
    app = create_app(settings)
    try:
        yield app, token, path
    finally:
        app.extensions["benchwarden.engine"].dispose()


def test_no_transaction_is_open_while_the_file_is_parsed(
    sqlite_app: tuple[Any, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import web.api.routes as routes

    app, token, path = sqlite_app
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE lock_probe (written_while_parsing INTEGER)")
    seen: list[tuple[bool, str]] = []

    def parse_while_another_connection_writes(*args: Any, **kwargs: Any) -> Any:
        in_transaction = request_session().in_transaction()
        other = sqlite3.connect(path, timeout=1.0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # the write lock: fails after 1 s if held
            other.execute("INSERT INTO lock_probe VALUES (1)")
            other.execute("COMMIT")
            outcome = "written"
        except sqlite3.OperationalError as exc:
            outcome = str(exc)
        finally:
            other.close()
        seen.append((in_transaction, outcome))
        return parse_bytes(*args, **kwargs)

    monkeypatch.setattr(routes, "parse_bytes", parse_while_another_connection_writes)
    response = app.test_client().post(
        "/api/v1/runs",
        data={
            "file": (io.BytesIO(VALID_FILE), "bmf.json"),
            "metadata": json.dumps({"project": "alpha", "commit": SHA}),
        },
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    assert seen == [(False, "written")]
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM lock_probe").fetchone() == (1,)


def test_a_token_revoked_while_parsing_stores_nothing(
    sqlite_app: tuple[Any, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import web.api.routes as routes
    from web.models import ApiToken
    from web.services.tokens import revoke_token

    app, token, path = sqlite_app
    engine = make_engine(f"sqlite:///{path}")

    def parse_then_revoke(*args: Any, **kwargs: Any) -> Any:
        with session_scope(make_sessionmaker(engine)) as session:
            revoke_token(session, session.scalars(select(ApiToken.id)).one())
        return parse_bytes(*args, **kwargs)

    monkeypatch.setattr(routes, "parse_bytes", parse_then_revoke)
    response = app.test_client().post(
        f"/api/v1/runs?project=alpha&commit={SHA}",
        data=VALID_FILE,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 401, response.json
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Run)).scalar_one() == 0
    engine.dispose()
