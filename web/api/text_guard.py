"""The request guard: input no part of the service can take is refused (400)
before any view, parser or database sees it.

Three kinds: a query string that is not UTF-8 (Werkzeug decodes it strictly,
so every page answered 500), JSON nested deeper than :data:`web.api.json_depth.MAX_JSON_DEPTH`
(Python's parser would recurse until it fails with a 500), and text with a NUL
character (PostgreSQL stores none in text or JSON, so it would fail halfway
through a write). API routes answer with the error envelope, pages with a 400
page.
"""

from __future__ import annotations

from flask import abort, request

from runner.schema import reject_nul
from web.api.errors import ApiError, is_api_request
from web.api.json_depth import MAX_JSON_DEPTH, nests_deeper_than

UPLOAD_PATH = "/api/v1/runs"
# Form fields that carry a JSON document: a submission's metadata, a webhook's payload.
JSON_FORM_FIELDS = ("metadata", "payload")
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def guard_request() -> None:
    """before_request: refuse over-deep JSON, then NUL characters (400).

    An uploaded result file (the body of ``UPLOAD_PATH``) is not read here: its
    parser bounds its own work, and its records are checked when parsed
    (:func:`runner.schema.reject_nul`).
    """
    if not _is_utf8(request.query_string):
        _refuse("bad_encoding", "the query string must be UTF-8 (percent-encode other bytes)")
    json_body = request.is_json and request.path != UPLOAD_PATH
    if json_body and nests_deeper_than(request.get_data(cache=True)):
        _refuse("too_deep", f"JSON must not nest deeper than {MAX_JSON_DEPTH} levels")
    # A raw upload is often labelled as a form (curl --data-binary's default):
    # on the upload path only multipart bodies are forms.
    raw_upload = request.path == UPLOAD_PATH and request.mimetype != "multipart/form-data"
    form = request.form if request.mimetype in _FORM_TYPES and not raw_upload else None
    if form is not None and any(
        nests_deeper_than(value) for name in JSON_FORM_FIELDS for value in form.getlist(name)
    ):
        _refuse("too_deep", f"JSON must not nest deeper than {MAX_JSON_DEPTH} levels")
    if _has_nul_anywhere(form is not None, json_body):
        _refuse("nul_character", "text must not contain NUL characters")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _has_nul(text: object) -> bool:
    return isinstance(text, str) and "\x00" in text


def _has_nul_anywhere(with_form: bool, json_body: bool) -> bool:
    fields = list(request.args.items(multi=True))
    if with_form:
        fields += request.form.items(multi=True)
    if _has_nul(request.path) or any(_has_nul(k) or _has_nul(v) for k, v in fields):
        return True
    if json_body:
        try:
            reject_nul(request.get_json(silent=True))
        except ValueError:
            return True
    return False


def _refuse(code: str, message: str) -> None:
    if is_api_request():
        raise ApiError(400, code, message)
    abort(400, message)
