"""``/p/<project>/suites``: the project's stored suite declaration, read-only.

Shown to whoever may read the project; it is changed with
``benchwarden project suites P --set FILE`` or ``PUT /api/v1/projects/P/suites``.
"""

from __future__ import annotations

from flask import render_template

from web.models.project_settings import ProjectSettings
from web.views.access import readable_project


def suites_page(project: str) -> str:
    found = readable_project(project)
    return render_template(
        "dash/suites.html",
        project=found,
        suites_config=found.suites_config,
        suites_source=ProjectSettings.of(found).suites_source,
    )
