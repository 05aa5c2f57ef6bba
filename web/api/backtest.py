"""``GET /projects/<p>/backtest``: the backtest's rows as JSON (`web.services.backtest`).

Query parameters are ``detector.*`` settings without the prefix
(``?min_rel_change=0.05``); a comma-separated value is a grid axis
(``?min_rel_change=0.01,0.02,0.05&alpha=0.001``). The first row is always the
project's current setting. Read scope, like every other ``GET``; nothing is
written. An unknown parameter or a value ``project set`` would refuse answers
400 in the error envelope. Route entries are tuples of `web.api.routes.Route`
fields, as in `web.api.jobs`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel, Field

from web.api.auth import authorize, project_or_404
from web.api.errors import ApiError
from web.config import Settings
from web.db import request_session
from web.models import TRIAGE_STATES
from web.models.project_settings import ProjectSettingsError
from web.services.backtest import DETECTOR_KEYS, BacktestRow, backtest, candidates

MAX_VALUE_CHARS = 200
_BY_STATE = "counts by triage state: " + ", ".join(TRIAGE_STATES)

# Query parameters, as the OpenAPI document declares them.
BACKTEST_QUERY: dict[str, dict[str, Any]] = {
    key: {
        "type": "string",
        "maxLength": MAX_VALUE_CHARS,
        "description": f"detector.{key} to replay with; v1,v2,... for a grid axis",
    }
    for key in DETECTOR_KEYS
}


class BacktestRowOut(BaseModel):
    label: str = Field(description="'current' or the candidate's settings")
    assignments: list[str] = Field(description="KEY=VALUE to apply it with `project set`")
    series: int = Field(description="series replayed (enough points for a change)")
    raised: int = Field(description="alerts the setting would hold: kept + new")
    new: int = Field(description="alerts no stored alert covers: nobody triaged them")
    kept_total: int
    dropped_total: int
    kept: dict[str, int] = Field(description="stored alerts it would still raise, " + _BY_STATE)
    dropped: dict[str, int] = Field(description="stored alerts it would not raise, " + _BY_STATE)
    precision: float | None = Field(
        description="real (acknowledged, investigating, fixed, wontfix) / triaged, of the kept"
    )
    recall: float | None = Field(description="kept real alerts / stored real alerts")


class BacktestOut(BaseModel):
    project: str
    rows: list[BacktestRowOut] = Field(description="the current setting first, then the grid")


def _settings() -> Settings:
    settings: Settings = current_app.extensions["benchwarden.settings"]
    return settings


def row_out(row: BacktestRow) -> BacktestRowOut:
    return BacktestRowOut(
        label=row.label,
        assignments=list(row.assignments),
        series=row.series,
        raised=row.raised,
        new=row.new,
        kept_total=row.kept_total,
        dropped_total=row.dropped_total,
        kept=row.kept,
        dropped=row.dropped,
        precision=row.precision,
        recall=row.recall,
    )


def _axes() -> tuple[list[str], list[str]]:
    """(sets, grid) from the query string; 400 on an unknown key or an oversized value."""
    sets: list[str] = []
    grid: list[str] = []
    for key in request.args:
        if key not in DETECTOR_KEYS:
            raise ApiError(
                400,
                "invalid_parameter",
                f"{key} is not a detector setting (known: {', '.join(DETECTOR_KEYS)})",
            )
        values = request.args.getlist(key)
        if len(values) > 1 or len(values[0]) > MAX_VALUE_CHARS:
            raise ApiError(
                400, "invalid_parameter", f"give {key} once, at most {MAX_VALUE_CHARS} characters"
            )
        (grid if "," in values[0] else sets).append(f"{key}={values[0]}")
    return sets, grid


def get_backtest(project: str) -> Response:
    session = request_session()
    found = project_or_404(session, project)
    authorize(session, _settings(), found, "read")
    sets, grid = _axes()
    try:
        settings = candidates(found, sets, grid)
    except ProjectSettingsError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from None
    rows = backtest(session, found, settings)
    body = BacktestOut(project=found.name, rows=[row_out(row) for row in rows])
    return current_app.response_class(body.model_dump_json(), mimetype="application/json")


BACKTEST_ROUTES: tuple[tuple[Any, ...], ...] = (
    (
        "GET",
        "/projects/<project>/backtest",
        get_backtest,
        "Replay detection over the stored history with the current or given detector settings,"
        " scored against triage",
        BacktestOut,
        200,
        "read",
        DETECTOR_KEYS,
    ),
)
