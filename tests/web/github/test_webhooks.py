"""POST /webhooks/github: signatures, deduplication, scheduling, installation ids."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import table_counts
from tests.factories import make_project
from web.config import Settings
from web.github import webhooks
from web.models import Project, WebhookDelivery

SECRET = "whsec-test"


@pytest.fixture()
def settings(settings: Settings) -> Settings:
    return replace(settings, github_webhook_secret=SECRET)


@pytest.fixture()
def project(db_session):  # type: ignore[no-untyped-def]
    found = make_project(db_session)
    found.settings = {"github": {"repo": "Owner/Repo", "token": "t"}}
    db_session.commit()
    return found


@pytest.fixture()
def scheduled(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Record calls to the scheduling service instead of creating jobs."""
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def fake(name: str):  # type: ignore[no-untyped-def]
        def schedule(session, dispatcher, project, *args):  # type: ignore[no-untyped-def]
            calls.append((name, (project.name, *args)))

        return schedule

    for name in ("schedule_push", "queue_pull_request"):
        monkeypatch.setattr(webhooks, name, fake(name))
    return calls


def _post(client, event: str, payload: dict, delivery: str = "d-1", secret: str | None = SECRET,
          signature: str | None = None):  # type: ignore[no-untyped-def]  # fmt: skip
    body = json.dumps(payload).encode()
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery}
    if secret is not None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = signature or f"sha256={digest}"
    return client.post("/webhooks/github", data=body, content_type="application/json",
                       headers=headers)  # fmt: skip


PUSH = {"ref": "refs/heads/main", "after": "a" * 40, "repository": {"full_name": "owner/repo"}}


@pytest.mark.parametrize(
    ("secret", "signature"),
    [(None, None), ("wrong", None), (SECRET, "sha256=" + "0" * 64), (SECRET, "garbage")],
)
def test_bad_or_missing_signature_is_401_and_changes_nothing(  # type: ignore[no-untyped-def]
    client, project, db_connection, scheduled, secret, signature
) -> None:
    before = table_counts(db_connection)
    response = _post(client, "push", PUSH, secret=secret, signature=signature)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "bad_signature"
    assert SECRET not in response.get_data(as_text=True)
    assert table_counts(db_connection) == before
    assert scheduled == []


def test_ping(client, project) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, "ping", {"zen": "hi", "repository": {"full_name": "owner/repo"}})
    assert response.status_code == 202
    assert response.json == {"status": "pong", "event": "ping", "projects": ["proj"]}


def test_push_to_default_branch_schedules_once(client, project, db_session, scheduled) -> None:  # type: ignore[no-untyped-def]
    assert _post(client, "push", PUSH).json["status"] == "scheduled"
    again = _post(client, "push", PUSH)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert scheduled == [("schedule_push", ("proj", "a" * 40, "main"))]
    count = db_session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert count == 1


def test_push_elsewhere_is_ignored(client, project, scheduled) -> None:  # type: ignore[no-untyped-def]
    other = {**PUSH, "ref": "refs/heads/topic"}
    assert _post(client, "push", other).json["status"] == "ignored"
    unknown = {**PUSH, "repository": {"full_name": "someone/else"}}
    assert _post(client, "push", unknown, delivery="d-2").json["status"] == "ignored"
    assert scheduled == []


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened"])
def test_pull_request_schedules_the_comparison(client, project, scheduled, action) -> None:  # type: ignore[no-untyped-def]
    payload = {
        "action": action,
        "number": 7,
        "pull_request": {"number": 7, "base": {"sha": "b" * 40}, "head": {"sha": "c" * 40}},
        "repository": {"full_name": "owner/repo"},
    }
    assert _post(client, "pull_request", payload).json["status"] == "scheduled"
    assert scheduled == [("queue_pull_request", ("proj", 7, "b" * 40, "c" * 40))]


def test_pull_request_closed_needs_nothing(client, project, scheduled) -> None:  # type: ignore[no-untyped-def]
    payload = {"action": "closed", "number": 7, "repository": {"full_name": "owner/repo"}}
    assert _post(client, "pull_request", payload).json["status"] == "ignored"
    assert scheduled == []


def test_other_events_are_accepted_and_ignored(client, project, db_connection) -> None:  # type: ignore[no-untyped-def]
    before = table_counts(db_connection)
    response = _post(client, "star", {"action": "created"})
    assert response.status_code == 202 and response.json["status"] == "ignored"
    assert table_counts(db_connection) == before


def test_installation_records_the_installation_id(client, project, db_session) -> None:  # type: ignore[no-untyped-def]
    payload = {"action": "created", "installation": {"id": 555},
               "repositories": [{"full_name": "owner/repo"}]}  # fmt: skip
    assert _post(client, "installation", payload).json["status"] == "recorded"
    db_session.expire_all()
    assert db_session.get(Project, project.id).settings["github"]["installation_id"] == 555
    payload["action"] = "deleted"
    _post(client, "installation", payload, delivery="d-2")
    db_session.expire_all()
    assert db_session.get(Project, project.id).settings["github"]["installation_id"] is None


def test_missing_delivery_id_is_400(client, project) -> None:  # type: ignore[no-untyped-def]
    assert _post(client, "push", PUSH, delivery="").status_code == 400


def test_without_a_configured_secret_everything_is_refused(app, client, project) -> None:  # type: ignore[no-untyped-def]
    app.extensions["benchwarden.settings"] = replace(
        app.extensions["benchwarden.settings"], github_webhook_secret=""
    )
    assert _post(client, "ping", {}, secret="").status_code == 401


def test_signature_check_is_constant_time_compare() -> None:
    body = b"{}"
    good = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert webhooks.verify_signature("k", body, good)
    assert not webhooks.verify_signature("k", body, good.upper())
    assert not webhooks.verify_signature("k", body + b" ", good)
    assert not webhooks.verify_signature("", body, good)


def test_project_that_cannot_run_jobs_is_reported(client, project, db_session) -> None:  # type: ignore[no-untyped-def]
    """The real scheduling service refuses a project without a repository URL: 202, said."""
    response = _post(client, "push", PUSH, delivery="real-1")
    assert response.status_code == 202, response.json
    assert response.json["status"] == "recorded"
    assert "repository URL" in response.json["not_scheduled"][0]
    assert db_session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
