"""Logging in and out of the dashboard (session cookie: HttpOnly, SameSite=Lax)."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash
from werkzeug.wrappers import Response

from web.db import request_session
from web.models import User

# Checked against when the username is unknown, so both paths cost one hash.
_DUMMY_HASH = "scrypt:32768:8:1$dummysaltdummysa$" + "0" * 128


MAX_NEXT_LENGTH = 2000


def _safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else the project list.

    An allow rule, not a deny list: browsers drop tabs and newlines from URLs,
    read a backslash as a slash and NFKC-fold look-alikes such as a fullwidth
    solidus, so ``/<TAB>/evil`` would become ``//evil``, another host. A
    newline would also break the ``Location`` header. Dot segments are refused
    too: ``/..//evil`` resolves to the path ``//evil``, one step from off-site.
    """
    if target and len(target) <= MAX_NEXT_LENGTH and _is_same_site_path(target):
        return target
    return url_for("dash.projects")


def _is_same_site_path(target: str) -> bool:
    decoded = unquote(target)
    for text in {target, decoded, unicodedata.normalize("NFKC", decoded)}:
        if not text.startswith("/") or text.startswith("//") or "\\" in text:
            return False
        if any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in text):
            return False
        parts = urlsplit(text)
        if parts.scheme or parts.netloc or {".", ".."} & set(parts.path.split("/")):
            return False
    return True


def login_form() -> str:
    return render_template("dash/login.html", next=_safe_next(request.args.get("next")))


def login() -> Response | tuple[str, int]:
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    user = request_session().scalar(select(User).where(User.username == username))
    stored = user.password_hash if user else _DUMMY_HASH
    try:
        valid = check_password_hash(stored, password)
    except ValueError:
        valid = False
    if user is None or not valid:
        flash("Unknown user or wrong password.", "error")
        page = render_template("dash/login.html", next=_safe_next(request.form.get("next")))
        return page, 401
    # A fresh session (and so a fresh CSRF token) on login defeats session fixation.
    session.clear()
    session["user_id"] = user.id
    return redirect(_safe_next(request.form.get("next")), code=303)


def logout() -> Response:
    session.clear()
    return redirect(url_for("dash.projects"), code=303)
