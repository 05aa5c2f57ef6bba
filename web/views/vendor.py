"""Serving the plotting library that ``scripts/install-assets`` put in place (offline, no CDN).

The library is uPlot (~50 KB of JavaScript, canvas drawing). It replaced
Plotly, whose 4.8 MB bundle took most of the trend page's 2.6 s to parse in a
fresh browser context (the 1.2 MB basic bundle still left the page at ~1.5 s
on the shared 2-core machine). It comes from the npm registry at install time
into the git-ignored ``web/static/vendor/``, never into this repository. URLs
carry the pinned version, so browsers cache the files for a year without
revalidating.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, send_file
from werkzeug.wrappers import Response

PLOT_PACKAGE = "uplot"
PLOT_VERSION = "1.6.32"  # keep in step with scripts/install-assets
PLOT_FILES = {"uPlot.iife.min.js": "text/javascript", "uPlot.min.css": "text/css"}
VENDOR_DIR = Path(__file__).resolve().parents[1] / "static" / "vendor" / PLOT_PACKAGE
YEAR = 365 * 24 * 3600

MISSING = (
    f"The plotting library is not installed: run `scripts/install-assets` in the "
    f"benchwarden checkout on the web server (it installs {PLOT_PACKAGE}@{PLOT_VERSION} "
    f"from npm into web/static/vendor/), then reload the page."
)


def plot_library_installed() -> bool:
    """True when the pinned version is in place (the install script writes VERSION last)."""
    try:
        installed = (VENDOR_DIR / "VERSION").read_text().strip()
    except OSError:
        return False
    return installed == f"{PLOT_PACKAGE}@{PLOT_VERSION}" and all(
        (VENDOR_DIR / name).is_file() for name in PLOT_FILES
    )


def plot_asset(version: str, name: str) -> Response:
    """One file of the library at a versioned URL: immutable, so cached for a year."""
    if version != PLOT_VERSION or name not in PLOT_FILES:
        abort(404, description=f"This server serves {PLOT_PACKAGE} {PLOT_VERSION}.")
    if not plot_library_installed():
        response = Response(MISSING, status=503, mimetype="text/plain")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Retry-After"] = "3600"
        return response
    response = send_file(
        VENDOR_DIR / name, mimetype=PLOT_FILES[name], max_age=YEAR, conditional=True
    )
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
