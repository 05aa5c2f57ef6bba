"""The outside probe's dashboard and authentication findings, against gunicorn.

The fixes have their detailed tests beside the code they changed; this module
replays the probe's own requests against the production web server (gunicorn,
two gthread workers) on SQLite and on PostgreSQL, over loopback:

* finding 3: ``next`` after a real login never leaves the site;
* finding 4: a correctly signed form-encoded webhook is accepted, one signed
  over an empty body is refused;
* finding 7: a session cookie plus ``Authorization: Bearer nonsense`` and no
  CSRF token triages nothing;
* finding 8: a private project answers as a missing one, unnamed, and a
  viewer cannot triage;
* finding 9: the security headers are there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import create_engine, select
from werkzeug.security import generate_password_hash

from tests.conftest import _pg_url
from tests.factories import grant_role, make_alert, make_history
from tests.support.servers import GunicornServer
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import AlertSummary, User
from web.services.projects import create_project

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

PASSWORD = "probe-password-1"
SECRET = "probe-webhook-secret"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Probe:
    url: str
    database_url: str
    summary_id: int

    def status(self) -> str:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                query = select(AlertSummary.status).where(AlertSummary.id == self.summary_id)
                return str(conn.execute(query).scalar_one())
        finally:
            engine.dispose()


def _seed(url: str) -> int:
    """Private ``secret`` with one alert; ``mia`` maintains it, ``vic`` views it."""
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        project = create_project(session, "secret", public=False)
        digest = generate_password_hash(PASSWORD)
        session.add_all(User(username=name, password_hash=digest) for name in ("mia", "vic"))
        session.flush()
        grant_role(session, "mia", "secret", "maintainer")
        grant_role(session, "vic", "secret", "viewer")
        series = make_history(session, project, {"b": [1.0] * 5 + [1.3] * 5})["b"]
        summary_id = make_alert(session, series, 6).summary_id
    engine.dispose()
    return summary_id


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def probe(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Probe]:
    data_dir: Path = tmp_path_factory.mktemp("probe")
    if request.param == "postgresql":
        url = _pg_url(request.getfixturevalue("pg_server"), "bw_probe")
    else:
        url = f"sqlite:///{data_dir / 'benchwarden.db'}"
    summary_id = _seed(url)
    web = GunicornServer(
        {
            "BENCHWARDEN_DATABASE_URL": url,
            "BENCHWARDEN_DATA_DIR": str(data_dir),
            "BENCHWARDEN_SECRET_KEY": "probe",
            "BENCHWARDEN_EAGER_TASKS": "true",
            "BENCHWARDEN_GITHUB_WEBHOOK_SECRET": SECRET,
        }
    ).start()
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{web.url}/healthz", timeout=10).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield Probe(web.url, url, summary_id)
    finally:
        log = web.stop()
    assert "Traceback" not in log, log


def _login(probe: Probe, username: str, next_path: str = "/") -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{probe.url}/login", params={"next": next_path}, timeout=60)
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    form = {"username": username, "password": PASSWORD, "csrf_token": token, "next": next_path}
    done = browser.post(f"{probe.url}/login", data=form, allow_redirects=False, timeout=60)
    assert done.status_code == 303, done.text
    browser.headers["X-Landing"] = done.headers["Location"]
    return browser


@pytest.mark.parametrize("hostile", ["/\t/evil.example/phish", "//evil.example", "/\\evil.example"])
def test_login_next_stays_on_site(probe: Probe, hostile: str) -> None:
    landing = _login(probe, "mia", hostile).headers["X-Landing"]
    assert landing.startswith("/") and not landing.startswith(("//", "/\\"))
    assert "evil" not in landing
    newline = requests.get(f"{probe.url}/login?next=/%0Aevil", timeout=60)
    assert newline.status_code == 200


def test_session_cookie_with_a_made_up_bearer_triages_nothing(probe: Probe) -> None:
    browser = _login(probe, "mia")
    before = probe.status()
    base = f"{probe.url}/p/secret/alerts/{probe.summary_id}"
    nonsense = {"Authorization": "Bearer nonsense"}
    form = browser.post(f"{base}/triage", data={"status": "fixed"}, headers=nonsense, timeout=60)
    as_json = browser.post(
        f"{base}/triage.json", json={"status": "fixed"}, headers=nonsense, timeout=60
    )
    assert (form.status_code, as_json.status_code) == (400, 400)
    assert probe.status() == before != "fixed"


def test_private_project_is_a_missing_project_and_viewers_cannot_triage(probe: Probe) -> None:
    anonymous = requests.get(f"{probe.url}/p/secret/alerts", timeout=60)
    missing = requests.get(f"{probe.url}/p/nothing-here/alerts", timeout=60)
    assert anonymous.status_code == missing.status_code == 404
    assert "secret" not in anonymous.text
    api = requests.get(f"{probe.url}/api/v1/projects/secret", timeout=60)
    api_missing = requests.get(f"{probe.url}/api/v1/projects/nothing-here", timeout=60)
    assert api.status_code == api_missing.status_code == 404
    assert api.json()["error"]["code"] == api_missing.json()["error"]["code"]
    viewer = _login(probe, "vic")
    page = viewer.get(f"{probe.url}/p/secret/alerts", timeout=60)
    assert page.status_code == 200
    token = CSRF.search(viewer.get(f"{probe.url}/login", timeout=60).text).group(1)  # type: ignore[union-attr]
    refused = viewer.post(
        f"{probe.url}/p/secret/alerts/{probe.summary_id}/triage",
        data={"status": "invalid", "csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )
    assert refused.status_code == 403
    assert probe.status() != "invalid"


def _sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_form_webhooks_are_verified_over_their_raw_body(probe: Probe) -> None:
    payload = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1})
    body = urlencode({"payload": payload}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "probe-1",
    }
    url = f"{probe.url}/webhooks/github"
    signed = requests.post(url, data=body, headers=headers | {"X-Hub-Signature-256": _sign(body)})
    assert signed.status_code < 300, signed.text
    forged = requests.post(
        url,
        data=body,
        headers=headers | {"X-GitHub-Delivery": "probe-2", "X-Hub-Signature-256": _sign(b"")},
    )
    assert forged.status_code == 401


def test_security_headers(probe: Probe) -> None:
    for path in ("/", "/login", "/api/v1/projects"):
        headers = requests.get(f"{probe.url}{path}", timeout=60).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
