"""Bearer-token authentication and project-scoped authorisation, for the API and the dashboard.

Every bearer token a request offers is read and looked up here: the API's
routes through :func:`authorize`, the dashboard's JSON routes through
:func:`request_token`. Both count unknown tokens against the same failure
limit (``web.api.ratelimit``), so guessing is as slow through either door.
"""

from __future__ import annotations

from flask import g, request
from sqlalchemy.orm import Session

from web.api.errors import ApiError
from web.api.ratelimit import count_failure
from web.config import Settings
from web.models import ApiToken, Project
from web.services.projects import find_project
from web.services.tokens import find_token


def offered_secret() -> str | None:
    """The secret of a well-formed ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def bearer_secret() -> str | None:
    """The API's reading: None without the header, 401 when it is not a bearer token."""
    if not request.headers.get("Authorization", ""):
        return None
    secret = offered_secret()
    if secret is None:
        raise ApiError(401, "unauthorized", "Authorization header must be 'Bearer <token>'")
    return secret


def request_token(session: Session) -> ApiToken | None:
    """The dashboard's reading: the request's valid token or None, looked up once.

    Pages ignore a header that is not a bearer token, but an unknown or revoked
    token counts as a failed authentication, as on the API: past the limit the
    request is refused with 429 and ``Retry-After``.
    """
    if "request_token" not in g:
        secret = offered_secret()
        token = find_token(session, secret) if secret else None
        if secret and token is None and (refusal := count_failure()) is not None:
            raise refusal
        g.request_token = token
    found: ApiToken | None = g.request_token
    return found


def current_token(session: Session) -> ApiToken | None:
    """The request's token, None when none was sent; 401 when it is unknown or revoked.

    A valid token always passes. A client whose recent failures exceed the
    limit gets 429 instead of 401, so guessing slows down to the limit's pace.
    """
    try:
        secret = bearer_secret()
    except ApiError as exc:
        raise _failure(exc) from None
    if secret is None:
        return None
    token = find_token(session, secret)
    if token is None:
        raise _failure(ApiError(401, "unauthorized", "the API token is unknown or revoked"))
    return token


def _failure(error: ApiError) -> ApiError:
    return count_failure() or error


def project_not_found() -> ApiError:
    """The one answer for a missing project and for a private one the caller may not see.

    It never names the project: the name of a private project is itself private.
    """
    return ApiError(404, "project_not_found", "no such project, or this request may not see it")


def project_or_404(session: Session, name: str) -> Project:
    project = find_project(session, name)
    if project is None:
        # A bad token is 401 here as on a private project, so the two stay alike.
        current_token(session)
        raise project_not_found()
    return project


def authorize(
    session: Session, settings: Settings, project: Project, scope: str
) -> ApiToken | None:
    """Allow the request on ``project`` with ``scope`` or raise 401/403/404.

    Reads of a public project need no token when the deployment allows public
    reads; every write needs a token of this very project with enough scope.
    A private project exists only for its own tokens: anyone else gets the
    missing project's 404, so its name and existence stay private.
    """
    token = current_token(session)
    if (token is None or token.project_id != project.id) and not project.public:
        raise project_not_found()
    if token is None:
        if scope == "read" and settings.public_read:
            return None
        raise ApiError(401, "unauthorized", f"a token with {scope!r} scope is required")
    if token.project_id != project.id:
        raise ApiError(403, "forbidden", f"this token does not belong to project {project.name!r}")
    if not token.allows(scope):
        raise ApiError(
            403, "forbidden", f"this token has {token.scope!r} scope; {scope!r} is required"
        )
    return token
