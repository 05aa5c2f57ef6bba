"""The GitHub REST client of the bot: the only module that imports github3.py.

It authenticates with a token or as a GitHub App installation (a JWT signed
with the App's key, exchanged for an installation token: that is what lets
the bot comment on PRs from forks, which a workflow's read-only token cannot),
and retries what GitHub asks us to retry: 5xx answers and dropped connections
with exponential backoff, rate limits (403/429 with ``x-ratelimit-remaining: 0``
or ``retry-after``) by waiting until the reset time, never longer than the cap.

Every operation is retried as a whole (find-then-edit, not a lone POST), so a
502 after GitHub already created the comment cannot leave a second comment.
Secrets never appear in ``repr``, logs or exception messages.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import github3
from github3 import exceptions as gh_errors

from web.models.project_settings import (
    DEFAULT_MIN_REL_CHANGE,
    DEFAULT_OVERRIDE_LABEL,
    GitHubSettings,
    ProjectSettings,
    ProjectSettingsError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_API_URL = "https://api.github.com"
STATUS_CONTEXT = "benchwarden"


class GitHubError(Exception):
    """A GitHub call failed for good (after retries); the message holds no secret."""


class GitHubConfigError(GitHubError):
    """The project's GitHub settings are incomplete or malformed."""


class RateLimited(GitHubError):
    """GitHub's rate limit resets later than we are willing to wait."""


@dataclass(frozen=True)
class GitHubConfig:
    """A project's ``settings["github"]``, with credentials resolved.

    Credentials come either inline (``token``, ``private_key``) or, preferably,
    from the worker's environment (``token_env``, ``private_key_env``) or a file
    (``private_key_path``), so the database never holds them.
    """

    repo: str
    api_url: str = DEFAULT_API_URL
    token: str = field(default="", repr=False)
    app_id: int | None = None
    installation_id: int | None = None
    private_key: str = field(default="", repr=False)
    override_label: str = DEFAULT_OVERRIDE_LABEL
    threshold: float = DEFAULT_MIN_REL_CHANGE
    checks: str = "auto"  # "status", or "auto": check runs when authenticated as an App

    @property
    def owner_name(self) -> tuple[str, str]:
        owner, _, name = self.repo.partition("/")
        return owner, name

    @property
    def uses_app(self) -> bool:
        return bool(self.app_id and self.installation_id and self.private_key)

    @property
    def use_check_runs(self) -> bool:
        # GitHub lets only Apps create check runs; a token gets a commit status.
        return self.uses_app and self.checks != "status"

    @classmethod
    def from_settings(
        cls,
        settings: ProjectSettings | Mapping[str, Any] | None,
        environ: Mapping[str, str] | None = None,
    ) -> GitHubConfig | None:
        """None when the project has no GitHub repository configured (then no call is made).

        The PR report's threshold is the project's ``detector.min_rel_change``,
        the same number that raises alerts. A settings document that does not
        validate raises GitHubConfigError naming the key.
        """
        try:
            typed = (
                settings
                if isinstance(settings, ProjectSettings)
                else ProjectSettings.parse(settings)
            )
        except ProjectSettingsError as exc:
            raise GitHubConfigError(str(exc)) from None
        gh = typed.github
        if gh is None:
            return None
        env = os.environ if environ is None else environ
        config = cls(
            repo=gh.repo,
            api_url=(gh.api_url or DEFAULT_API_URL).rstrip("/"),
            token=gh.token or env.get(gh.token_env or "", ""),
            app_id=gh.app_id,
            installation_id=gh.installation_id,
            private_key=_private_key(gh, env),
            override_label=gh.override_label or DEFAULT_OVERRIDE_LABEL,
            threshold=typed.min_rel_change,
            checks=gh.checks,
        )
        if not config.token and not config.uses_app:
            raise GitHubConfigError(
                f"github settings for {gh.repo} hold no credentials: set token_env (or token),"
                " or app_id, installation_id and private_key_env/private_key_path"
            )
        return config


