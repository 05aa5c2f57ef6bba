"""Log format of the service's processes: text (default) or JSON lines.

``BENCHWARDEN_LOG_FORMAT=json`` makes every record one JSON object per line
(``time``, ``level``, ``logger``, ``message``, ``exc_info`` when there is one),
for log shippers. The standard library's ``json`` does it in a few lines, so no
extra dependency. Passwords in URLs (``scheme://user:secret@host``) are masked
in every message, whatever logged them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

LOG_FORMATS = ("text", "json")
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@")
_HANDLER_NAME = "benchwarden-json"


def mask_secrets(text: str) -> str:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db``."""
    return _URL_PASSWORD.sub(r"\1***@", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
            "process": record.process,
        }
        if record.exc_info:
            entry["exc_info"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(log_format: str) -> None:
    """Apply ``log_format`` to the root logger (idempotent; ``text`` leaves it alone).

    With ``json``, one stderr handler with :class:`JsonFormatter` is installed
    once, and every other root handler is switched to it too (so Celery's or
    gunicorn's own root handlers, when present, also write JSON).
    """
    if log_format != "json":
        return
    root = logging.getLogger()
    formatter = JsonFormatter()
    if not any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        stream = logging.StreamHandler(sys.stderr)
        stream.set_name(_HANDLER_NAME)
        root.addHandler(stream)
        if root.level == logging.WARNING or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
    for handler in root.handlers:
        handler.setFormatter(formatter)


def configure_worker_logging(log_format: str) -> Callable[..., None] | None:
    """For Celery worker commands: Celery sets up its own root handlers when the
    worker starts, so ``log_format`` is applied again once it has.

    Returns the receiver connected to Celery's logging signals (None for ``text``).
    """
    if log_format != "json":
        return None
    # Celery is heavy and only worker processes ask for JSON task logs.
    from celery.signals import after_setup_logger, after_setup_task_logger

    def _apply(logger: logging.Logger | None = None, **_: object) -> None:
        formatter = JsonFormatter()
        for handler in (logger or logging.getLogger()).handlers:
            handler.setFormatter(formatter)

    after_setup_logger.connect(_apply, weak=False)
    after_setup_task_logger.connect(_apply, weak=False)
    return _apply
