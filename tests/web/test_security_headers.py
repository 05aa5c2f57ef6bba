"""Security headers on every response, over real HTTP (issue 14, finding 9).

Pages, JSON API answers, errors, static files and the webhook all carry a
strict Content-Security-Policy (own files only, no inline script or style, no
framing), X-Frame-Options DENY, X-Content-Type-Options nosniff and a
Referrer-Policy. That the dashboard still works under the policy is checked in
Chromium by tests/web/views/test_browser.py (CSP violations are console errors).
"""

from __future__ import annotations

import pytest
import requests

from tests.conftest import LiveServer

PATHS = (
    ("GET", "/"),
    ("GET", "/login"),
    ("GET", "/p/nope/"),
    ("GET", "/static/dash/common.js"),
    ("GET", "/api/v1/projects"),
    ("GET", "/api/v1/projects/nope"),
    ("POST", "/api/v1/runs?project=nope&commit=abcdef1"),
    ("POST", "/webhooks/github"),
)


def _directives(policy: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {name: (rest[0] if rest else "") for name, *rest in parts}


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_every_response_carries_the_headers(
    live_server: LiveServer, method: str, path: str
) -> None:
    response = requests.request(method, live_server.url + path, timeout=10, allow_redirects=False)
    assert response.status_code < 500
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = _directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'" and csp["form-action"] == "'self'"
    assert "unsafe" not in headers["Content-Security-Policy"]
    # TLS ends at the proxy: no redirect to https, and the session cookie still works on http.
    assert "Strict-Transport-Security" not in headers
    assert not (300 <= response.status_code < 400 and "https:" in headers.get("Location", ""))
