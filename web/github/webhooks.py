"""``POST /webhooks/github``: GitHub's deliveries, verified, deduplicated, turned into jobs.

The signature (``X-Hub-Signature-256``, HMAC-SHA256 of the raw body with the
configured secret) is checked in constant time before anything is parsed; a
missing or bad one gets 401 and changes nothing. The delivery id is inserted
first, in the same transaction as the delivery's effects, so a redelivery is
answered ``duplicate`` and does nothing. No GitHub or git call happens here:
work that talks to GitHub is dispatched to the ``notify`` queue after commit,
a pull request's A/B scheduling (its merge base needs git) to ``schedule``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from web.api.errors import ApiError
from web.celery_app import Dispatcher
from web.config import Settings
from web.db import request_session
from web.github.payloads import Event, InstallationEvent, PullRequestEvent, PushEvent, parse_event
from web.models import Commit, Project, Run, WebhookDelivery
from web.models.project_settings import (
    DEFAULT_OVERRIDE_LABEL,
    ProjectSettings,
    ProjectSettingsError,
)
from web.services.jobs import JobError, schedule_push

log = logging.getLogger(__name__)
HANDLED = ("ping", "push", "pull_request", "installation", "installation_repositories")
PR_ACTIONS = ("opened", "synchronize", "reopened")
SCHEDULE_PR_TASK = "benchwarden.schedule_pr"


def create_webhooks_blueprint() -> Blueprint:
    blueprint = Blueprint("github_webhooks", __name__)
    blueprint.add_url_rule("/webhooks/github", "receive", receive, methods=["POST"])
    return blueprint


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is ``sha256=`` + the hex HMAC of ``body``; constant time."""
    if not secret or not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def keep_signed_body() -> None:
    """before_request, ahead of every other hook: read a delivery's raw bytes first.

    The signature covers the raw body. Werkzeug parses a form from the cached
    bytes when there are any, but once a form is parsed from the stream the
    raw bytes are gone (``get_data()`` is then empty), so they are cached here
    before any request guard looks at ``request.form``.
    """
    if request.endpoint == "github_webhooks.receive":
        request.get_data(cache=True, parse_form_data=False)


def receive() -> tuple[Response, int]:
    settings: Settings = current_app.extensions["benchwarden.settings"]
    body = request.get_data(cache=True)
    if not verify_signature(
        settings.github_webhook_secret, body, request.headers.get("X-Hub-Signature-256")
    ):
        raise ApiError(401, "bad_signature", "missing or invalid X-Hub-Signature-256")
    event = request.headers.get("X-GitHub-Event", "")
    delivery = request.headers.get("X-GitHub-Delivery", "")
    if not delivery or len(delivery) > 100:
        raise ApiError(400, "bad_delivery", "X-GitHub-Delivery header is missing or too long")
    if event not in HANDLED:
        return _answer("ignored", 202, event=event)
    payload = parse_event(event, _payload(body))
    session = request_session()
    session.add(WebhookDelivery(delivery_id=delivery, event=event))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return _answer("duplicate", 200, event=event)
    dispatcher = Dispatcher(current_app.extensions["benchwarden.celery"])
    outcome = HANDLERS[event](session, dispatcher, payload)
    session.commit()
    return _answer(outcome.pop("status", "processed"), 202, event=event, **outcome)


def _answer(status: str, code: int, **extra: Any) -> tuple[Response, int]:
    return jsonify({"status": status, **extra}), code


def _payload(body: bytes) -> dict[str, Any]:
    """The event JSON, sent as ``application/json`` or as the form field ``payload``."""
    raw = request.form.get("payload") if request.mimetype.endswith("urlencoded") else body
    try:
        payload = json.loads(raw or b"")
    except (ValueError, TypeError, RecursionError):
        raise ApiError(400, "bad_payload", "webhook body is not JSON") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "bad_payload", "webhook body is not a JSON object")
    return payload


def projects_for(session: Session, full_name: str) -> list[Project]:
    """Projects whose ``settings["github"]["repo"]`` is ``full_name`` (case-insensitive)."""
    wanted = full_name.lower()
    found = []
    for project in session.scalars(select(Project).order_by(Project.id)):
        try:
            gh = ProjectSettings.of(project).github
        except ProjectSettingsError as exc:  # one bad project must not refuse every delivery
            log.error("webhook for %s: %s", full_name, exc)
            continue
        if gh is not None and gh.repo.lower() == wanted:
            found.append(project)
    return found


def on_ping(session: Session, dispatcher: Dispatcher, payload: Event) -> dict[str, Any]:
    names = [p.name for p in projects_for(session, payload.repo_name)]
    return {"status": "pong", "projects": names}


