"""The benchwarden service. ``create_app`` is the only way to get an app; importing does nothing."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from web.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app for ``settings`` (default: read from the environment)."""
    # Imported here so that importing `web` (workers, the CLI, migrations) loads no app code.
    from flask import Flask

    from web.api.errors import BoundedIntConverter, register_error_handlers
    from web.api.ratelimit import FailedAuthLimiter
    from web.api.routes import create_blueprint
    from web.api.series_cache import SeriesPointsCache
    from web.api.text_guard import guard_request
    from web.celery_app import make_celery
    from web.config import Settings
    from web.db import close_request_session, make_engine, make_sessionmaker
    from web.github.webhooks import create_webhooks_blueprint, keep_signed_body
    from web.headers import init_security_headers
    from web.health import create_ops_blueprint, init_request_metrics
    from web.logging_setup import configure_logging
    from web.views.csrf import init_csrf
    from web.views.routes import register_views

    settings = settings or Settings.from_env()
    configure_logging(settings.log_format)
    app = Flask(__name__)
    app.url_map.converters["int"] = BoundedIntConverter
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    # A runner's metadata part carries a log tail of up to 200,000 characters,
    # which JSON escapes to up to 1.2 MB; werkzeug's 500 kB default for a form
    # field would refuse it (413) and leave the upload's spooled file unclosed.
    app.config["MAX_FORM_MEMORY_SIZE"] = MAX_FORM_FIELD_BYTES
    app.config["SECRET_KEY"] = settings.secret_key or persistent_secret_key(settings.data_dir)
    app.config["JSON_SORT_KEYS"] = False
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    app.extensions["benchwarden.settings"] = settings
    app.extensions["benchwarden.engine"] = engine
    factory = make_sessionmaker(engine)
    app.extensions["benchwarden.sessionmaker"] = factory
    app.extensions["benchwarden.celery"] = make_celery(settings, factory)
    app.extensions["benchwarden.series_cache"] = SeriesPointsCache()
    app.extensions["benchwarden.auth_limiter"] = FailedAuthLimiter.for_app(app, settings)
    app.teardown_appcontext(close_request_session)
    register_error_handlers(app)
    # First: a webhook's raw bytes are kept before any hook parses its form.
    app.before_request(keep_signed_body)
    app.before_request(guard_request)
    app.register_blueprint(create_blueprint())
    app.register_blueprint(create_webhooks_blueprint())
    register_views(app)
    # Operations endpoints: no auth, no dashboard hooks, GET only; every request is timed.
    app.register_blueprint(create_ops_blueprint())
    init_request_metrics(app)
    init_csrf(app)
    init_security_headers(app)
    return app


MAX_FORM_FIELD_BYTES = 4 * 1024 * 1024


def persistent_secret_key(data_dir: Path) -> str:
    """The key in ``<data_dir>/secret_key``, created once (mode 0600) when missing.

    Sessions must survive restarts and be shared by every worker process, so a
    per-process random key would not do. The file is written under a temporary
    name and hard-linked into place, so concurrent starters agree on one key and
    nobody ever reads a half-written file.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if not path.exists():
        tmp = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            # Another process may win the race; then its key is the one used.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable secret key; delete it to make a new one")
    return key
