"""Serving the plotting library from where pip installed it (no CDN, works offline).

The bundle ships inside the ``plotly`` Python package; it is not copied into
this repository. Install with ``pip install plotly`` (see the report / README).
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, send_file
from werkzeug.wrappers import Response

MISSING = (
    "The plotting library is not installed: run `pip install plotly` on the web server "
    "(the dashboard serves plotly/package_data/plotly.min.js from that package)."
)


def plotly_path() -> Path | None:
    try:
        import plotly
    except ImportError:
        return None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


def plotly_js() -> Response:
    path = plotly_path()
    if path is None:
        abort(503, description=MISSING)
    response = send_file(path, mimetype="text/javascript", max_age=86400, conditional=True)
    return response
