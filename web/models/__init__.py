"""The ORM models, one aggregate per module; importing this package registers every table."""

from web.models.alert import TRIAGE_STATES, Alert, AlertSummary
from web.models.base import Base
from web.models.github import PrComment, WebhookDelivery
from web.models.job import JOB_KINDS, JOB_STATES, Job, RunnerHeartbeat
from web.models.people import PROJECT_ROLES, Annotation, AuditEntry, ProjectMember, User
from web.models.profile import ResultProfile
from web.models.project import TOKEN_SCOPES, ApiToken, Project
from web.models.result import Benchmark, Measure, Result, Series
from web.models.run import Run
from web.models.series_state import SeriesPoint, SeriesState
from web.models.source import Branch, BranchCommit, Commit, Machine

__all__ = [
    "JOB_KINDS",
    "JOB_STATES",
    "PROJECT_ROLES",
    "TOKEN_SCOPES",
    "TRIAGE_STATES",
    "Alert",
    "AlertSummary",
    "Annotation",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Benchmark",
    "Branch",
    "BranchCommit",
    "Commit",
    "Job",
    "Machine",
    "Measure",
    "PrComment",
    "Project",
    "ProjectMember",
    "Result",
    "ResultProfile",
    "Run",
    "RunnerHeartbeat",
    "Series",
    "SeriesPoint",
    "SeriesState",
    "User",
    "WebhookDelivery",
]
