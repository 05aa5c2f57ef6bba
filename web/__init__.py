"""The benchwarden service. ``create_app`` is the only way to get an app; importing does nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from web.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app for ``settings`` (default: read from the environment)."""
    from flask import Flask

    from web.api.errors import register_error_handlers
    from web.api.routes import create_blueprint
    from web.celery_app import make_celery
    from web.config import Settings
    from web.db import close_request_session, make_engine, make_sessionmaker

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.config["SECRET_KEY"] = settings.secret_key or None
    app.config["JSON_SORT_KEYS"] = False
    if settings.database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    app.extensions["benchwarden.settings"] = settings
    app.extensions["benchwarden.engine"] = engine
    factory = make_sessionmaker(engine)
    app.extensions["benchwarden.sessionmaker"] = factory
    app.extensions["benchwarden.celery"] = make_celery(settings, factory)
    app.teardown_appcontext(close_request_session)
    register_error_handlers(app)
    app.register_blueprint(create_blueprint())
    return app
