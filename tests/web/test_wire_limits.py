"""The wire schema's limits are the database's: they cannot drift apart.

Every text or whole-number field a submission stores is listed with the column
it lands in; its limit in the JSON schema (what the OpenAPI document shows and
pydantic enforces) must equal the column's length or integer range. A column
made longer or shorter without the schema fails here, not as a 500 on
PostgreSQL only.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, Integer, String

from runner.schema import (
    INT32_MAX,
    INT64_MAX,
    MAX_PARAMS_KEY,
    MachineInfo,
    ParsedRun,
    ParseOutput,
    ResultRecord,
    RunPayload,
    Stats,
)
from web.api.jobs import JobStateIn
from web.models import Benchmark, Branch, Commit, Job, Machine, Measure, Project, Result, Run

TEXT: list[tuple[type[BaseModel], str, Any]] = [
    (RunPayload, "project", Project.name),
    (RunPayload, "branch", Branch.name),
    (RunPayload, "commit_author", Commit.author),
    (RunPayload, "ci_url", Run.ci_url),
    (RunPayload, "idempotency_key", Run.idempotency_key),
    (RunPayload, "format", Run.source_format),
    (RunPayload, "source_name", Run.source_name),
    (RunPayload, "environment", Run.environment),
    (ParsedRun, "environment", Run.environment),
    (ParseOutput, "format", Run.source_format),
    (MachineInfo, "name", Machine.name),
    (MachineInfo, "cpu_model", Machine.cpu_model),
    (MachineInfo, "os", Machine.os),
    (MachineInfo, "kernel", Machine.kernel),
    (MachineInfo, "python", Machine.python),
    (ResultRecord, "suite", Benchmark.suite),
    (ResultRecord, "name", Benchmark.name),
    (ResultRecord, "measure", Measure.name),
    (ResultRecord, "unit", Measure.unit),
    (JobStateIn, "machine", Job.machine),
]

NUMBERS: list[tuple[type[BaseModel], str, Any]] = [
    (RunPayload, "pr_number", Run.pr_number),
    (RunPayload, "job_id", Job.id),
    (MachineInfo, "cores", Machine.cores),
    (MachineInfo, "memory_bytes", Machine.memory_bytes),
    # rounds doubles as the sample count when no samples are sent.
    (Stats, "rounds", Result.sample_count),
]


def _field_schema(model: type[BaseModel], name: str) -> dict[str, Any]:
    schema = model.model_json_schema()["properties"][name]
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    assert len(options) == 1, schema
    return dict(options[0])


def _column(attribute: Any) -> Column[Any]:
    column: Column[Any] = attribute.property.columns[0]
    return column


@pytest.mark.parametrize(
    "model, name, attribute", TEXT, ids=[f"{m.__name__}.{n}" for m, n, _ in TEXT]
)
def test_text_limit_is_the_column_length(model, name, attribute) -> None:  # type: ignore[no-untyped-def]
    column_type = _column(attribute).type
    assert isinstance(column_type, String) and column_type.length
    assert _field_schema(model, name).get("maxLength") == column_type.length


def _column_max(attribute: Any) -> int:
    column_type = _column(attribute).type
    # BigId is BigInteger with an SQLite variant: the PostgreSQL type decides.
    if isinstance(column_type, BigInteger) or "BigInteger" in repr(column_type):
        return INT64_MAX
    assert isinstance(column_type, Integer)
    return INT32_MAX


@pytest.mark.parametrize(
    "model, name, attribute", NUMBERS, ids=[f"{m.__name__}.{n}" for m, n, _ in NUMBERS]
)
def test_number_range_is_the_column_range(model, name, attribute) -> None:  # type: ignore[no-untyped-def]
    schema = _field_schema(model, name)
    assert schema["type"] == "integer"
    assert schema["maximum"] == _column_max(attribute)
    assert schema["minimum"] >= 0


def test_params_limit_is_the_params_key_length() -> None:
    column_type = _column(Benchmark.params_key).type
    assert isinstance(column_type, String)
    assert column_type.length == MAX_PARAMS_KEY