def _private_key(gh: GitHubSettings, env: Mapping[str, str]) -> str:
    if gh.private_key:
        return gh.private_key
    if gh.private_key_env:
        return env.get(gh.private_key_env, "")
    if gh.private_key_path:
        try:
            return Path(gh.private_key_path).read_text()
        except OSError as exc:
            reason = exc.strerror or "unreadable"
            raise GitHubConfigError(f"cannot read github.private_key_path: {reason}") from None
    return ""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying. ``sleep`` and ``clock`` are injectable for tests."""

    attempts: int = 4
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    max_rate_limit_wait: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class PullInfo:
    number: int
    head_sha: str
    base_ref: str
    labels: tuple[str, ...]


class GitHubClient:
    """The few GitHub operations the bot needs, each retried as a whole."""

    def __init__(self, config: GitHubConfig, policy: RetryPolicy | None = None) -> None:
        self.config = config
        self.policy = policy or RetryPolicy()
        self._gh: github3.GitHub | None = None

    def __repr__(self) -> str:
        return f"GitHubClient(repo={self.config.repo!r}, api_url={self.config.api_url!r})"

    def pull_request(self, number: int) -> PullInfo:
        """The head commit and labels of pull request ``number``."""

        def op() -> PullInfo:
            pull = self._github().pull_request(*self.config.owner_name, number)
            labels = tuple(str(label["name"]) for label in (pull.labels or []))
            return PullInfo(number, str(pull.head.sha), str(pull.base.ref), labels)

        return self._retry(op, f"read pull request #{number}")

    def upsert_comment(self, number: int, marker: str, body: str) -> tuple[int, bool]:
        """Edit our comment (found by ``marker``) or create it: (comment id, created)."""

        def op() -> tuple[int, bool]:
            issue = self._github().issue(*self.config.owner_name, number)
            for comment in issue.comments():
                if marker in (comment.body or ""):
                    if comment.body != body:
                        comment.edit(body)
                    return int(comment.id), False
            created = issue.create_comment(body)
            return int(created.id), True

        return self._retry(op, f"comment on #{number}")

    def set_status(self, sha: str, state: str, description: str, target_url: str) -> None:
        """A commit status with context ``benchwarden`` (descriptions are cut to 140)."""

        def op() -> None:
            repo = self._github().repository(*self.config.owner_name)
            repo.create_status(sha, state, target_url or None, description[:140], STATUS_CONTEXT)

        self._retry(op, f"set status on {sha[:7]}")

    def create_check_run(
        self, sha: str, conclusion: str, title: str, summary: str, details_url: str
    ) -> None:
        """A completed check run named ``benchwarden`` (needs GitHub App auth)."""

        def op() -> None:
            repo = self._github().repository(*self.config.owner_name)
            repo.create_check_run(
                STATUS_CONTEXT,
                sha,
                details_url=details_url or None,
                status="completed",
                conclusion=conclusion,
                completed_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                output={"title": title[:255], "summary": summary[:65_000]},
            )

        self._retry(op, f"create check run on {sha[:7]}")

    def _github(self) -> github3.GitHub:
        if self._gh is None:
            gh = github3.GitHub()
            gh.session.base_url = self.config.api_url
            if self.config.uses_app:
                assert self.config.app_id is not None and self.config.installation_id is not None
                # PyJWT 2.10+ requires a string issuer; GitHub accepts the id as a string.
                gh.login_as_app_installation(
                    self.config.private_key.encode(),
                    str(self.config.app_id),
                    self.config.installation_id,
                    expire_in=60,
                )
            else:
                gh.login(token=self.config.token)
            self._gh = gh
        return self._gh

    def _retry(self, op: Callable[[], T], what: str) -> T:
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            try:
                return op()
            except (gh_errors.ServerError, gh_errors.TransportError) as exc:
                if attempt == policy.attempts:
                    raise GitHubError(f"{what}: GitHub failed {attempt} times: {exc}") from None
                delay = policy.backoff * 2 ** (attempt - 1)
                log.warning("%s: %s; retrying in %.1f s", what, exc, delay)
                policy.sleep(delay)
            except gh_errors.GitHubError as exc:
                wait = self._rate_limit_wait(exc)
                if wait is None:
                    raise GitHubError(f"{what}: {exc}") from None
                if attempt == policy.attempts:
                    raise RateLimited(f"{what}: still rate limited after {attempt} tries") from None
                log.warning("%s: rate limited; waiting %.1f s", what, wait)
                policy.sleep(wait)
        raise AssertionError("unreachable")

    def _rate_limit_wait(self, exc: gh_errors.GitHubError) -> float | None:
        """Seconds to wait when ``exc`` is a rate limit, None when it is another error."""
        response = getattr(exc, "response", None)
        if response is None or response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry_after = headers.get("retry-after", "")
        if retry_after.isdigit():
            wait = float(retry_after)
        elif (
            headers.get("x-ratelimit-remaining") == "0"
            and headers.get("x-ratelimit-reset", "").isdigit()
        ):
            wait = max(0.0, float(headers["x-ratelimit-reset"]) - self.policy.clock()) + 1.0
        else:
            return None  # a plain permission error: retrying cannot help
        if wait > self.policy.max_rate_limit_wait:
            raise RateLimited(
                f"GitHub rate limit resets in {wait:.0f} s, more than the"
                f" {self.policy.max_rate_limit_wait:.0f} s we wait"
            )
        return wait
