"""Reading a submission from an HTTP request: the result file and its metadata.

Two shapes are accepted:
- ``multipart/form-data`` with a ``file`` part and a ``metadata`` part holding
  the JSON of :class:`runner.schema.RunPayload`;
- the raw file as the body, with the metadata fields as query parameters
  (``parents`` comma-separated, ``machine`` a machine name).
"""

from __future__ import annotations

import contextlib
import json
from typing import IO, Any

from flask import current_app, request
from pydantic import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from runner.schema import RunPayload
from web.api.errors import ApiError, validation_details
from web.api.json_depth import MAX_JSON_DEPTH, nests_deeper_than

_INT_FIELDS = {"pr_number"}
_READ_CHUNK = 64 * 1024


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
        data = _read_body()
        filename = request.args.get("filename")
        fields = _query_fields()
    if not data:
        raise ApiError(400, "empty_body", "the result file is empty")
    header_key = request.headers.get("Idempotency-Key")
    if header_key and not fields.get("idempotency_key"):
        fields["idempotency_key"] = header_key
    return _payload(fields), data, filename


def _read_body() -> bytes:
    """The raw request body, counted as it is read: 413 as soon as it passes
    the upload limit (``MAX_CONTENT_LENGTH``), with or without Content-Length,
    chunked or not.

    Not ``request.get_data()``: on a body without Content-Length (chunked)
    werkzeug stops reading at the limit and returns the first limit bytes as
    if they were the whole body. After a refusal the rest of the body is read
    and dropped, up to one more limit's worth, so that the client, still
    sending, gets the 413 instead of a reset connection.
    """
    limit: int = current_app.config["MAX_CONTENT_LENGTH"]
    declared = request.content_length
    if declared is not None and declared > limit:
        raise RequestEntityTooLarge()
    # The server's own stream when it ends chunked bodies itself, else one cut
    # at Content-Length (or empty, when the server cannot tell where it ends).
    stream = get_input_stream(request.environ, max_content_length=None)
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := stream.read(min(_READ_CHUNK, limit + 1 - size)):
            size += len(chunk)
            if size > limit:
                _drain(stream, limit)
                raise RequestEntityTooLarge()
            chunks.append(chunk)
    except OSError as exc:  # a broken chunked encoding, a connection cut mid-body
        raise ApiError(
            400, "unreadable_body", f"the request body could not be read: {exc}"
        ) from None
    return b"".join(chunks)


def _drain(stream: IO[bytes], most: int) -> None:
    """Read and drop up to `most` more bytes of a refused body (best effort)."""
    left = most
    with contextlib.suppress(OSError):
        while left > 0 and (chunk := stream.read(min(_READ_CHUNK, left))):
            left -= len(chunk)


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
