"""``/p/<project>/suites``: the stored suite declaration, read-only and escaped."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import make_project
from tests.integration.gitrepo import command_suite
from tests.web.views.conftest import XSS


def test_the_suites_page_shows_the_stored_declaration_escaped(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session, "proj")
    empty = client.get("/p/proj/suites").get_data(as_text=True)
    assert "This project stores no suites" in empty
    project.suites_config = f"# {XSS}\n" + command_suite("echo </code></pre>")
    project.settings = {"suites_source": "project"}
    db_session.commit()
    page = client.get("/p/proj/suites")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "echo &lt;/code&gt;&lt;/pre&gt;" in html
    assert "used for every commit" in html
    assert 'href="/p/proj/suites"' in html
