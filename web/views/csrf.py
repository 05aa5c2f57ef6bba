"""CSRF protection of every state-changing request, by Flask-WTF's ``CSRFProtect``.

Every POST, PUT, PATCH and DELETE needs the session's token (form field
``csrf_token``, or header ``X-CSRFToken`` / ``X-CSRF-Token`` from scripts),
except on routes that no browser can be tricked into authenticating:

- the JSON API (blueprint ``api``): bearer tokens only, it never reads the
  session cookie;
- ``/webhooks/github``: every delivery is HMAC-signed.

Dashboard endpoints that take a bearer token as well as the session
(``TOKEN_ENDPOINTS``) are checked here instead: a request that carries the
session cookie needs the CSRF token whatever other headers it has (a made-up
``Authorization`` header once switched the check off); only a request with a
bearer token and no session cookie is left to the token check.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect

CSRF_FIELD = "csrf_token"
EXEMPT_BLUEPRINTS = ("api", "github_webhooks")
TOKEN_ENDPOINTS = frozenset({"dash.triage_json"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def init_csrf(app: Flask) -> CSRFProtect:
    """Protect ``app`` (call after every blueprint is registered)."""
    # The token lives as long as the session: a page left open for hours still posts.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["WTF_CSRF_FIELD_NAME"] = CSRF_FIELD
    csrf = CSRFProtect(app)
    for name in EXEMPT_BLUEPRINTS:
        csrf.exempt(app.blueprints[name])
    for endpoint in TOKEN_ENDPOINTS:
        csrf.exempt(app.view_functions[endpoint])
    return csrf


def check_token_endpoints() -> None:
    """before_request of the dashboard: ``TOKEN_ENDPOINTS`` need CSRF unless token-only."""
    if request.endpoint not in TOKEN_ENDPOINTS or request.method in SAFE_METHODS:
        return
    if _bearer_without_session():
        return
    csrf: CSRFProtect = current_app.extensions["csrf"]
    csrf.protect()


def _bearer_without_session() -> bool:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    has_bearer = scheme.lower() == "bearer" and bool(secret.strip())
    return has_bearer and current_app.config["SESSION_COOKIE_NAME"] not in request.cookies
