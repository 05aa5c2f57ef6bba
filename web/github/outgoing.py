"""Outgoing notifications of alert summaries on a project's default branch.

Two channels, both optional and both configured per project:
  * ``settings["webhooks"]``: a list of ``{"url", "secret" | "secret_env",
    "format": "json" | "slack"}``; each POST is HMAC-SHA256 signed like
    GitHub's own webhooks (``X-Benchwarden-Signature-256: sha256=<hex>``) and
    retried on 5xx and connection errors with the same delivery id, so a
    receiver can drop duplicates;
  * ``settings["github"]``: a ``benchwarden`` commit status on the summary's
    first changed commit.

A summary is announced once (``AlertSummary.notified_at``), and only when it
holds an active regression that has not been ruled out; with
``settings["notify"]["require_confirmation"]`` only confirmed ones count.
Called from the ``notify`` task only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.db import begin_reading
from web.github.client import GitHubClient, GitHubConfig, GitHubError
from web.models import (
    Alert,
    AlertSummary,
    Benchmark,
    Branch,
    Commit,
    Machine,
    Measure,
    Project,
    Series,
)
from web.models.base import utcnow
from web.models.naming import benchmark_label
from web.models.project_settings import ProjectSettings

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Benchwarden-Signature-256"
_IGNORED_TRIAGE = ("invalid", "wontfix", "fixed")


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str
    format: str  # "json" | "slack"

    def __repr__(self) -> str:  # the URL may carry a token (Slack's do): show the host only
        return f"WebhookTarget(host={urlsplit(self.url).hostname!r}, format={self.format!r})"


def sign(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` and the hex HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_targets(
    settings: ProjectSettings, environ: Mapping[str, str] | None = None
) -> list[WebhookTarget]:
    """The project's ``webhooks``, secrets resolved from the environment when named there."""
    env = os.environ if environ is None else environ
    return [
        WebhookTarget(hook.url, hook.secret or env.get(hook.secret_env or "", ""), hook.format)
        for hook in settings.webhooks
    ]


def summary_payload(session: Session, summary: AlertSummary, base_url: str) -> dict[str, Any]:
    """The JSON body describing ``summary`` and its active alerts."""
    project = session.get(Project, summary.project_id)
    branch = session.get(Branch, summary.branch_id)
    assert project is not None and branch is not None
    first = session.get(Commit, summary.first_commit_id)
    last_good = session.get(Commit, summary.last_good_commit_id or -1)
    rows = session.execute(
        select(Alert, Benchmark, Measure.name, Measure.unit, Machine.name)
        .join(Series, Series.id == Alert.series_id)
        .join(Benchmark, Benchmark.id == Series.benchmark_id)
        .join(Measure, Measure.id == Series.measure_id)
        .join(Machine, Machine.id == Series.machine_id)
        .where(Alert.summary_id == summary.id, Alert.active.is_(True))
        .order_by(Benchmark.name, Measure.name, Machine.name)
    ).tuples()
    alerts = [
        {
            "benchmark": benchmark_label(bench.name, bench.params, bench.display_name),
            "measure": measure,
            "unit": unit,
            "machine": machine,
            "before": alert.before,
            "after": alert.after,
            "rel_change": alert.rel_change,
            "pvalue": alert.pvalue,
            "is_regression": alert.is_regression,
            "change": alert.kind,  # "step", or "drift": a ramp over the summary's range
            "confirmation": alert.confirmation,
            "status": alert.status,
        }
        for alert, bench, measure, unit, machine in rows
    ]
    return {
        "event": "alert_summary",
        "project": project.name,
        "branch": branch.name,
        "summary_id": summary.id,
        "url": f"{base_url}/p/{quote(project.name)}/alerts",
        "commits": {
            "last_good": last_good.sha if last_good else None,
            "first_changed": first.sha if first else None,
        },
        "regressions": sum(1 for a in alerts if a["is_regression"]),
        "improvements": sum(1 for a in alerts if not a["is_regression"]),
        "alerts": alerts,
    }


