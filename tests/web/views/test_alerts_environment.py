"""An environment change in an alert's range is labelled as one, on the alerts page and the
alert's page, instead of looking like a regression of the code (issue #18, item 5)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_alert, sha
from web.models import Annotation, Commit
from web.queries.alert_board import environment_changes

NOTE = "environment changed: CPU model Old CPU @ 2.0GHz → New CPU @ 1.6GHz"


def _annotate(session: Session, series_id: int, n: int, kind: str = "environment") -> None:
    commit_id = session.scalar(select(Commit.id).where(Commit.sha == sha(n)))
    annotation = Annotation(series_id=series_id, commit_id=commit_id, kind=kind, note=NOTE)
    session.add(annotation)
    session.commit()


@pytest.fixture()
def machine_changed(history, db_session: Session):  # type: ignore[no-untyped-def]
    """``fast`` jumps at 21 where the machine changed; ``slow`` regresses at 30, its
    machine change sits before its range (at 25), so it stays a regression."""
    _annotate(db_session, history["alert"].series_id, 21)
    slow = make_alert(db_session, history["series"]["slow"], 30, before=2.0, after=2.3)
    _annotate(db_session, slow.series_id, 25)
    return history["alert"], slow


def test_the_query_finds_notes_only_inside_the_range(machine_changed, db_session) -> None:  # type: ignore[no-untyped-def]
    env, code = machine_changed
    assert environment_changes(db_session, [env.id, code.id]) == {env.id: NOTE}


def test_a_known_change_is_not_an_environment_change(history, db_session) -> None:  # type: ignore[no-untyped-def]
    _annotate(db_session, history["alert"].series_id, 21, kind="known_change")
    assert environment_changes(db_session, [history["alert"].id]) == {}


def test_the_alerts_page_labels_it(client, machine_changed) -> None:  # type: ignore[no-untyped-def]
    env, code = machine_changed
    page = client.get("/p/proj/alerts").get_data(as_text=True)
    env_card = _card(page, env.summary_id)
    assert "Environment change +20.0%" in env_card
    assert "Regression" not in env_card
    assert NOTE in env_card
    assert "data-environment>environment</span>" in env_card
    code_card = _card(page, code.summary_id)
    assert "Regression +15.0%" in code_card and "data-environment" not in code_card


def test_the_alert_page_labels_it(client, machine_changed) -> None:  # type: ignore[no-untyped-def]
    env, code = machine_changed
    page = client.get(f"/p/proj/alert/{env.id}").get_data(as_text=True)
    heading = page[page.index("<h1>") : page.index("</h1>")]
    assert "Environment change +20.0%" in heading and "Regression" not in heading
    assert NOTE in page
    other = client.get(f"/p/proj/alert/{code.id}").get_data(as_text=True)
    assert "Regression +15.0%" in other and "data-environment-note" not in other


def _card(page: str, summary_id: int) -> str:
    found = re.search(
        rf'<section class="summary-card" id="summary-{summary_id}".*?</section>', page, re.S
    )
    assert found is not None
    return found.group(0)
