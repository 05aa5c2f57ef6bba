"""The audit trail: one row for every privileged action, written in the action's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from web.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    target: str = "",
    *,
    project_id: int | None = None,
    details: dict[str, object] | None = None,
) -> AuditEntry:
    """Add an audit row; it commits or rolls back together with the action it describes.

    Never put a secret in ``details``: the trail is readable by admins.
    """
    entry = AuditEntry(
        project_id=project_id, actor=actor, action=action, target=target, details=details or {}
    )
    session.add(entry)
    return entry
