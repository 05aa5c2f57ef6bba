"""Who may read and write on the dashboard, and the CSRF check of every POST.

Reads are public when ``Settings.public_read`` is on and the project is public;
otherwise they need a logged-in user. Writes need a logged-in user (session
cookie + per-session CSRF token) or, on the JSON endpoints, a bearer token of
the project with write scope. Bearer requests skip CSRF: a browser never adds
an ``Authorization`` header on its own, so they cannot be forged cross-site.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from web.config import Settings
from web.db import request_session
from web.models import Project, User
from web.services.projects import find_project
from web.services.tokens import find_token
from web.views.writes import Actor

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """Raised by a read check; answered with a redirect to the login page."""


def settings() -> Settings:
    found: Settings = current_app.extensions["benchwarden.settings"]
    return found


def current_user() -> User | None:
    """The logged-in user of this request, looked up once."""
    if "dash_user" not in g:
        user_id = session.get("user_id")
        g.dash_user = request_session().get(User, user_id) if user_id else None
    user: User | None = g.dash_user
    return user


def csrf_token() -> str:
    """This session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def _bearer() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def check_csrf() -> None:
    """before_request: every POST carries this session's token, unless it uses a bearer token."""
    if request.method != "POST" or _bearer() is not None:
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="The form has expired or did not come from this site; reload it.")


def may_read(project: Project) -> bool:
    return current_user() is not None or (project.public and settings().public_read)


def readable_project(name: str) -> Project:
    """The named project if this request may read it; 404 or login redirect otherwise."""
    project = find_project(request_session(), name)
    if project is None:
        abort(404, description=f"There is no project called {name!r}.")
    if not may_read(project) and not _token_allows(project, "read"):
        raise LoginRequired
    return project


def require_site_read() -> None:
    """The project list itself is hidden when reads need a login."""
    if current_user() is None and not settings().public_read:
        raise LoginRequired


def writer(project: Project, *, allow_token: bool = False) -> Actor:
    """The actor allowed to write on ``project``; 401/403 otherwise."""
    user = current_user()
    if user is not None:
        return Actor(user.username)
    if allow_token and _token_allows(project, "write"):
        secret = _bearer()
        return Actor(f"token:{(secret or '')[:10]}")
    if allow_token and _bearer() is not None:
        abort(403, description="This token may not write on this project.")
    abort(401, description="Log in to change anything.")


def _token_allows(project: Project, scope: str) -> bool:
    secret = _bearer()
    if secret is None:
        return False
    token = find_token(request_session(), secret)
    return token is not None and token.project_id == project.id and token.allows(scope)


def login_redirect(_exc: LoginRequired) -> Response:
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        from flask import jsonify

        body = jsonify(
            {"error": {"code": "unauthorized", "message": "log in first", "details": None}}
        )
        body.status_code = 401
        return body
    return redirect(url_for("dash.login", next=request.full_path.rstrip("?")))
