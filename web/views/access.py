"""Who may read and write on the dashboard.

Reads of a public project are open when ``Settings.public_read`` is on and
otherwise need a logged-in user; a private project is readable by its members
(any role) and global admins only, and is a plain 404 to everyone else. Writes
need a maintainer (or admin) logged in (session cookie + CSRF token, see
:mod:`web.views.csrf`) or, on the JSON endpoints, a bearer token of the project
with write scope.
"""

from __future__ import annotations

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from web.api.auth import offered_secret, request_token
from web.api.errors import error_response
from web.config import Settings
from web.db import request_session
from web.models import ApiToken, Project, User
from web.services import membership
from web.services.edits import Actor
from web.services.projects import find_project


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


# One answer for "missing" and "private, not yours": it must not tell them apart.
NO_SUCH_PROJECT = "There is no such project, or you may not see it."


def user_role(project: Project) -> str | None:
    """The logged-in user's role on ``project`` (``admin`` for global admins), looked up once."""
    user = current_user()
    if user is None:
        return None
    roles: dict[int, str | None] = g.setdefault("dash_roles", {})
    if project.id not in roles:
        roles[project.id] = membership.role_on(request_session(), user, project)
    return roles[project.id]


def may_read(project: Project) -> bool:
    """Public projects: anyone when reads are public, else any logged-in user.

    Private projects: their members (any role) and global admins only.
    """
    if project.public and (settings().public_read or current_user() is not None):
        return True
    return user_role(project) is not None


def may_write(project: Project) -> bool:
    """Triage, annotations, renames and merges need maintainer (or admin)."""
    return membership.role_at_least(user_role(project), membership.MAINTAINER)


def readable_project(name: str) -> Project:
    """The named project if this request may read it.

    A public project that needs a login redirects to it; a private project the
    request may not see is a 404 worded exactly like a missing project's.
    """
    project = find_project(request_session(), name)
    if project is not None and (may_read(project) or _token_allows(project, "read")):
        return project
    if project is not None and project.public and current_user() is None:
        raise LoginRequired
    abort(404, description=NO_SUCH_PROJECT)


def require_site_read() -> None:
    """The project list itself is hidden when reads need a login."""
    if current_user() is None and not settings().public_read:
        raise LoginRequired


def writer(project: Project, *, allow_token: bool = False) -> Actor:
    """The actor allowed to write on ``project``: a maintainer (or admin), or a write token.

    401 when nobody is logged in, 403 when the user's role or the token falls short.
    """
    user = current_user()
    if user is not None and may_write(project):
        return Actor(user.username)
    if allow_token and _token_allows(project, "write"):
        secret = offered_secret()
        return Actor(f"token:{(secret or '')[:10]}")
    if allow_token and offered_secret() is not None:
        abort(403, description="This token may not write on this project.")
    if user is not None:
        abort(403, description="Changes need the maintainer role on this project.")
    abort(401, description="Log in to change anything.")


def bearer_token() -> ApiToken | None:
    """The request's bearer token when it is valid (see ``web.api.auth.request_token``)."""
    return request_token(request_session())


def check_bearer() -> None:
    """before_request of the dashboard: a bad token counts even where a page needs none."""
    bearer_token()


def _token_allows(project: Project, scope: str) -> bool:
    token = bearer_token()
    return token is not None and token.project_id == project.id and token.allows(scope)


def login_redirect(_exc: LoginRequired) -> Response:
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        return error_response(401, "unauthorized", "log in first")
    return redirect(url_for("dash.login", next=request.full_path.rstrip("?")))
