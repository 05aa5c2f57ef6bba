"""Changing a project's settings: validated, then audited, by every entry point.

``benchwarden project set`` and the backtest page's "apply" both come here, so
a setting reaches ``project.settings`` only through `ProjectSettings.parse` and
always leaves a ``project.settings`` audit entry. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from web.models import Project
from web.models.project_settings import ProjectSettings, ProjectSettingsError, assign
from web.services import audit


def updated_settings(document: dict[str, Any] | None, assignments: Sequence[str]) -> dict[str, Any]:
    """``document`` with every ``KEY=VALUE`` applied, validated; raises ProjectSettingsError."""
    out = dict(document or {})
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep:
            raise ProjectSettingsError(f"{assignment!r}: write KEY=VALUE, e.g. machines=local")
        out = assign(out, key.strip(), text.strip())
    return ProjectSettings.parse(out).stored()


def change_settings(
    session: Session,
    actor: str,
    project: Project,
    assignments: Sequence[str],
    **details: object,
) -> dict[str, Any]:
    """Apply ``assignments`` to ``project`` and audit it; the stored document.

    Raises ProjectSettingsError (nothing changed) when a key or value is invalid.
    ``details`` are added to the audit entry (e.g. where the change came from).
    """
    project.settings = updated_settings(project.settings, assignments)
    audit.record(
        session,
        actor,
        "project.settings",
        project.name,
        project_id=project.id,
        details={"set": [a.partition("=")[0] for a in assignments], **details},
    )
    return dict(project.settings)
