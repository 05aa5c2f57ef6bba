"""The OpenAPI 3.1 document, generated from the route table and the pydantic models."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from runner.schema import INT64_MAX, RunPayload
from web.api.alert_schemas import ALERT_QUERY, AlertTriageIn, SummaryTriageIn
from web.api.backtest import BACKTEST_QUERY
from web.api.jobs import JobStateIn
from web.api.json_depth import MAX_JSON_DEPTH
from web.api.params import MAX_JOB_LIMIT
from web.api.schemas import ErrorEnvelope
from web.api.suites import TOML_BODY

if TYPE_CHECKING:
    from web.api.routes import Route

_PATH_PARAM = re.compile(r"<(?:(int):)?(\w+)>")
# JSON request bodies by the name a route gives in ``Route.body``.
_JSON_BODIES: dict[str, type[BaseModel]] = {
    "job_state": JobStateIn,
    "alert_triage": AlertTriageIn,
    "summary_triage": SummaryTriageIn,
}
_QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_JOB_LIMIT},
    **ALERT_QUERY,
    **BACKTEST_QUERY,
}
_ERRORS = {
    "400": f"malformed request (also: JSON nested deeper than {MAX_JSON_DEPTH} levels)",
    "401": "missing, unknown or revoked token",
    "403": "token of another project or with too little scope",
    "404": "no such resource",
    # Werkzeug answers 405 when a path fails only its converters (an id past 2**63-1)
    # and another method's route has the same shape.
    "405": "no such resource for this method (e.g. an id out of range)",
    "409": "conflict: an idempotency key used with other content, or a finished job",
    "413": "request body over the size limit",
    "422": "well-formed but invalid submission",
    "429": "too many failed authentications from this client",
    "503": "the database is unavailable; nothing was stored, retry later",
    "507": "the database has no space left; nothing was stored",
}


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for kind, name in _PATH_PARAM.findall(route.path):
        schema: dict[str, Any] = (
            {"type": "integer", "minimum": 1, "maximum": INT64_MAX}
            if kind == "int"
            else {"type": "string"}
        )
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for name in route.query:
        if name in _QUERY_SCHEMAS:
            schema = _QUERY_SCHEMAS[name]
        elif name.endswith("_id"):
            schema = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}
        else:
            schema = {"type": "string"}
        params.append({"name": name, "in": "query", "required": False, "schema": schema})
    return params


def _submission_body(components: dict[str, Any]) -> dict[str, Any]:
    metadata = _schema_ref(RunPayload, components)
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "metadata"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "metadata": metadata,
                    },
                }
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }


def build_document(routes: tuple[Route, ...], base_url: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    error_ref = _schema_ref(ErrorEnvelope, components)
    paths: dict[str, Any] = {}
    for route in routes:
        path = "/api/v1" + _PATH_PARAM.sub(r"{\2}", route.path)
        responses: dict[str, Any] = {
            str(route.status): {
                "description": route.summary,
                "content": {
                    "application/json": {"schema": _schema_ref(route.response, components)}
                },
            }
        }
        for code, description in _ERRORS.items():
            responses[code] = {
                "description": description,
                "content": {"application/json": {"schema": error_ref}},
            }
        operation: dict[str, Any] = {
            "operationId": route.handler.__name__,
            "summary": route.summary,
            "parameters": _parameters(route),
            "responses": responses,
        }
        if route.body == "submission":
            operation["requestBody"] = _submission_body(components)
            operation["responses"]["200"] = responses[str(route.status)] | {
                "description": "an earlier run with the same idempotency key"
            }
        elif route.body == TOML_BODY:
            operation["requestBody"] = {
                "required": True,
                "description": "a benchwarden.toml document (TOML text, UTF-8)",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        elif route.body in _JSON_BODIES:
            body_ref = _schema_ref(_JSON_BODIES[route.body], components)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body_ref}},
            }
        if route.auth != "read":
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "benchwarden API", "version": "1"},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
