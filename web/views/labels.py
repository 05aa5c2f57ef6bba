"""Words for people: stored enum values and counts as the pages say them.

The database keeps stable codes (``untriaged``, ``not_reproduced``); a page
that prints them raw reads like a log. Every template goes through these.
"""

from __future__ import annotations

from datetime import datetime

TRIAGE_LABELS = {
    "untriaged": "Not triaged",
    "acknowledged": "Acknowledged",
    "investigating": "Investigating",
    "fixed": "Fixed",
    "invalid": "Invalid (false alarm)",
    "wontfix": "Won't fix",
}
CONFIRMATION_LABELS = {
    "candidate": "Awaiting confirmation",
    "confirmed": "Confirmed by re-runs",
    "not_reproduced": "Not reproduced",
}
VERDICT_LABELS = {
    "regression": "Regression",
    "improvement": "Improvement",
    "no_change": "No change",
    "inconclusive": "Inconclusive",
}
JOB_LABELS = {
    "queued": "queued",
    "running": "running",
    "done": "done",
    "failed": "failed",
    "cancelled": "cancelled",
}


def state_label(code: str | None) -> str:
    """A triage or confirmation state in words; unknown codes with underscores as spaces."""
    if not code:
        return "—"
    for labels in (TRIAGE_LABELS, CONFIRMATION_LABELS, VERDICT_LABELS, JOB_LABELS):
        if code in labels:
            return labels[code]
    return code.replace("_", " ")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 alert``, ``2 alerts``; ``plural_form`` for irregular words."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def first_line(text: str | None, limit: int = 100) -> str:
    """A commit message's subject, cut at ``limit`` characters."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def zoned_time(value: datetime | None) -> str:
    """UTC with its zone named, until the browser rewrites it in the viewer's zone."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def repo_link(url: str | None) -> tuple[str | None, str]:
    """(href, text) for a project's repository: a forge URL as a link, a local path by its name.

    A server-side path says nothing to a reader and tells strangers how the host
    is laid out, so only its last component is shown.
    """
    if not url:
        return None, "—"
    if url.startswith(("https://", "http://")):
        text = url.split("://", 1)[1].rstrip("/").removesuffix(".git")
        return url, text
    name = url.rstrip("/").removeprefix("file://").rsplit("/", 1)[-1].removesuffix(".git")
    return None, name or url


LABEL_FILTERS = {
    "state": state_label,
    "plural": plural,
    "subject": first_line,
    "zoned": zoned_time,
    "repo": repo_link,
}
