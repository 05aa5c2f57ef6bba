"""Throttling of failed authentication, per client address, shared by every worker.

Guessing tokens is pointless (256 random bits), but a flood of bad tokens still
costs database lookups and fills logs. After ``limit`` failures inside
``window`` seconds a client gets 429 with ``Retry-After`` until the oldest
failure leaves the window; a valid token is always let through, so someone
else's guessing never locks out a token's owner.

The counts live in Flask-Limiter's storage: the broker's Redis when the broker
is ``redis://`` (so N gunicorn workers or hosts share one limit), memory in the
embedded default (one web process). Flask-Limiter's own route limits are not
used: they are checked before the view runs, so they would refuse a valid
token too; here only failures are counted, through the limiter's moving window.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItemPerSecond

from web.api.errors import ApiError
from web.config import Settings

log = logging.getLogger(__name__)
FAILURES = "failed-authentication"


def client_address() -> str:
    return request.remote_addr or "unknown"


def storage_uri(settings: Settings) -> str:
    """The broker's Redis when there is one, else this process's memory."""
    redis = settings.broker_url.startswith(("redis://", "rediss://"))
    return settings.broker_url if redis else "memory://"


class FailedAuthLimiter:
    def __init__(self, limiter: Limiter, limit: int = 20, window: int = 60) -> None:
        self.limiter = limiter
        self.item = RateLimitItemPerSecond(limit, window)

    @classmethod
    def for_app(cls, app: Flask, settings: Settings) -> FailedAuthLimiter:
        limiter = Limiter(
            client_address,
            app=app,
            storage_uri=storage_uri(settings),
            strategy="moving-window",
            key_prefix="benchwarden",
        )
        return cls(limiter)

    def retry_after(self, client: str) -> int:
        """Seconds this client must wait before trying again; 0 when it may try now."""
        strategy = self.limiter.limiter
        try:
            if strategy.test(self.item, FAILURES, client):
                return 0
            reset, _ = strategy.get_window_stats(self.item, FAILURES, client)
        except Exception:  # the storage's own client errors (Redis down): fail open, say so
            log.warning("failed-authentication limit unavailable", exc_info=True)
            return 0
        return max(1, math.ceil(reset - time.time()))

    def failed(self, client: str) -> None:
        try:
            self.limiter.limiter.hit(self.item, FAILURES, client)
        except Exception:  # as in retry_after: a storage outage must not turn 401 into 500
            log.warning("failed-authentication limit unavailable", exc_info=True)


def count_failure() -> ApiError | None:
    """Record one failed authentication of this request's client.

    Returns the 429 to answer instead of the failure when the client was already
    over the limit, else None.
    """
    limiter: FailedAuthLimiter = current_app.extensions["benchwarden.auth_limiter"]
    client = client_address()
    wait = limiter.retry_after(client)
    limiter.failed(client)
    if not wait:
        return None
    return ApiError(
        429,
        "too_many_failures",
        f"too many failed authentications; retry in {wait} s",
        headers={"Retry-After": str(wait)},
    )
