"""Serving the plotting library that ``scripts/install-assets`` put in place (offline, no CDN).

The bundle is Plotly's basic distribution (scatter traces only, ~1.2 MB
instead of the 4.8 MB full bundle: parsing the full one in a fresh browser
context was most of the trend page's 2.6 s). It comes from the npm registry
at install time into the git-ignored ``web/static/vendor/``; it is never
copied into this repository. The URL carries the pinned version, so the
browser may cache it for a year without ever revalidating.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, send_file
from werkzeug.wrappers import Response

PLOTLY_PACKAGE = "plotly.js-basic-dist-min"
PLOTLY_VERSION = "4.1.1"  # keep in step with scripts/install-assets
VENDOR_DIR = Path(__file__).resolve().parents[1] / "static" / "vendor"
YEAR = 365 * 24 * 3600

MISSING = (
    f"The plotting library is not installed: run `scripts/install-assets` in the "
    f"benchwarden checkout on the web server (it installs {PLOTLY_PACKAGE}@{PLOTLY_VERSION} "
    f"from npm into web/static/vendor/), then reload this page."
)


def plotly_path() -> Path | None:
    """The installed bundle when it is the pinned version, else None."""
    path = VENDOR_DIR / "plotly-basic.min.js"
    stamp = VENDOR_DIR / "plotly-basic.version"
    try:
        installed = stamp.read_text().strip()
    except OSError:
        return None
    if installed != f"{PLOTLY_PACKAGE}@{PLOTLY_VERSION}" or not path.is_file():
        return None
    return path


def plotly_js(version: str) -> Response:
    """The bundle at a versioned URL: immutable, so cached for a year."""
    if version != PLOTLY_VERSION:
        abort(404, description=f"This server serves {PLOTLY_PACKAGE} {PLOTLY_VERSION}.")
    path = plotly_path()
    if path is None:
        response = Response(MISSING, status=503, mimetype="text/plain")
        response.headers["Cache-Control"] = "no-store"
        return response
    response = send_file(path, mimetype="text/javascript", max_age=YEAR, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