def slack_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook body (``text`` with mrkdwn) for the same summary."""
    commits = payload["commits"]
    span = f"{(commits['last_good'] or '?')[:7]}…{(commits['first_changed'] or '?')[:7]}"
    lines = [
        f"*benchwarden*: {payload['regressions']} regression(s), {payload['improvements']}"
        f" improvement(s) in *{payload['project']}* on `{payload['branch']}` ({span})"
        f" <{payload['url']}|triage>"
    ]
    for alert in payload["alerts"][:10]:
        arrow = ":small_red_triangle:" if alert["is_regression"] else ":small_green_triangle_down:"
        drift = " (drift over a range of commits)" if alert.get("change") == "drift" else ""
        lines.append(
            f"{arrow} {_slack_escape(alert['benchmark'])} ({alert['machine']}):"
            f" {alert['rel_change'] * 100:+.1f}%{drift}"
        )
    if len(payload["alerts"]) > 10:
        lines.append(f"… and {len(payload['alerts']) - 10} more")
    return {"text": "\n".join(lines)}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def post_webhook(
    target: WebhookTarget,
    payload: Mapping[str, Any],
    *,
    attempts: int = 3,
    backoff: float = 1.0,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """POST the signed payload; True once a 2xx arrives. 4xx is final, 5xx is retried."""
    body = json.dumps(slack_payload(payload) if target.format == "slack" else payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "benchwarden",
        "X-Benchwarden-Event": str(payload.get("event", "")),
        "X-Benchwarden-Delivery": str(uuid.uuid4()),
    }
    if target.secret:
        headers[SIGNATURE_HEADER] = sign(target.secret, body)
    for attempt in range(1, attempts + 1):
        try:
            response = requests.post(target.url, data=body, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            reason = type(exc).__name__
        else:
            if response.ok:
                return True
            reason = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    log.warning("webhook to %r failed: %s", target, reason)
    return False


def notify_alert_summary(
    session: Session,
    summary_id: int,
    *,
    base_url: str,
    make_client: Callable[[GitHubConfig], GitHubClient] = GitHubClient,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Announce a new default-branch summary once; True when it was announced now.

    Read the summary and end that transaction, POST the webhooks and the GitHub
    status (retries and back-off included) with no transaction open, then mark
    the summary announced in a short write (house style 16): on SQLite an open
    transaction would hold the one write lock for as long as a receiver takes.
    """
    begin_reading(session)
    announcement = _announcement(session, summary_id, base_url)
    session.commit()  # only reads so far: ends the transaction before the calls
    if announcement is None:
        return False
    settings, payload = announcement
    for target in webhook_targets(settings):
        post_webhook(target, payload, sleep=sleep)
    _github_status(settings, payload, make_client)
    summary = session.get(AlertSummary, summary_id)
    if summary is None:
        return False
    summary.notified_at = summary.notified_at or utcnow()
    session.flush()
    return True


def _announcement(
    session: Session, summary_id: int, base_url: str
) -> tuple[ProjectSettings, dict[str, Any]] | None:
    """The project's settings and the payload, or None when there is nothing to announce."""
    summary = session.get(AlertSummary, summary_id)
    if summary is None or summary.notified_at is not None:
        return None
    project = session.get(Project, summary.project_id)
    branch = session.get(Branch, summary.branch_id)
    if project is None or branch is None or branch.name != project.default_branch:
        return None
    payload = summary_payload(session, summary, base_url)
    settings = ProjectSettings.of(project)
    if not _worth_announcing(settings, payload):
        return None
    return settings, payload


def _worth_announcing(settings: ProjectSettings, payload: Mapping[str, Any]) -> bool:
    """A regression not triaged away, confirmed by re-runs when the project asks for that.

    A drift is never re-run (no one commit to re-run), and its evidence is the
    whole ramp, so it counts as it is.
    """
    strict = settings.notify.require_confirmation
    allowed = ("confirmed",) if strict else ("confirmed", "candidate")
    return any(
        a["is_regression"]
        and (a["confirmation"] in allowed or a["change"] == "drift")
        and a["status"] not in _IGNORED_TRIAGE
        for a in payload["alerts"]
    )


def _github_status(
    settings: ProjectSettings,
    payload: Mapping[str, Any],
    make_client: Callable[[GitHubConfig], GitHubClient],
) -> None:
    config = GitHubConfig.from_settings(settings)
    sha = payload["commits"]["first_changed"]
    if config is None or not sha:
        return
    description = f"{payload['regressions']} regression(s) detected on {payload['branch']}"
    try:
        make_client(config).set_status(sha, "failure", description, payload["url"])
    except GitHubError as exc:  # the webhooks went out; a failed status must not resend them
        log.warning("status for summary %s not posted: %s", payload["summary_id"], exc)
