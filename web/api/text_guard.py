"""Refusing text PostgreSQL cannot store, before a request does anything."""

from __future__ import annotations

from flask import abort, request

from runner.schema import reject_nul
from web.api.errors import ApiError, is_api_request

UPLOAD_PATH = "/api/v1/runs"


def _has_nul(text: object) -> bool:
    return isinstance(text, str) and "\x00" in text


def reject_nul_characters() -> None:
    """before_request: refuse a request with a NUL character in its path, query,
    form fields or JSON body (400). PostgreSQL stores no NUL in text or JSON, so
    it would otherwise fail halfway through a write. An uploaded result file
    (the body of ``UPLOAD_PATH``) is not parsed here: its records and metadata
    are checked when parsed (:func:`runner.schema.reject_nul`)."""
    fields = list(request.args.items(multi=True))
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields += request.form.items(multi=True)
    found = _has_nul(request.path) or any(_has_nul(k) or _has_nul(v) for k, v in fields)
    if not found and request.is_json and request.path != UPLOAD_PATH:
        try:
            reject_nul(request.get_json(silent=True))
        except ValueError:
            found = True
    if not found:
        return
    if is_api_request():
        raise ApiError(400, "nul_character", "text must not contain NUL characters")
    abort(400, "text must not contain NUL characters")
