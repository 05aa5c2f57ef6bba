"""The one error envelope of the API: ``{"error": {"code", "message", "details"}}``.

Every failure under ``/api`` leaves through here, including Werkzeug's own
404/405/413 and unexpected exceptions, so no client ever sees a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` limited to 1..2**63-1: a larger id is no route (404), not an overflow."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status, a stable machine-readable code and a human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    return response


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors without the echoed input (it may be huge or hold secrets)."""
    return [
        {"loc": [str(part) for part in err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def is_api_request() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/webhooks/")


def register_error_handlers(app: Flask) -> None:

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        response = error_response(exc.status, exc.code, exc.message, exc.details)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | HTTPException:
        if not is_api_request():
            return exc
        status = exc.code or 500
        code = {
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
        }.get(status, "http_error")
        message = exc.description or exc.name
        if status == 413:
            message = f"request body exceeds the limit of {app.config['MAX_CONTENT_LENGTH']} bytes"
        response = error_response(status, code, message)
        # Keep protocol headers such as Allow on 405 (RFC 9110 requires it).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError) -> Response:
        # The database is down, restarting or full: nothing was stored, and a retry
        # may succeed, so say so instead of a bare 500.
        text = str(exc.orig).lower()
        if "disk is full" in text or "no space left" in text or "could not extend" in text:
            log.error("storage full on %s %s", request.method, request.path)
            return error_response(
                507, "storage_full", "the database has no space left; nothing was stored"
            )
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.path,
            type(exc.orig).__name__,
        )
        response = error_response(
            503, "database_unavailable", "the database is unavailable; retry later"
        )
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "an internal error occurred")
