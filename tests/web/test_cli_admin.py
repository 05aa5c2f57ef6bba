"""Admin commands: clear errors, one-time token display, and an audit trail."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, select

from web.migrations import upgrade
from web.models import ApiToken, AuditEntry


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["benchwarden", *args], env=os.environ | env, capture_output=True, text=True, timeout=60
    )


def test_admin_actions_are_audited_and_tokens_shown_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    upgrade(url)
    env = {"BENCHWARDEN_DATABASE_URL": url}
    assert _run(env, "project", "create", "proj").returncode == 0
    created = _run(env, "token", "create", "--project", "proj", "--scope", "admin")
    secret = created.stdout.strip()
    assert secret.startswith("bw_") and "admin scope on proj" in created.stderr
    assert _run(env, "token", "revoke", "1").returncode == 0
    engine = create_engine(url)
    with engine.connect() as conn:
        entries = conn.execute(select(AuditEntry.action, AuditEntry.target, AuditEntry.actor)).all()
        stored = conn.execute(select(ApiToken.token_hash, ApiToken.revoked_at)).one()
    engine.dispose()
    assert [(a, t) for a, t, _ in entries] == [
        ("project.create", "proj"),
        ("token.create", "token 1"),
        ("token.revoke", "token 1"),
    ]
    assert all(actor.startswith("cli:") for _, _, actor in entries)
    assert secret not in str(entries) and stored.revoked_at is not None


def test_unmigrated_database_gives_a_clear_error(tmp_path: Path) -> None:
    done = _run(
        {"BENCHWARDEN_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}, "project", "create", "x"
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: database error") and "db upgrade" in done.stderr
    assert "Traceback" not in done.stderr


def test_token_for_unknown_project_fails_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    upgrade(url)
    done = _run(
        {"BENCHWARDEN_DATABASE_URL": url},
        "token",
        "create",
        "--project",
        "nope",
        "--scope",
        "write",
    )
    assert done.returncode == 2 and "does not exist" in done.stderr
