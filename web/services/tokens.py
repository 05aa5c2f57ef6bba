"""API tokens: created once, stored only as a SHA-256 hash, scoped to one project."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import TOKEN_SCOPES, ApiToken, Project
from web.models.base import utcnow

TOKEN_PREFIX = "bw_"


class TokenError(ValueError):
    """A token request that cannot be honoured (bad scope, unknown project)."""


@dataclass(frozen=True)
class IssuedToken:
    """The only moment the plain secret exists outside the client."""

    id: int
    secret: str
    scope: str
    project: str


def hash_token(secret: str) -> str:
    # Tokens are 256-bit random strings, so a fast unsalted hash cannot be brute-forced.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session: Session, project: Project, scope: str, name: str = "") -> IssuedToken:
    if scope not in TOKEN_SCOPES:
        raise TokenError(f"scope must be one of {', '.join(TOKEN_SCOPES)}, got {scope!r}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        project_id=project.id,
        name=name,
        scope=scope,
        token_hash=hash_token(secret),
        prefix=secret[:10],
    )
    session.add(token)
    session.flush()
    return IssuedToken(id=token.id, secret=secret, scope=scope, project=project.name)


def find_token(session: Session, secret: str) -> ApiToken | None:
    """The live token for ``secret``, or None when unknown or revoked."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise TokenError(f"no token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token
