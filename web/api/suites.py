"""``/projects/<p>/suites``: the project's own suite declaration (TOML), outside its repository.

``GET`` reads it (read scope, like the rest of the project); ``PUT`` stores the
request body as the declaration (admin scope). The body is checked with the
runner's own parser (`runner.suites.parse_suites`) before anything is stored:
text over `runner.suites.MAX_CONFIG_CHARS`, bad TOML or a bad suite answers 422
in the error envelope. An empty body removes the stored suites. Route entries are
tuples of `web.api.routes.Route` fields, as in `web.api.jobs`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel

from runner.suites import MAX_CONFIG_CHARS, SuiteError, parse_suites
from web.api.auth import authorize, project_or_404
from web.api.errors import ApiError
from web.config import Settings
from web.db import request_session
from web.models.project_settings import ProjectSettings

TOML_BODY = "toml"


class SuitesOut(BaseModel):
    project: str
    suites_config: str | None
    suites_source: str


def _settings() -> Settings:
    settings: Settings = current_app.extensions["benchwarden.settings"]
    return settings


def _out(project: Any) -> Response:
    body = SuitesOut(
        project=project.name,
        suites_config=project.suites_config,
        suites_source=ProjectSettings.of(project).suites_source,
    )
    return current_app.response_class(body.model_dump_json(), mimetype="application/json")


def get_project_suites(project: str) -> Response:
    session = request_session()
    found = project_or_404(session, project)
    authorize(session, _settings(), found, "read")
    return _out(found)


def put_project_suites(project: str) -> Response:
    session = request_session()
    found = project_or_404(session, project)
    authorize(session, _settings(), found, "admin")
    text = _body_text()
    if text.strip():
        try:
            parse_suites(text)
        except SuiteError as exc:
            raise ApiError(422, "invalid_suites", str(exc)) from None
    found.suites_config = text if text.strip() else None
    session.commit()
    return _out(found)


def _body_text() -> str:
    """The body as UTF-8 text, at most `MAX_CONFIG_CHARS` characters (422 otherwise)."""
    length = request.content_length
    if length is not None and length > MAX_CONFIG_CHARS * 4:
        raise ApiError(
            422, "invalid_suites", f"the suite config is over {MAX_CONFIG_CHARS} characters"
        )
    raw = request.get_data(cache=False)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, "invalid_suites", "the suite config must be UTF-8 text") from None
    if len(text) > MAX_CONFIG_CHARS:
        raise ApiError(
            422, "invalid_suites", f"the suite config is over {MAX_CONFIG_CHARS} characters"
        )
    return text


# (method, path, handler, summary, response, status, auth, query, body)
SUITES_ROUTES: tuple[tuple[Any, ...], ...] = (
    (
        "GET",
        "/projects/<project>/suites",
        get_project_suites,
        "The project's stored suite declaration (TOML) and which declaration wins",
        SuitesOut,
    ),
    (
        "PUT",
        "/projects/<project>/suites",
        put_project_suites,
        "Store the project's suite declaration (TOML body; empty removes it)",
        SuitesOut,
        200,
        "admin",
        (),
        TOML_BODY,
    ),
)