def on_push(session: Session, dispatcher: Dispatcher, payload: PushEvent) -> dict[str, Any]:
    """A push to a project's default branch schedules runs of the new head."""
    ref, after = payload.ref, payload.after
    if payload.deleted or not ref.startswith("refs/heads/") or set(after) <= {"0"}:
        return {"status": "ignored", "reason": "not a branch update"}
    branch = ref.removeprefix("refs/heads/")
    targets = [p for p in projects_for(session, payload.repo_name) if p.default_branch == branch]
    if not targets:
        return {"status": "ignored", "reason": "no project follows this branch"}
    problems = [_run(schedule_push, session, dispatcher, p, after, branch) for p in targets]
    return _scheduled(targets, problems)


def on_pull_request(
    session: Session, dispatcher: Dispatcher, payload: PullRequestEvent
) -> dict[str, Any]:
    """opened/synchronize/reopened schedule the PR comparison; the override label re-posts it."""
    action, number = payload.action, payload.pr_number
    projects = projects_for(session, payload.repo_name)
    if not projects or not number:
        return {"status": "ignored", "reason": "no project for this repository"}
    if action in ("labeled", "unlabeled"):
        label = payload.label.name if payload.label else ""
        return _relabel(session, dispatcher, projects, number, label)
    if action not in PR_ACTIONS:
        return {"status": "ignored", "reason": f"action {action!r} needs nothing"}
    pull = payload.pull_request
    base_sha = pull.base.sha if pull and pull.base else ""
    head_sha = pull.head.sha if pull and pull.head else ""
    problems = [
        _run(queue_pull_request, session, dispatcher, p, number, base_sha, head_sha)
        for p in projects
    ]
    return _scheduled(projects, problems)


def queue_pull_request(
    session: Session,
    dispatcher: Dispatcher,
    project: Project,
    pr_number: int,
    base_sha: str,
    head_sha: str,
) -> None:
    """Hand the PR's A/B jobs to the ``schedule`` queue once the delivery commits.

    GitHub sends the base branch's tip; the jobs measure its merge base with the
    head, and finding that runs git (a fetch may take minutes), which stays out of
    the request and out of any transaction (house style 16).
    """
    if not project.repo_url:
        raise JobError(f"project {project.name!r} has no repository URL to run from")
    dispatcher.after_commit(session, SCHEDULE_PR_TASK, project.id, pr_number, base_sha, head_sha)


def _relabel(
    session: Session, dispatcher: Dispatcher, projects: list[Project], number: int, label: str
) -> dict[str, Any]:
    """Adding or removing the override label re-posts the newest report of the PR."""
    refreshed = []
    for project in projects:
        gh = ProjectSettings.of(project).github
        if gh is None or label != (gh.override_label or DEFAULT_OVERRIDE_LABEL):
            continue
        sha = session.scalar(
            select(Commit.sha)
            .join(Run, Run.commit_id == Commit.id)
            .where(Run.project_id == project.id, Run.pr_number == number)
            .order_by(Run.created_at.desc(), Run.id.desc())
            .limit(1)
        )
        if sha is not None:
            dispatcher.after_commit(session, "benchwarden.notify_pr", project.id, number, sha)
            refreshed.append(project.name)
    return {"status": "refreshed" if refreshed else "ignored", "projects": refreshed}


def on_installation(
    session: Session, dispatcher: Dispatcher, payload: InstallationEvent
) -> dict[str, Any]:
    """Remember the App installation id on the projects of the installed repositories."""
    installation_id = payload.installation.id if payload.installation else None
    removed = payload.action in ("deleted", "suspend")
    repos = (payload.repositories or []) + (payload.repositories_added or [])
    gone = payload.repositories_removed or []
    updated = []
    for repo, drop in [(r, removed) for r in repos] + [(r, True) for r in gone]:
        for project in projects_for(session, repo.full_name):
            gh = dict(project.settings.get("github") or {})  # type: ignore[call-overload]
            gh["installation_id"] = None if drop else installation_id
            project.settings = {**project.settings, "github": gh}  # validated on assignment
            updated.append(project.name)
    return {"status": "recorded", "projects": sorted(set(updated))}


def _run(
    schedule: Callable[..., Any],
    session: Session,
    dispatcher: Dispatcher,
    project: Project,
    *args: Any,
) -> str | None:
    """Schedule for one project; a project that cannot run jobs yet is reported, not a 500."""
    try:
        with session.begin_nested():
            schedule(session, dispatcher, project, *args)
    except ValueError as exc:  # JobError: e.g. no repository URL or machines configured
        return f"{project.name}: {exc}"
    return None


def _scheduled(projects: list[Project], problems: list[str | None]) -> dict[str, Any]:
    names = [p.name for p in projects]
    skipped = [p for p in problems if p]
    if skipped:
        return {"status": "recorded", "projects": names, "not_scheduled": skipped}
    return {"status": "scheduled", "projects": names}


# Each handler takes the model that parse_event() made for its event (payloads.MODELS).
HANDLERS: dict[str, Callable[[Session, Dispatcher, Any], dict[str, Any]]] = {
    "ping": on_ping,
    "push": on_push,
    "pull_request": on_pull_request,
    "installation": on_installation,
    "installation_repositories": on_installation,
}
