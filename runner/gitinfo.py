"""What a CI job knows about the commit it benchmarks: from git and CI variables.

GitHub Actions and GitLab CI variables win over local git, flags win over both.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class CommitContext:
    commit: str | None = None
    # where ``commit`` came from ("GITHUB_SHA", "CI_COMMIT_SHA", "git HEAD"), for messages
    commit_source: str | None = None
    parents: list[str] = field(default_factory=list)
    branch: str | None = None
    pr_number: int | None = None
    ci_url: str | None = None
    author: str | None = None
    message: str | None = None
    time: datetime | None = None


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _pr_from_env(env: Mapping[str, str]) -> int | None:
    match = re.match(r"refs/pull/(\d+)/", env.get("GITHUB_REF", ""))
    if match:
        return int(match.group(1))
    iid = env.get("CI_MERGE_REQUEST_IID", "")
    return int(iid) if iid.isdigit() else None


def _branch_from_env(env: Mapping[str, str]) -> str | None:
    for name in ("GITHUB_HEAD_REF", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_BRANCH"):
        if env.get(name):
            return env[name]
    if env.get("GITHUB_REF", "").startswith("refs/heads/"):
        return env["GITHUB_REF"].removeprefix("refs/heads/")
    return None


def _ci_url(env: Mapping[str, str]) -> str | None:
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    return env.get("CI_JOB_URL") or None


def _split_details(details: str | None) -> tuple[str | None, str | None, str | None]:
    if not details:
        return None, None, None
    parts = details.split("\x00", 2)
    parts += [""] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


def _iso_time(raw: str | None) -> datetime | None:
    """git's ``%cI`` (strict ISO 8601); None when missing or unreadable."""
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _commit_from(repo: Path, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The commit a CI job benchmarks and where it was read: CI variables, then git HEAD."""
    for name in ("GITHUB_SHA", "CI_COMMIT_SHA"):
        if env.get(name):
            return env[name], name
    head = _git(repo, "rev-parse", "HEAD")
    return (head, "git HEAD") if head else (None, None)


def detect_context(repo: Path, environ: Mapping[str, str] | None = None) -> CommitContext:
    """Read the commit context of ``repo``; missing facts stay None."""
    env = os.environ if environ is None else environ
    commit, source = _commit_from(repo, env)
    parents: list[str] = []
    details = None
    if commit:
        parents_line = _git(repo, "rev-list", "--parents", "-n", "1", commit)
        parents = parents_line.split()[1:] if parents_line else []
        details = _git(repo, "log", "-1", "--format=%an <%ae>%x00%cI%x00%B", commit)
    branch = _branch_from_env(env) or _git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    author, when, message = _split_details(details)
    return CommitContext(
        commit=commit,
        commit_source=source,
        parents=parents,
        branch=None if branch == "HEAD" else branch,
        pr_number=_pr_from_env(env),
        ci_url=_ci_url(env),
        author=author or None,
        message=(message or "").strip() or None,
        time=_iso_time(when),
    )
