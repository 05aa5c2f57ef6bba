"""Security headers on every response (pages, API, errors, files), by Flask-Talisman.

The dashboard loads only its own files: no inline script, no inline style
attribute, uPlot served from ``web/static/vendor``. So the Content-Security-
Policy allows ``'self'`` and nothing else, and no page may be framed. TLS is
ended by the proxy in front of gunicorn, so nothing here redirects to https or
marks the session cookie Secure on its own (``SESSION_COOKIE_SECURE`` decides);
HSTS goes out only on requests that arrived over https.
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def init_security_headers(app: Flask) -> Talisman:
    """Add the headers to every response of ``app`` (call after the session cookie config)."""
    return Talisman(
        app,
        force_https=False,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="same-origin",
        session_cookie_secure=bool(app.config.get("SESSION_COOKIE_SECURE", False)),
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
    )
