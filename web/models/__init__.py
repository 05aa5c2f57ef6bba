"""The ORM models, one aggregate per module; importing this package registers every table."""

from web.models.alert import TRIAGE_STATES, Alert, AlertSummary
from web.models.base import Base
from web.models.project import TOKEN_SCOPES, ApiToken, Project
from web.models.result import Benchmark, Measure, Result, Series
from web.models.run import Run
from web.models.source import Branch, BranchCommit, Commit, Machine

__all__ = [
    "TOKEN_SCOPES",
    "TRIAGE_STATES",
    "Alert",
    "AlertSummary",
    "ApiToken",
    "Base",
    "Benchmark",
    "Branch",
    "BranchCommit",
    "Commit",
    "Machine",
    "Measure",
    "Project",
    "Result",
    "Run",
    "Series",
]
