"""Outgoing webhooks for new default-branch alert summaries: signed, retried, Slack format."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import make_project, make_token, native_results, post_results, sha
from tests.web.github.fake_github import FakeGitHub
from web.github.outgoing import SIGNATURE_HEADER, WebhookTarget, post_webhook, sign
from web.models import AlertSummary


class Receiver:
    """A loopback HTTP endpoint that records POSTs and answers from a script of statuses."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.script.pop(0) if receiver.script else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    thread = threading.Thread(target=rec.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()
    thread.join(timeout=10)


PAYLOAD: dict[str, Any] = {
    "event": "alert_summary",
    "project": "proj",
    "branch": "main",
    "summary_id": 1,
    "url": "http://bw.test/p/proj/alerts",
    "commits": {"last_good": "a" * 40, "first_changed": "b" * 40},
    "regressions": 1,
    "improvements": 0,
    "alerts": [{"benchmark": "<parse>", "machine": "m1", "rel_change": 0.5, "is_regression": True}],
}


def test_signed_json_is_retried_on_5xx_with_one_delivery_id(receiver: Receiver) -> None:
    receiver.script = [502, 503]
    target = WebhookTarget(receiver.url, "hook-secret", "json")
    assert post_webhook(target, PAYLOAD, sleep=lambda _s: None)
    assert len(receiver.received) == 3
    headers, body = receiver.received[-1]
    assert json.loads(body) == PAYLOAD
    assert headers[SIGNATURE_HEADER] == sign("hook-secret", body)
    assert len({h["X-Benchwarden-Delivery"] for h, _ in receiver.received}) == 1


def test_4xx_is_final(receiver: Receiver) -> None:
    receiver.script = [404]
    assert not post_webhook(WebhookTarget(receiver.url, "", "json"), PAYLOAD, sleep=lambda _s: None)
    assert len(receiver.received) == 1
    assert SIGNATURE_HEADER not in receiver.received[0][0]


def test_slack_format(receiver: Receiver) -> None:
    post_webhook(WebhookTarget(receiver.url, "s", "slack"), PAYLOAD)
    text = json.loads(receiver.received[0][1])["text"]
    assert "1 regression(s)" in text and "&lt;parse&gt;" in text and "+50.0%" in text
    assert "<http://bw.test/p/proj/alerts|triage>" in text
    secret_url = "https://hooks.example/services/T000/B000/SECRETPART"
    assert "SECRETPART" not in repr(WebhookTarget(secret_url, "s", "slack"))


def test_new_summary_on_main_is_announced_once(  # type: ignore[no-untyped-def]
    app, client, db_session, receiver: Receiver, github: FakeGitHub
) -> None:
    app.extensions["benchwarden.celery"].conf.benchwarden_settings = app.extensions[
        "benchwarden.settings"
    ]
    project = make_project(db_session)
    token = make_token(db_session, project)
    project.repo_url = "https://github.example/o/r.git"  # confirmation re-runs need one
    project.settings = {
        "webhooks": [{"url": receiver.url, "secret": "hook-secret", "format": "json"}],
        "github": {"repo": "o/r", "token": "test-token", "api_url": github.url},
    }
    db_session.commit()
    for n in range(1, 15):
        value = (1.0 if n <= 7 else 1.5) + 0.001 * (n % 3)
        parents = [sha(n - 1)] if n > 1 else []
        post_results(client, token, sha(n), native_results({"parse": value}), parents=parents)
    summaries = list(db_session.scalars(select(AlertSummary)))
    assert summaries and all(s.notified_at is not None for s in summaries)
    payloads = [json.loads(body) for _, body in receiver.received]
    # each summary once (re-detection may place the change in a second summary)
    assert sorted(p["summary_id"] for p in payloads) == sorted(s.id for s in summaries)
    headers, body = receiver.received[0]
    assert headers[SIGNATURE_HEADER] == sign("hook-secret", body)
    payload = payloads[0]
    assert payload["project"] == "proj" and payload["branch"] == "main"
    assert payload["regressions"] >= 1 and payload["alerts"][0]["benchmark"] == "parse"
    assert sha(8) in {p["commits"]["first_changed"] for p in payloads}
    assert {s["state"] for s in github.statuses} == {"failure"}
    assert sha(8) in {s["sha"] for s in github.statuses}


def test_a_drift_is_announced_as_one_without_confirmation(receiver: Receiver) -> None:
    """A drift is never re-run, so a project that requires confirmed alerts still hears of it."""
    from web.github.outgoing import _worth_announcing
    from web.models.project_settings import ProjectSettings

    drift = {"is_regression": True, "confirmation": "candidate", "status": "untriaged"}
    strict = ProjectSettings.model_validate({"notify": {"require_confirmation": True}})
    alerts = [{**drift, "change": "drift"}]
    assert _worth_announcing(strict, {"alerts": alerts})
    assert not _worth_announcing(strict, {"alerts": [{**drift, "change": "step"}]})
    payload = {**PAYLOAD, "alerts": [{**PAYLOAD["alerts"][0], "change": "drift"}]}
    post_webhook(WebhookTarget(receiver.url, "s", "slack"), payload)
    text = json.loads(receiver.received[0][1])["text"]
    assert "+50.0% (drift over a range of commits)" in text
