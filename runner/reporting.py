"""Reporting job state to the service over HTTP (``POST /api/v1/jobs/<id>/state``).

The runner never touches the database; this is how the service learns that a
job started (one more attempt), finished (with the runs it stored) or failed
(with its log tail). Network errors and 5xx answers are retried; a 409 means
the job already finished, which is how a redelivered job knows to do nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests

from runner.schema import JobReport


class ReportError(RuntimeError):
    """The service refused the report or could not be reached after all retries."""


class JobFinished(Exception):
    """The service says the job is already done or failed (a redelivery)."""


@dataclass(frozen=True)
class ServiceClient:
    url: str
    token: str
    retries: int = 5
    timeout: float = 30.0
    backoff: float = 0.5

    def report(self, job_id: int, report: JobReport) -> dict[str, Any]:
        """Send the job's new state; raise JobFinished on 409, ReportError on other refusals."""
        body = report.model_dump(mode="json", exclude_none=True)
        return self._post(f"/api/v1/jobs/{job_id}/state", body)

    def heartbeat(self, machine: str, hostname: str = "") -> dict[str, Any]:
        """Tell the service a runner serving ``bench.<machine>`` is alive."""
        return self._post(f"/api/v1/machines/{machine}/heartbeat", {"hostname": hostname})

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        endpoint = f"{self.url.rstrip('/')}{path}"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        last = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))
            try:
                response = requests.post(endpoint, json=body, headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                last = f"cannot reach {endpoint}: {type(exc).__name__}"
                continue
            if response.status_code >= 500:
                last = f"{endpoint} answered {response.status_code}"
                continue
            if response.status_code == 409:
                raise JobFinished(response.text[:500])
            if response.status_code >= 400:
                raise ReportError(f"{path} refused ({response.status_code}): {response.text[:500]}")
            answer = response.json()
            return answer if isinstance(answer, dict) else {}
        raise ReportError(f"gave up after {self.retries + 1} attempts: {last}")
