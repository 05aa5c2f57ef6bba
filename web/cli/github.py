"""``benchwarden project github P``: connect a project to its GitHub repository.

Credentials are stored as the *names* of environment variables (or a key
file path) that the notify worker reads, never as values, so neither the
database nor shell history holds a secret.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from web.cli.context import Subcommands, transaction
from web.github.client import GitHubConfig, GitHubConfigError
from web.models.project_settings import DEFAULT_MIN_REL_CHANGE, DEFAULT_OVERRIDE_LABEL
from web.services.projects import ProjectError, find_project


def add_github_command(project: Subcommands) -> None:
    """Attach ``github`` under the ``project`` command."""
    cmd = project.add_parser("github", help="connect a project to GitHub (PR comments, statuses)")
    cmd.add_argument("name", help="project name")
    cmd.add_argument("--repo", help="owner/name on GitHub")
    cmd.add_argument("--token-env", help="variable holding a token with repo:status, issues:write")
    cmd.add_argument("--app-id", type=int, help="GitHub App id (instead of a token)")
    cmd.add_argument("--installation-id", type=int, help="default: set by the installation event")
    cmd.add_argument("--private-key-env", help="variable holding the App's private key (PEM)")
    cmd.add_argument("--private-key-path", help="file holding the App's private key (PEM)")
    cmd.add_argument("--api-url", help="GitHub Enterprise API URL, e.g. https://ghe/api/v3")
    cmd.add_argument("--override-label", default=None, help=f"default {DEFAULT_OVERRIDE_LABEL}")
    cmd.add_argument(
        "--threshold",
        type=float,
        help=f"sets detector.min_rel_change, the one threshold of alerts and PR reports"
        f" (default {DEFAULT_MIN_REL_CHANGE})",
    )
    cmd.add_argument("--checks", choices=["auto", "status"], help="auto: check runs as an App")
    cmd.add_argument("--webhook", help="also POST new alert summaries to this URL")
    cmd.add_argument("--webhook-secret-env", help="variable holding the webhook's HMAC secret")
    cmd.add_argument("--webhook-format", choices=["json", "slack"], default="json")
    cmd.add_argument("--disconnect", action="store_true", help="remove the GitHub settings")
    cmd.add_argument("--database-url")
    cmd.set_defaults(func=github_command)


def github_command(args: argparse.Namespace) -> int:
    with transaction(args) as session:
        project = find_project(session, args.name)
        if project is None:
            raise ProjectError(f"project {args.name!r} does not exist")
        settings: dict[str, Any] = dict(project.settings or {})
        if args.disconnect:
            settings.pop("github", None)
        else:
            settings["github"] = _github_settings(dict(settings.get("github") or {}), args)
        if args.threshold is not None:
            settings["detector"] = dict(settings.get("detector") or {})
            settings["detector"]["min_rel_change"] = args.threshold
        if args.webhook:
            hooks = [h for h in settings.get("webhooks") or [] if h.get("url") != args.webhook]
            hooks.append(_webhook(args))
            settings["webhooks"] = hooks
        project.settings = settings
        shown = {k: v for k, v in settings.items() if k in ("github", "webhooks")}
    print(json.dumps(shown, indent=2, sort_keys=True))
    return 0


def _github_settings(current: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    updates = {
        "repo": args.repo,
        "token_env": args.token_env,
        "app_id": args.app_id,
        "installation_id": args.installation_id,
        "private_key_env": args.private_key_env,
        "private_key_path": args.private_key_path,
        "api_url": args.api_url,
        "override_label": args.override_label,
        "checks": args.checks,
    }
    merged = current | {k: v for k, v in updates.items() if v is not None}
    for inline in ("token", "private_key", "threshold"):  # secrets belong in the environment
        merged.pop(inline, None)  # (threshold: replaced by detector.min_rel_change)
    if not merged.get("repo"):
        raise ProjectError("--repo owner/name is required")
    try:  # validate the shape; credentials may live only in the worker's environment
        GitHubConfig.from_settings({"github": merged | {"token": "-"}}, {})
    except GitHubConfigError as exc:
        raise ProjectError(str(exc)) from None
    if not (merged.get("token_env") or merged.get("app_id")):
        print("warning: no --token-env or --app-id: nothing will be posted", file=sys.stderr)
    return merged


def _webhook(args: argparse.Namespace) -> dict[str, Any]:
    hook: dict[str, Any] = {"url": args.webhook, "format": args.webhook_format}
    if args.webhook_secret_env:
        hook["secret_env"] = args.webhook_secret_env
    return hook
