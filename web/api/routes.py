"""The JSON API under ``/api/v1``: an explicit route table over thin handlers.

Handlers validate, call one service or query, and commit once when they write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from runner.parsers import ParseError, parse_bytes
from web.api import schemas
from web.api.alerts import ALERT_ROUTES
from web.api.auth import authorize, bearer_secret, current_token, project_or_404
from web.api.backtest import BACKTEST_ROUTES
from web.api.errors import ApiError
from web.api.jobs import JOB_ROUTES
from web.api.params import whole_number
from web.api.series_cache import SeriesPointsCache
from web.api.submission import read_submission
from web.api.suites import SUITES_ROUTES
from web.celery_app import Dispatcher
from web.config import Settings
from web.db import request_session
from web.models import Benchmark, Branch, Commit, Machine, Project, Run
from web.models.base import utcnow
from web.queries import catalog
from web.queries import series as series_queries
from web.services.ingest import IdempotencyConflict, IngestError, ingest_run


@dataclass(frozen=True)
class Route:
    """One endpoint; the OpenAPI document is generated from this table."""

    method: str
    path: str
    handler: Callable[..., Response | tuple[Response, int]]
    summary: str
    response: type[BaseModel]
    status: int = 200
    auth: str = "read"
    query: tuple[str, ...] = ()
    body: str | None = None


def _settings() -> Settings:
    settings: Settings = current_app.extensions["benchwarden.settings"]
    return settings


def _json(model: BaseModel, status: int = 200) -> tuple[Response, int]:
    return current_app.response_class(model.model_dump_json(), mimetype="application/json"), status


def run_url(run_id: int) -> str:
    return f"{_settings().base_url}/runs/{run_id}"


def _readable(project: str) -> tuple[Session, Project]:
    """The request's session and ``project``, once the caller may read it (404/401/403)."""
    session = request_session()
    found = project_or_404(session, project)
    authorize(session, _settings(), found, "read")
    return session, found


def list_projects() -> tuple[Response, int]:
    session = request_session()
    token = current_token(session)
    token_project = token.project_id if token else None
    visible = [
        p
        for p in catalog.list_projects(session)
        if p.id == token_project or (p.public and _settings().public_read)
    ]
    return _json(schemas.ProjectList(projects=[_project_out(p) for p in visible]))


def _project_out(project: Project) -> schemas.ProjectOut:
    return schemas.ProjectOut.model_validate(project, from_attributes=True)


def get_project(project: str) -> tuple[Response, int]:
    _, found = _readable(project)
    return _json(_project_out(found))


def list_benchmarks(project: str) -> tuple[Response, int]:
    session, found = _readable(project)
    rows = catalog.list_benchmarks(session, found.id)
    return _json(schemas.BenchmarkList(benchmarks=[_benchmark_out(b) for b in rows]))


def _benchmark_out(bench: Benchmark) -> schemas.BenchmarkOut:
    return schemas.BenchmarkOut.model_validate(bench, from_attributes=True)


def list_series(project: str) -> tuple[Response, int]:
    session, found = _readable(project)
    benchmark_id = _optional_int("benchmark_id")
    rows = series_queries.list_series(
        session,
        found.id,
        benchmark_id=benchmark_id,
        measure=request.args.get("measure"),
        machine=request.args.get("machine"),
        branch=request.args.get("branch"),
    )
    return _json(schemas.SeriesList(series=[_series_out(s) for s in rows]))


