"""Operations endpoints: ``/healthz``, ``/readyz``, ``/metrics``, and the request hooks
that feed the request and ingest metrics.

These routes live on their own blueprint with no auth or dashboard hooks, take
no token even when ``public_read`` is off, are GET-only (so CSRF never applies),
and have no rate limit. ``/metrics`` names machines and routes but no secrets;
keep it (like the other two) off the public proxy if machine names are private.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from runner.sqlite_broker import is_sqlite_broker
from web.config import Settings
from web.metrics import (
    CONTENT_TYPE,
    INGEST_SECONDS,
    REQUEST_SECONDS,
    REQUESTS,
    RESULTS_INGESTED,
    UNMATCHED_ROUTE,
    DatabaseCollector,
    render,
)

log = logging.getLogger(__name__)

INGEST_ENDPOINT = "api.create_run"
BROKER_TIMEOUT = 2.0
_STARTED = "benchwarden_request_started"


def create_ops_blueprint() -> Blueprint:
    blueprint = Blueprint("ops", __name__)
    blueprint.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    blueprint.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
    blueprint.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
    return blueprint


def init_request_metrics(app: Flask) -> None:
    """Time every request from the first before_request hook to the response."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_observe)


def healthz() -> Response:
    """The process is up and answering."""
    return jsonify(status="ok")


def readyz() -> tuple[Response, int]:
    """200 when the database answers ``SELECT 1`` and the broker is reachable, else 503
    with the checks that failed; never 500."""
    settings: Settings = current_app.extensions["benchwarden.settings"]
    engine: Engine = current_app.extensions["benchwarden.engine"]
    checks = {
        "database": _check(database_ready, engine),
        "broker": _check(broker_ready, settings.broker_url),
    }
    down = [name for name, status in checks.items() if status != "ok"]
    body: dict[str, object] = {"status": "ok" if not down else "unavailable", "checks": checks}
    if down:
        body["down"] = down
    return jsonify(body), 200 if not down else 503


def metrics() -> Response:
    factory: sessionmaker[Session] = current_app.extensions["benchwarden.sessionmaker"]

    @contextmanager
    def open_session() -> Iterator[Session]:
        session = factory()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    return Response(render(DatabaseCollector(open_session)), content_type=CONTENT_TYPE)


def _check(probe: Callable[[Any], None], target: object) -> str:
    try:
        probe(target)
    except Exception as exc:  # any failure of the dependency is "down", never a 500
        log.warning("readiness check failed: %s", type(exc).__name__)
        return f"down: {type(exc).__name__}"
    return "ok"


def database_ready(engine: Engine) -> None:
    """``SELECT 1`` over a raw pooled connection (on SQLite no transaction, so no write
    lock is waited for)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchall()
        cursor.close()
        connection.rollback()
    finally:
        connection.close()


def broker_ready(broker_url: str) -> None:
    """Redis: PING with a short timeout; embedded SQLite broker: its directory is
    writable and a connection answers; anything else: kombu connects once."""
    if broker_url.startswith(("redis://", "rediss://")):
        import redis  # only for a Redis broker

        client = redis.Redis.from_url(
            broker_url, socket_timeout=BROKER_TIMEOUT, socket_connect_timeout=BROKER_TIMEOUT
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    if is_sqlite_broker(broker_url):
        path = Path(make_url(broker_url.split("+", 1)[1]).database or "")
        if not os.access(path.parent, os.W_OK):
            raise PermissionError("broker directory not writable")
        connection = sqlite3.connect(path, timeout=BROKER_TIMEOUT)
        try:
            connection.execute("SELECT 1").fetchall()
        finally:
            connection.close()
        return
    from kombu.connection import Connection  # heavy; only for other brokers

    with Connection(broker_url, connect_timeout=BROKER_TIMEOUT) as connection:  # type: ignore[no-untyped-call]
        connection.ensure_connection(max_retries=1)


def _start_timer() -> None:
    setattr(g, _STARTED, time.perf_counter())


def _observe(response: Response) -> Response:
    started = getattr(g, _STARTED, None)
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
    REQUESTS.labels(route=route, method=request.method, status=str(response.status_code)).inc()
    if started is None:
        return response
    elapsed = time.perf_counter() - started
    REQUEST_SECONDS.labels(route=route).observe(elapsed)
    if request.endpoint == INGEST_ENDPOINT:
        INGEST_SECONDS.observe(elapsed)
        if response.status_code == 201:
            RESULTS_INGESTED.inc(_result_count(response))
    return response


def _result_count(response: Response) -> int:
    """The stored run's ``result_count`` from the 201 body (``RunCreated``)."""
    body = response.get_json(silent=True)
    try:
        return int(body["run"]["result_count"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return 0
