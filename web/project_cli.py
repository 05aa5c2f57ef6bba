"""``benchwarden project set P key=value`` and ``benchwarden project show P``.

Settings are validated by `web.models.project_settings.ProjectSettings` before
anything is stored: an unknown key or a bad value is one line on stderr and
exit status 2, and the stored document stays as it was.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from web.models.project_settings import ProjectSettings, ProjectSettingsError, assign

_SECRETS = ("token", "private_key", "secret")


def add_settings_commands(project: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Attach ``set`` and ``show`` to the ``project`` command's subcommands."""
    setter = project.add_parser(
        "set",
        help="change project settings (validated; an empty value removes a key)",
        description="e.g. machines=local  detector.min_rel_change=0.03  confirm_repeats=7",
    )
    setter.add_argument("name", help="project name")
    setter.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    setter.add_argument("--database-url")
    setter.set_defaults(func=cmd_project_set)
    show = project.add_parser("show", help="show a project's settings and effective values")
    show.add_argument("name", help="project name")
    show.add_argument("--database-url")
    show.set_defaults(func=cmd_project_show)


def updated_settings(document: dict[str, Any] | None, assignments: list[str]) -> dict[str, Any]:
    """``document`` with every ``KEY=VALUE`` applied, validated; raises ProjectSettingsError."""
    out = dict(document or {})
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep:
            raise ProjectSettingsError(f"{assignment!r}: write KEY=VALUE, e.g. machines=local")
        out = assign(out, key.strip(), text.strip())
    return ProjectSettings.parse(out).stored()


def cmd_project_set(args: argparse.Namespace) -> int:
    from web.cli import _actor, _sessionmaker, _settings
    from web.db import session_scope
    from web.services import audit
    from web.services.projects import ProjectError, find_project

    with session_scope(_sessionmaker(_settings(args))) as session:
        project = find_project(session, args.name)
        if project is None:
            raise ProjectError(f"project {args.name!r} does not exist")
        project.settings = updated_settings(project.settings, args.assignments)
        audit.record(
            session,
            _actor(),
            "project.settings",
            project.name,
            project_id=project.id,
            details={"set": [a.partition("=")[0] for a in args.assignments]},
        )
        shown = masked(project.settings)
    print(json.dumps(shown, indent=2, sort_keys=True))
    return 0


def cmd_project_show(args: argparse.Namespace) -> int:
    from web.cli import _sessionmaker, _settings
    from web.db import session_scope
    from web.services.projects import ProjectError, find_project

    with session_scope(_sessionmaker(_settings(args))) as session:
        project = find_project(session, args.name)
        if project is None:
            raise ProjectError(f"project {args.name!r} does not exist")
        stored = dict(project.settings or {})
        try:
            effective: dict[str, Any] | None = effective_settings(ProjectSettings.of(project))
        except ProjectSettingsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            effective = None
    print(json.dumps({"stored": masked(stored), "effective": effective}, indent=2, sort_keys=True))
    return 0 if effective is not None else 2


def effective_settings(settings: ProjectSettings) -> dict[str, Any]:
    """Every setting with its value in force, the detector's as the full `Thresholds`."""
    out: dict[str, Any] = masked(settings.model_dump(mode="json"))
    thresholds = dataclasses.asdict(settings.thresholds())
    out["detector"] = {k: v for k, v in thresholds.items() if k != "compare_min_rel_change"}
    return out


def masked(document: Any) -> Any:
    """``document`` with inline secrets shown as ``***``."""
    if isinstance(document, dict):
        return {k: ("***" if k in _SECRETS and v else masked(v)) for k, v in document.items()}
    if isinstance(document, list):
        return [masked(item) for item in document]
    return document
