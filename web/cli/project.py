"""``benchwarden project set P key=value``, ``project show P`` and ``project suites P``.

Settings are validated by `web.models.project_settings.ProjectSettings` before
anything is stored: an unknown key or a bad value is one line on stderr and
exit status 2, and the stored document stays as it was. A project's stored
suites (``project suites P --set FILE``) are validated by the runner's parser,
`runner.suites.parse_suites`, the same way.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from runner.suites import SuiteError, parse_suites
from web.cli.context import Subcommands, actor, dispose, sessions, settings_from, transaction
from web.db import session_scope
from web.models.project_settings import ProjectSettings, ProjectSettingsError
from web.services import audit
from web.services.projects import ProjectError, find_project
from web.services.settings_change import change_settings

_SECRETS = ("token", "private_key", "secret")


def add_settings_commands(project: Subcommands) -> None:
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
    suites = project.add_parser(
        "suites",
        help="the project's own suite declaration (benchwarden.toml text), outside its repository",
        description="Used for commits without a benchwarden.toml, or for every commit with"
        " `project set P suites_source=project`; `schedule --config FILE` overrides both.",
    )
    suites.add_argument("name", help="project name")
    action = suites.add_mutually_exclusive_group()
    action.add_argument("--set", metavar="FILE", dest="set_file", help="store FILE (TOML)")
    action.add_argument("--clear", action="store_true", help="remove the stored suites")
    action.add_argument("--show", action="store_true", help="print the stored suites (default)")
    suites.add_argument("--database-url")
    suites.set_defaults(func=cmd_project_suites)


def cmd_project_set(args: argparse.Namespace) -> int:
    with transaction(args) as session:
        project = find_project(session, args.name)
        if project is None:
            raise ProjectError(f"project {args.name!r} does not exist")
        shown = masked(change_settings(session, actor(), project, args.assignments))
    print(json.dumps(shown, indent=2, sort_keys=True))
    return 0


def cmd_project_show(args: argparse.Namespace) -> int:
    with transaction(args) as session:
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


def read_suites_file(path: str) -> str:
    """The text of a suite config file, validated; raises SuiteError with a one-line reason."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"cannot read {path}: {exc}") from None
    try:
        parse_suites(text)
    except SuiteError as exc:
        raise SuiteError(f"{path}: {_one_line(str(exc))}") from None
    return text


def _one_line(message: str) -> str:
    return " ".join(message.split())


def cmd_project_suites(args: argparse.Namespace) -> int:
    try:
        text = read_suites_file(args.set_file) if args.set_file else None
    except SuiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    factory = sessions(settings_from(args))
    try:
        stored, source = _store_suites(factory, args, text)
    finally:
        dispose(factory)
    if args.set_file:
        print(f"stored the suites of {args.name} from {args.set_file}", file=sys.stderr)
    elif args.clear:
        print(f"cleared the stored suites of {args.name}", file=sys.stderr)
    elif stored is None:
        print(f"{args.name} has no stored suites; each commit's own file is used", file=sys.stderr)
    else:
        print(f"# suites_source = {source!r}", file=sys.stderr)
        print(stored, end="" if stored.endswith("\n") else "\n")
    return 0


def _store_suites(
    factory: sessionmaker[Session], args: argparse.Namespace, text: str | None
) -> tuple[str | None, str]:
    """Set (``text``), clear or read the suites; the stored text and ``suites_source``."""

    with session_scope(factory) as session:
        project = find_project(session, args.name)
        if project is None:
            raise ProjectError(f"project {args.name!r} does not exist")
        if text is not None or args.clear:
            project.suites_config = text
            audit.record(
                session,
                actor(),
                "project.suites",
                project.name,
                project_id=project.id,
                details={"set": text is not None},
            )
        return project.suites_config, ProjectSettings.of(project).suites_source
