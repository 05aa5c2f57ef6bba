"""Throttling of failed authentication, per client address.

Guessing tokens is pointless (256 random bits), but a flood of bad tokens still
costs database lookups and fills logs. After ``limit`` failures inside
``window`` seconds a client gets 429 with ``Retry-After`` until the window has
passed. State is per process: with N gunicorn workers the effective limit is at
most N times higher, which is still a hard bound.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class FailedAuthLimiter:
    def __init__(self, limit: int = 20, window: float = 60.0, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds this client must wait before trying again; 0 when it may try now."""
        now = self._clock()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) < self.limit:
                return 0
            return max(1, int(self.window - (now - failures[0])) + 1)

    def failed(self, client: str) -> None:
        now = self._clock()
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._failures) > 10_000:
                # Bound memory under address churn: drop clients with no recent failure.
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]
