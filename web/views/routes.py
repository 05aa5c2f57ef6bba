"""The dashboard's explicit route table and its blueprint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, request
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from web.api.errors import error_response
from web.views import (
    alert_detail,
    alerts,
    backtest,
    compare,
    identity,
    login,
    machines_page,
    overview,
    pages,
    point_table,
    run_page,
    series_json,
    suites,
    vendor,
)
from web.views.access import (
    LoginRequired,
    check_bearer,
    current_user,
    login_redirect,
    may_write,
)
from web.views.csrf import CSRF_FIELD, check_token_endpoints
from web.views.format import FILTERS
from web.views.labels import LABEL_FILTERS


@dataclass(frozen=True)
class Page:
    path: str
    endpoint: str
    handler: Callable[..., Any]
    methods: tuple[str, ...] = ("GET",)


P = "/p/<project>"
ROUTES: tuple[Page, ...] = (
    Page("/", "projects", pages.projects),
    Page("/login", "login", login.login_form),
    Page("/login", "login_post", login.login, ("POST",)),
    Page("/logout", "logout", login.logout, ("POST",)),
    Page("/runs/<int:run_id>", "run_redirect", pages.run_redirect),
    Page("/vendor/uplot/<version>/<name>", "plot_asset", vendor.plot_asset),
    Page(f"{P}/", "overview", overview.overview_page),
    Page(f"{P}/benchmarks", "benchmarks", pages.benchmarks),
    Page(f"{P}/benchmarks/<int:benchmark_id>", "trend", pages.trend),
    Page(f"{P}/benchmarks/<int:benchmark_id>/rename", "rename", identity.rename, ("POST",)),
    Page(f"{P}/benchmarks/<int:benchmark_id>/merge", "merge", identity.merge, ("POST",)),
    Page(f"{P}/series/<int:series_id>/points.json", "series_points", series_json.series_points),
    Page(f"{P}/series/<int:series_id>/points", "series_table", point_table.series_table),
    Page(
        f"{P}/series/<int:series_id>/annotations",
        "add_annotation",
        identity.add_annotation,
        ("POST",),
    ),
    Page(
        f"{P}/annotations/<int:annotation_id>/delete",
        "remove_annotation",
        identity.remove_annotation,
        ("POST",),
    ),
    Page(f"{P}/compare", "compare", compare.compare_page),
    Page(f"{P}/alerts", "alerts", alerts.alerts_page),
    Page(f"{P}/alerts/<int:summary_id>/triage", "triage", alerts.triage_form, ("POST",)),
    Page(f"{P}/alerts/<int:summary_id>/triage.json", "triage_json", alerts.triage_json, ("POST",)),
    Page(f"{P}/alert/<int:alert_id>", "alert_detail", alert_detail.alert_page),
    Page(f"{P}/alert/<int:alert_id>/status", "triage_alert", alerts.triage_alert_form, ("POST",)),
    Page(f"{P}/runs/<int:run_id>", "run_detail", run_page.run_detail),
    Page(f"{P}/machines", "machines", machines_page.machines),
    Page(f"{P}/suites", "suites", suites.suites_page),
    Page(f"{P}/backtest", "backtest", backtest.backtest_page),
    Page(f"{P}/backtest/apply", "backtest_apply", backtest.apply_setting, ("POST",)),
)


def _json_errors(exc: HTTPException) -> Response | HTTPException:
    """JSON endpoints answer errors in the API's envelope; pages keep Werkzeug's HTML."""
    if not request.path.endswith(".json"):
        return exc
    code = exc.name.lower().replace(" ", "_")
    return error_response(exc.code or 500, code, exc.description or exc.name)


def create_blueprint() -> Blueprint:
    blueprint = Blueprint("dash", __name__)
    for page in ROUTES:
        blueprint.add_url_rule(page.path, page.endpoint, page.handler, methods=list(page.methods))
    blueprint.before_request(check_token_endpoints)
    blueprint.before_request(check_bearer)
    blueprint.register_error_handler(LoginRequired, login_redirect)
    blueprint.register_error_handler(HTTPException, _json_errors)
    blueprint.app_context_processor(
        lambda: {
            "csrf_token": generate_csrf,
            "csrf_field": CSRF_FIELD,
            "current_user": current_user,
        }
    )
    blueprint.app_context_processor(lambda: {"may_write": may_write})
    for name, function in {**FILTERS, **LABEL_FILTERS}.items():
        blueprint.add_app_template_filter(function, name)  # type: ignore[arg-type]
    return blueprint


def register_views(app: Flask) -> None:
    """Mount the dashboard on ``app`` with hardened session cookies."""
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(create_blueprint())
