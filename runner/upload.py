"""HTTP client for the ingest API: retries with backoff, one idempotency key per submission.

Network errors and 5xx answers are retried with exponential backoff; the same
idempotency key is sent on every attempt, so a retry after a lost response
can never store the run twice. 4xx answers are final.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests

from runner.schema import RunPayload


class UploadError(RuntimeError):
    """The service refused the submission or could not be reached after all retries."""


@dataclass(frozen=True)
class UploadResult:
    status: int
    body: dict[str, Any]


def post_run(
    url: str,
    token: str,
    payload: RunPayload,
    data: bytes,
    filename: str,
    *,
    retries: int = 5,
    timeout: float = 60.0,
    backoff: float = 0.5,
) -> UploadResult:
    """Post one result file with its metadata; return the service's answer on success."""
    endpoint = f"{url.rstrip('/')}/api/v1/runs"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    metadata = payload.model_dump_json(exclude_none=True)
    last_error = "no attempt made"
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(min(backoff * 2 ** (attempt - 1), 30.0))
        try:
            response = requests.post(
                endpoint,
                headers=headers,
                files={"file": (filename, data, "application/octet-stream")},
                data={"metadata": metadata},
                timeout=timeout,
            )
        except requests.RequestException as exc:
            last_error = f"cannot reach {endpoint}: {type(exc).__name__}"
            continue
        if response.status_code >= 500:
            last_error = f"{endpoint} answered {response.status_code}"
            continue
        body = _json_body(response)
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            message = error.get("message") or response.text[:500]
            raise UploadError(
                f"the service refused the submission ({response.status_code}): {message}"
            )
        return UploadResult(response.status_code, body)
    raise UploadError(f"gave up after {retries + 1} attempts: {last_error}")


def _json_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return {}
    return body if isinstance(body, dict) else {}