def _optional_int(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    value = whole_number(raw)
    if value is None:
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number from 1 to 2**63-1")
    return value


def _series_out(info: series_queries.SeriesInfo) -> schemas.SeriesOut:
    return schemas.SeriesOut.model_validate(info, from_attributes=True)


def get_series(project: str, series_id: int) -> Response:
    session, found = _readable(project)
    info = series_queries.series_info(session, series_id)
    if info is None or info.project_id != found.id:
        raise ApiError(404, "series_not_found", f"series {series_id} not found in {project!r}")
    cache: SeriesPointsCache = current_app.extensions["benchwarden.series_cache"]
    version, points = cache.points_json(session, series_id)
    meta = _series_out(info).model_dump_json().encode()
    etag = hashlib.sha256(repr(version).encode() + meta).hexdigest()[:32]
    if etag in request.if_none_match:
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    # Assembled from bytes: re-encoding 10,000-point columns would dominate the request.
    body = b'{"series":' + meta + b',"points":' + points + b"}"
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    return response


def get_run(project: str, run_id: int) -> tuple[Response, int]:
    session, found = _readable(project)
    detail = catalog.run_detail(session, run_id)
    if detail is None or detail[0].project_id != found.id:
        raise ApiError(404, "run_not_found", f"run {run_id} not found in {project!r}")
    results = [
        schemas.ResultOut(
            benchmark_id=bench.id,
            suite=bench.suite,
            name=bench.name,
            params=bench.params,
            measure=measure,
            unit=unit,
            value=result.value,
            stddev=result.stddev,
            sample_count=result.sample_count,
            status=result.status,
            error=result.error,
        )
        for result, bench, measure, unit in catalog.run_results(session, run_id)
    ]
    return _json(schemas.RunDetail(run=_run_out(found, *detail), results=results))


def _run_out(
    project: Project, run: Run, commit: Commit, machine: Machine, branch: Branch | None
) -> schemas.RunOut:
    return schemas.RunOut(
        id=run.id,
        project=project.name,
        commit=commit.sha,
        branch=branch.name if branch else None,
        machine=schemas.MachineOut(
            name=machine.name,
            cpu_model=machine.cpu_model,
            cores=machine.cores,
            memory_bytes=machine.memory_bytes,
            os=machine.os,
            kernel=machine.kernel,
            python=machine.python,
        ),
        status=run.status,
        source_format=run.source_format,
        ci_url=run.ci_url,
        pr_number=run.pr_number,
        created_at=run.created_at.isoformat(),
        result_count=run.result_count,
        url=run_url(run.id),
    )


def create_run() -> tuple[Response, int]:
    if bearer_secret() is None:
        # Writes always need a token; say so before looking at the body.
        raise ApiError(401, "unauthorized", "a token with 'write' scope is required")
    payload, data, filename = read_submission()
    session = request_session()
    # An unknown project or a refused token is answered before the file is
    # parsed, in a short transaction that ends before parsing starts: on SQLite
    # every transaction holds the write lock (web/db.py), and no other request
    # or task may wait for a parser.
    authorize(session, _settings(), project_or_404(session, payload.project), "write")
    session.rollback()
    try:
        parsed = parse_bytes(data, format=payload.format, filename=filename)
    except ParseError as exc:
        raise ApiError(422, "unparseable_file", str(exc)) from None
    if len(parsed.runs) != 1:
        raise ApiError(
            422,
            "several_runs",
            f"the file holds {len(parsed.runs)} runs; submit one commit per request"
            " (benchwarden submit splits them)",
        )
    # The write transaction checks again: a token revoked (or a project
    # removed) while the file was parsed stores nothing.
    project = project_or_404(session, payload.project)
    token = authorize(session, _settings(), project, "write")
    try:
        outcome = ingest_run(session, project, payload, parsed.runs[0], parsed.format)
    except IdempotencyConflict as exc:
        details = {"run_id": exc.run.id, "url": run_url(exc.run.id)}
        raise ApiError(409, "idempotency_conflict", str(exc), details) from None
    except IngestError as exc:
        raise ApiError(422, "invalid_submission", str(exc)) from None
    if token is not None:
        token.last_used_at = utcnow()
    if outcome.created:
        dispatcher = Dispatcher(current_app.extensions["benchwarden.celery"])
        dispatcher.after_commit(session, "benchwarden.detect_run", outcome.run.id)
    session.commit()
    detail = catalog.run_detail(session, outcome.run.id)
    assert detail is not None
    body = schemas.RunCreated(run=_run_out(project, *detail), created=outcome.created)
    return _json(body, 201 if outcome.created else 200)


def openapi_document() -> Response:
    from web.api.openapi import build_document  # cycle: the document is built from ROUTES

    return jsonify(build_document(ROUTES, _settings().base_url))


ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/projects",
        list_projects,
        "List the projects this caller may read",
        schemas.ProjectList,
    ),
    Route("GET", "/projects/<project>", get_project, "One project", schemas.ProjectOut),
    Route(
        "GET",
        "/projects/<project>/benchmarks",
        list_benchmarks,
        "The project's benchmarks",
        schemas.BenchmarkList,
    ),
    Route(
        "GET",
        "/projects/<project>/series",
        list_series,
        "The project's series",
        schemas.SeriesList,
        query=("benchmark_id", "measure", "machine", "branch"),
    ),
    Route(
        "GET",
        "/projects/<project>/series/<int:series_id>",
        get_series,
        "One series with all its points",
        schemas.SeriesDetail,
    ),
    Route(
        "GET",
        "/projects/<project>/runs/<int:run_id>",
        get_run,
        "One run and its results",
        schemas.RunDetail,
    ),
    Route(
        "POST",
        "/runs",
        create_run,
        "Submit a result file as a new run",
        schemas.RunCreated,
        status=201,
        auth="write",
        body="submission",
    ),
    *(Route(*entry) for entry in JOB_ROUTES),
    *(Route(*entry) for entry in SUITES_ROUTES),
    *(Route(*entry) for entry in ALERT_ROUTES),
    *(Route(*entry) for entry in BACKTEST_ROUTES),
)


def create_blueprint() -> Blueprint:
    blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
    for route in ROUTES:
        endpoint = route.handler.__name__
        blueprint.add_url_rule(route.path, endpoint, route.handler, methods=[route.method])
    blueprint.add_url_rule("/openapi.json", "openapi", openapi_document, methods=["GET"])
    return blueprint
