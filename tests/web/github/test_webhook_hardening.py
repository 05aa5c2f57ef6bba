"""Webhook deliveries that GitHub never sends, or sends as a form (issue 14, findings 4 and 6).

The signature covers the raw body bytes for every content type; a delivery
whose payload has the wrong shape is refused with a 4xx and the error envelope,
changes nothing and never answers 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.conftest import LiveServer, table_counts
from tests.factories import make_project
from web.config import Settings

SECRET = "whsec-test"
PUSH = {
    "ref": "refs/heads/main",
    "after": "b" * 40,
    "repository": {"full_name": "owner/repo"},
}


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(event: str, delivery: str, signature: str, content_type: str) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature,
        "Content-Type": content_type,
    }


@pytest.fixture()
def server(live_database: str, tmp_path: Path) -> Iterator[LiveServer]:
    engine = create_engine(live_database)
    with Session(engine) as session:
        project = make_project(session)
        project.settings = {"github": {"repo": "Owner/Repo", "token": "t"}}
        session.commit()
    engine.dispose()
    settings = replace(
        Settings.from_env({}),
        data_dir=tmp_path,
        database_url=live_database,
        secret_key="t",
        eager_tasks=True,
        github_webhook_secret=SECRET,
    )
    with LiveServer(settings) as live:
        yield live


def test_form_delivery_is_verified_over_the_raw_body(server: LiveServer) -> None:
    """GitHub's ``application/x-www-form-urlencoded`` deliveries: the HMAC of the raw body."""
    url = f"{server.url}/webhooks/github"
    form = "application/x-www-form-urlencoded"
    body = urlencode({"payload": json.dumps({"zen": "hi", **PUSH})}).encode()
    good = requests.post(url, data=body, headers=headers("ping", "f-1", sign(body), form))
    assert good.status_code == 202, good.text
    assert good.json() == {"status": "pong", "projects": ["proj"], "event": "ping"}
    forged = requests.post(url, data=body, headers=headers("ping", "f-2", sign(b""), form))
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "bad_signature"
    raw = json.dumps(PUSH | {"ref": "refs/heads/other"}).encode()
    plain = requests.post(
        url, data=raw, headers=headers("push", "j-1", sign(raw), "application/json")
    )
    assert plain.status_code == 202 and plain.json()["status"] == "ignored"


# Signed, well-formed JSON, but not a shape GitHub sends.
R = '"repository":{"full_name":"owner/repo"}'
MISSHAPEN = [
    ("pull_request", '{"action":"opened","number":"abc",' + R + "}"),
    ("pull_request", '{"action":"opened","number":1e400,' + R + "}"),
    ("pull_request", '{"action":"opened","number":-1,' + R + "}"),
    ("pull_request", '{"action":"opened","number":99999999999999999999999,"repository":{}}'),
    ("pull_request", '{"action":"opened","pull_request":[1],' + R + "}"),
    ("pull_request", '{"action":"opened","number":3,"pull_request":{"head":[]},' + R + "}"),
    ("pull_request", '{"action":"labeled","number":3,"label":"x",' + R + "}"),
    ("pull_request", '{"action":["opened"],"number":3,' + R + "}"),
    ("installation", '{"action":"created","installation":{"id":1},"repositories":["str"]}'),
    ("installation", '{"action":"created","installation":{"id":"x"},"repositories":[]}'),
    ("installation", '{"action":"created","installation":[],"repositories":[]}'),
    ("installation_repositories", '{"repositories_added":[{"full_name":[]}]}'),
    ("installation_repositories", '{"repositories_removed":{"full_name":"owner/repo"}}'),
    ("push", '{"ref":5,"after":"b",' + R + "}"),
    ("push", '{"ref":"refs/heads/main","after":"b","repository":"owner/repo"}'),
    ("push", '{"ref":"refs/heads/main","after":"b","deleted":[],"repository":{}}'),
    ("ping", '{"repository":["owner/repo"]}'),
    ("ping", '{"repository":{"full_name":{"a":1}}}'),
]
NOT_JSON = [
    ("push", "[" * 10_000 + "]" * 10_000),
    ("push", '{"a":' * 10_000 + "1" + "}" * 10_000),
    ("push", "[1, 2]"),
    ("push", "nope"),
    ("push", '"text"'),
    ("ping", ""),
]


def cases(pairs: list[tuple[str, str]]) -> list[object]:
    return [pytest.param(event, body, id=f"{event}-{body[:40]}") for event, body in pairs]


@pytest.mark.parametrize(("event", "body"), cases(MISSHAPEN + NOT_JSON))
def test_misshapen_signed_payloads_are_4xx(  # type: ignore[no-untyped-def]
    client, db_session, db_connection, event: str, body: str
) -> None:
    project = make_project(db_session)
    project.settings = {"github": {"repo": "Owner/Repo", "token": "t"}}
    db_session.commit()
    before = table_counts(db_connection)
    raw = body.encode()
    response = client.post(
        "/webhooks/github", data=raw, headers=headers(event, "m-1", sign(raw), "application/json")
    )
    assert response.status_code in (400, 422), (body[:80], response.status_code)
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"} and error["message"]
    assert table_counts(db_connection) == before


@pytest.mark.parametrize(("event", "body"), cases(MISSHAPEN[:3] + NOT_JSON[:2]))
def test_misshapen_form_deliveries_are_4xx(client, event: str, body: str) -> None:  # type: ignore[no-untyped-def]
    raw = urlencode({"payload": body}).encode()
    form = "application/x-www-form-urlencoded"
    response = client.post(
        "/webhooks/github", data=raw, headers=headers(event, "m-2", sign(raw), form)
    )
    assert response.status_code in (400, 422), response.status_code
    assert response.json["error"]["code"] in ("invalid_payload", "too_deep")


@pytest.fixture()
def settings(settings: Settings) -> Settings:
    return replace(settings, github_webhook_secret=SECRET)
