"""Wire models of the alert endpoints (`web.api.alerts`); the OpenAPI document reads them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from web.api.schemas import SeriesOut
from web.models import TRIAGE_STATES
from web.services.triage import MAX_ISSUE_URL, MAX_NOTE

_STATES: JsonDict = {"enum": list(TRIAGE_STATES)}
_COMMIT = {"type": "string", "pattern": "^[0-9a-fA-F]{4,40}$"}

# Query parameters of the alert list, as the OpenAPI document declares them.
ALERT_QUERY: dict[str, dict[str, Any]] = {
    "status": {"type": "string", **_STATES, "description": "alerts in this triage state"},
    "kind": {"type": "string", "enum": ["regression", "improvement"]},
    "after_commit": _COMMIT
    | {"description": "changes first seen after this commit of the alert's branch"},
    "until_commit": _COMMIT
    | {"description": "changes first seen at or before this commit of the alert's branch"},
    "before_id": {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
        "description": "the previous page's next_before_id",
    },
}


class AlertOut(BaseModel):
    id: int
    summary_id: int
    url: str = Field(description="the alert's page on the dashboard")
    kind: str = Field(description="regression or improvement")
    status: str = Field(description="triage state: " + ", ".join(TRIAGE_STATES))
    confirmation: str = Field(description="candidate, confirmed or not_reproduced (by re-runs)")
    active: bool = Field(description="false once later results no longer show the change")
    series: SeriesOut
    last_good_commit: str | None = Field(description="sha of the last commit before the change")
    first_commit: str = Field(description="sha of the first commit that shows the change")
    change: str = Field(
        description="step (the level changed at first_commit) or drift (it ramped from"
        " first_commit to end_commit, with no one commit to blame)"
    )
    end_commit: str | None = Field(description="sha of a drift's last commit; null for a step")
    culprit: str | None = Field(description="sha bisection blamed, if it named one")
    before: float = Field(description="the series' level before the change, in the unit")
    after: float = Field(description="the level after the change, in the unit")
    rel_change: float = Field(description="after / before - 1")
    pvalue: float
    detector_version: str
    created_at: str
    updated_at: str


class AlertList(BaseModel):
    alerts: list[AlertOut] = Field(description="newest first")
    next_before_id: int | None = Field(
        description="pass as before_id for the next page; null on the last page"
    )


class SummaryOut(BaseModel):
    id: int
    status: str = Field(description="triage state: " + ", ".join(TRIAGE_STATES))
    issue_url: str | None
    note: str | None
    branch: str
    last_good_commit: str | None
    first_commit: str
    created_at: str
    updated_at: str


class SummaryDetail(BaseModel):
    summary: SummaryOut
    alerts: list[AlertOut] = Field(description="largest change first")


class AlertTriageIn(BaseModel):
    """``PATCH`` body of one alert: its own status (its summary keeps its own)."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(json_schema_extra=_STATES)


class SummaryTriageIn(BaseModel):
    """``PATCH`` body of a summary: absent fields stay; null or "" clears a link or a note.

    A new status is given to every alert of the summary, as on the dashboard.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    status: str | None = Field(default=None, json_schema_extra=_STATES)
    issue_url: str | None = Field(default=None, max_length=MAX_ISSUE_URL)
    note: str | None = Field(default=None, max_length=MAX_NOTE)
