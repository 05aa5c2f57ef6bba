"""Reading a submission from an HTTP request: the result file and its metadata.

Two shapes are accepted:
- ``multipart/form-data`` with a ``file`` part and a ``metadata`` part holding
  the JSON of :class:`runner.schema.RunPayload`;
- the raw file as the body, with the metadata fields as query parameters
  (``parents`` comma-separated, ``machine`` a machine name).
"""

from __future__ import annotations

import json
from typing import Any

from flask import request
from pydantic import ValidationError

from runner.schema import RunPayload
from web.api.errors import ApiError, validation_details
from web.api.json_depth import MAX_JSON_DEPTH, nests_deeper_than

_INT_FIELDS = {"pr_number"}


def read_submission() -> tuple[RunPayload, bytes, str | None]:
    """Return (metadata, file bytes, file name) or raise a 400/422 ApiError."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(400, "missing_file", "multipart body needs a 'file' part")
        data = upload.read()
        filename = upload.filename or None
        raw = request.form.get("metadata")
        fields = _metadata_json(raw) if raw else _query_fields()
    else:
        data = request.get_data(cache=False)
        filename = request.args.get("filename")
        fields = _query_fields()
    if not data:
        raise ApiError(400, "empty_body", "the result file is empty")
    header_key = request.headers.get("Idempotency-Key")
    if header_key and not fields.get("idempotency_key"):
        fields["idempotency_key"] = header_key
    return _payload(fields), data, filename


def _metadata_json(raw: str) -> dict[str, Any]:
    """The metadata part as a dict; refused as the result file's JSON would be:
    nested over MAX_JSON_DEPTH, or with a key given twice (which would
    otherwise silently take the last value)."""
    if nests_deeper_than(raw):
        raise ApiError(
            400, "malformed_metadata", f"metadata nests deeper than {MAX_JSON_DEPTH} levels"
        )
    try:
        fields = json.loads(raw, object_pairs_hook=_unique_keys)
    except ValueError as exc:
        raise ApiError(400, "malformed_metadata", f"metadata is not valid JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise ApiError(400, "malformed_metadata", "metadata must be a JSON object")
    return fields


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object")
        seen.add(key)
    return dict(pairs)


def _query_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in request.args.items():
        if key == "filename":
            continue
        if key == "parents":
            fields[key] = [p for p in value.split(",") if p]
        elif key == "machine":
            fields[key] = {"name": value}
        elif key in _INT_FIELDS:
            fields[key] = _int_field(key, value)
        else:
            fields[key] = value
    return fields


def _int_field(key: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ApiError(422, "invalid_metadata", f"{key} must be a whole number") from None


def _payload(fields: dict[str, Any]) -> RunPayload:
    if not fields.get("commit"):
        raise ApiError(422, "missing_commit", "the commit sha is required (field 'commit')")
    if not fields.get("project"):
        raise ApiError(422, "missing_project", "the project name is required (field 'project')")
    try:
        return RunPayload.model_validate(fields)
    except ValidationError as exc:
        raise ApiError(
            422, "invalid_metadata", "the submission metadata is invalid", validation_details(exc)
        ) from None
