"""The write token `benchwarden up` gives its runner and prints, kept across restarts.

Each start used to create another token and never revoke the old ones, so a
data directory collected live write tokens nobody knew about. The secret is
kept in the data directory (mode 0600, beside the generated secret key) and
reused while the database still knows it as a live write token of the same
project; otherwise a new one replaces it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy.orm import Session

from web.models import Project
from web.services.tokens import create_token, find_token

TOKENS_FILE = "up-tokens.json"


def _read(path: Path) -> dict[str, str]:
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(known, dict):
        return {}
    return {k: v for k, v in known.items() if isinstance(k, str) and isinstance(v, str)}


def _write(path: Path, known: dict[str, str]) -> None:
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(known, handle)
    os.replace(temporary, path)


def up_token(session: Session, project: Project, data_dir: Path) -> str:
    """The kept write token of ``project``, or a new one (then kept)."""
    path = data_dir / TOKENS_FILE
    known = _read(path)
    secret = known.get(project.name)
    if secret:
        token = find_token(session, secret)
        if token is not None and token.project_id == project.id and token.scope == "write":
            return secret
    secret = create_token(session, project, "write", "benchwarden up").secret
    known[project.name] = secret
    _write(path, known)
    return secret
