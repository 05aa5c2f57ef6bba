"""``next`` after login: only same-site paths, over real HTTP (issue 14, finding 3).

Every shape is sent percent-encoded exactly as an attacker would put it in a
link, both to the login page (``GET /login?next=``) and to the login form
(``POST /login`` with ``next``). The answer must never be a 5xx, and the
``Location`` must stay on this site as a browser would read it: browsers drop
tabs and newlines from URLs and read ``\\`` as ``/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from sqlalchemy.orm import Session

from tests.conftest import LiveServer
from tests.factories import make_user
from web.config import Settings
from web.db import make_engine
from web.migrations import upgrade

# Percent-encoded as they would appear in a phishing link.
HOSTILE = (
    "/%09/evil.example/phish",
    "/%0A/evil.example",
    "%0A",
    "/%0D%0A/evil.example",
    "/%0D/evil.example",
    "/%0B/evil.example",
    "/%00/evil.example",
    "/%7F/evil.example",
    "/%09%09/evil.example",
    "%09//evil.example",
    "%20//evil.example",
    "/%20/evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "%5C%5Cevil.example",
    "/%5C/evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%252F/evil.example",
    "https://evil.example/",
    "https:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "/%C2%85/evil.example",
    "/%E2%80%A8/evil.example",
    "/%E3%80%80/evil.example",
    "/%EF%BC%8F/evil.example",
    "/%E2%80%8B/evil.example",
    "/%2e%2e//evil.example",
    "/./evil.example",
    "/%2E%2E/evil.example",
)
# Odd but harmless: they may be kept, as long as they stay on this site.
ODD = ("/%ZZ/evil.example", "/%C0%AF/evil.example", "/%%30%30/evil.example")
# Same-site targets that must survive the check unchanged.
FRIENDLY = {
    "%2Fp%2Fproj%2Falerts": "/p/proj/alerts",
    "%2Fp%2Fproj%2Falerts%3Fstatus%3Dnew": "/p/proj/alerts?status=new",
    "/p/proj/benchmarks/3?measure=time&branch=main": "/p/proj/benchmarks/3?measure=time",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server on SQLite: the check does not depend on the database engine."""
    data_dir: Path = tmp_path_factory.mktemp("login")
    url = f"sqlite:///{data_dir / 'live.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        make_user(session)
    engine.dispose()
    settings = replace(Settings.from_env({}), data_dir=data_dir, database_url=url, secret_key="t")
    with LiveServer(settings) as live:
        yield live


def as_browser_reads(base: str, location: str) -> str:
    """The absolute URL a browser goes to for ``location`` (tabs/newlines dropped, \\ as /)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip(" \x00\x0b\x0c")
    return urljoin(base + "/login", cleaned)


def _login(base: str, raw_next: str) -> tuple[int, int, str, str]:
    """(GET status, POST status, the form's hidden next, the Location after login)."""
    with requests.Session() as http:
        page = http.get(f"{base}/login?next={raw_next}", allow_redirects=False, timeout=10)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        hidden = re.search(r'name="next" value="([^"]*)"', page.text)
        body = "username=maintainer&password=correct+horse&next=" + raw_next
        answer = http.post(
            f"{base}/login",
            data=f"{body}&csrf_token={token.group(1) if token else ''}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            timeout=10,
        )
    location = answer.headers.get("Location", "")
    return page.status_code, answer.status_code, hidden.group(1) if hidden else "", location


@pytest.mark.parametrize("raw_next", HOSTILE + ODD)
def test_hostile_next_stays_on_site(server: LiveServer, raw_next: str) -> None:
    shown, status, hidden, location = _login(server.url, raw_next)
    if "%00" in raw_next:  # NUL is refused before anything else looks at the request
        assert (shown, status) == (400, 400)
        return
    assert (shown, status) == (200, 303), raw_next
    site = urlsplit(server.url).netloc
    assert urlsplit(as_browser_reads(server.url, location)).netloc == site, (raw_next, location)
    assert urlsplit(as_browser_reads(server.url, hidden)).netloc == site, (raw_next, hidden)
    if raw_next in HOSTILE:  # nothing hostile is kept: the fallback is the project list
        assert location == "/" and hidden == "/", (raw_next, location, hidden)


@pytest.mark.parametrize("raw_next", sorted(FRIENDLY))
def test_same_site_next_is_kept(server: LiveServer, raw_next: str) -> None:
    shown, status, hidden, location = _login(server.url, raw_next)
    assert (shown, status) == (200, 303)
    assert location == hidden == FRIENDLY[raw_next]


BROWSER_SHAPES = (
    "/%09/evil.example/phish",
    "/%0A/evil.example",
    "/%5Cevil.example",
    "///evil.example",
    "/%2F/evil.example",
    "/%EF%BC%8F/evil.example",
)


@pytest.mark.slow
def test_chromium_stays_on_site_after_login(server: LiveServer) -> None:
    """A real login in Debian's Chromium never leaves the site, whatever ``next`` says."""
    from playwright.sync_api import Route, sync_playwright

    from tests.web.views.test_browser import CHROMIUM, launch_chromium

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    site = urlsplit(server.url).netloc
    off_site: list[str] = []

    def local_only(route: Route) -> None:
        """Off-site requests are recorded and cut: nothing leaves the machine."""
        if urlsplit(route.request.url).netloc == site:
            route.continue_()
        else:
            off_site.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)  # type: ignore[no-untyped-call]
        try:
            for raw_next in BROWSER_SHAPES:
                context = browser.new_context()
                context.route("**/*", local_only)
                tab = context.new_page()
                tab.goto(f"{server.url}/login?next={raw_next}")
                tab.fill("input[name=username]", "maintainer")
                tab.fill("input[name=password]", "correct horse")
                with tab.expect_navigation():
                    tab.click("button[type=submit]")
                assert tab.url == f"{server.url}/", (raw_next, tab.url)
                context.close()
        finally:
            browser.close()
    assert off_site == []
