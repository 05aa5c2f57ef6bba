"""CSRF on the dashboard (issue 14, finding 7): a session cookie always needs the token.

The hole: any ``Authorization: Bearer`` header, even a made-up one, switched
the check off, so a page that could make the browser send that header
triaged alerts as the logged-in user. Now a request that carries the session
cookie needs the CSRF token whatever its headers; only a request with a bearer
token and no session cookie is left to the token check.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_token
from web.models import AlertSummary

NONSENSE = {"Authorization": "Bearer nonsense"}


def _status(db_session: Session, summary_id: int) -> str:
    summary = db_session.get(AlertSummary, summary_id)
    assert summary is not None
    db_session.refresh(summary)
    return summary.status


def test_bearer_header_does_not_switch_csrf_off(writer_client, history, db_session) -> None:  # type: ignore[no-untyped-def]
    """The exact reproduction: session cookie + ``Bearer nonsense``, no CSRF token."""
    summary_id = history["alert"].summary_id
    before = _status(db_session, summary_id)
    base = f"/p/proj/alerts/{summary_id}"
    form = writer_client.post(f"{base}/triage", data={"status": "fixed"}, headers=NONSENSE)
    assert form.status_code == 400
    as_json = writer_client.post(f"{base}/triage.json", json={"status": "fixed"}, headers=NONSENSE)
    assert as_json.status_code == 400 and as_json.json["error"]["message"]
    assert _status(db_session, summary_id) == before


def test_session_cookie_with_a_real_token_still_needs_csrf(  # type: ignore[no-untyped-def]
    writer_client, history, db_session
) -> None:
    summary_id = history["alert"].summary_id
    write = make_token(db_session, history["project"], "write")
    response = writer_client.post(
        f"/p/proj/alerts/{summary_id}/triage.json",
        json={"status": "fixed"},
        headers={"Authorization": f"Bearer {write}"},
    )
    assert response.status_code == 400
    assert _status(db_session, summary_id) != "fixed"


@pytest.mark.parametrize("how", ["field", "header"])
def test_form_and_header_tokens_work(writer_client, history, db_session, how: str) -> None:  # type: ignore[no-untyped-def]
    summary_id = history["alert"].summary_id
    url = f"/p/proj/alerts/{summary_id}/triage"
    if how == "field":
        response = writer_client.post(
            url, data={"status": "fixed", "csrf_token": writer_client.csrf}
        )
        assert response.status_code == 303
    else:
        response = writer_client.post(
            f"{url}.json", json={"status": "fixed"}, headers={"X-CSRFToken": writer_client.csrf}
        )
        assert response.status_code == 200
    assert _status(db_session, summary_id) == "fixed"


def test_forged_and_foreign_tokens_are_refused(writer_client, history, db_session) -> None:  # type: ignore[no-untyped-def]
    url = f"/p/proj/alerts/{history['alert'].summary_id}/triage"
    for token in ("", "x", writer_client.csrf + "x", writer_client.csrf[:-2]):
        response = writer_client.post(url, data={"status": "fixed", "csrf_token": token})
        assert response.status_code == 400, token


def test_login_form_needs_the_token(client, user) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"username": "maintainer", "password": "correct horse"})
    assert response.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    assert re.search(r'name="csrf_token" value="[^"]+"', page)
