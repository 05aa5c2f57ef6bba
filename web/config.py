"""Service settings, read from the environment once per process.

Every variable is named ``BENCHWARDEN_*``; a bad value fails at start with the
variable's name so a misconfigured deployment never half-starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULT_DATA_DIR = ".benchwarden"
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class SettingsError(ValueError):
    """A ``BENCHWARDEN_*`` variable holds a value the service cannot use."""


def _mask(url: str) -> str:
    """Hide the password part of a URL such as ``postgresql://u:secret@host/db``."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


@dataclass(frozen=True)
class Settings:
    """Frozen service configuration; secrets never appear in ``repr``."""

    data_dir: Path
    database_url: str = field(repr=False)
    broker_url: str = field(repr=False)
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    public_read: bool = True
    secret_key: str = field(default="", repr=False)
    base_url: str = "http://127.0.0.1:8080"
    github_webhook_secret: str = field(default="", repr=False)
    eager_tasks: bool = False
    log_format: str = "text"

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        return (
            f"Settings({shown}, database_url={_mask(self.database_url)!r}, "
            f"broker_url={_mask(self.broker_url)!r}, secret_key='***')"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: ``os.environ``).

        Raises SettingsError naming the variable when a value is malformed.
        """
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("BENCHWARDEN_DATA_DIR", DEFAULT_DATA_DIR)).expanduser()
        database_url = env.get("BENCHWARDEN_DATABASE_URL") or (
            f"sqlite:///{(data_dir / 'benchwarden.db').resolve()}"
        )
        if "://" not in database_url:
            raise SettingsError(
                f"BENCHWARDEN_DATABASE_URL must be a URL like postgresql://... or sqlite:///...,"
                f" got {_mask(database_url)!r}"
            )
        broker_url = env.get("BENCHWARDEN_BROKER_URL") or (
            f"sqlalchemy+sqlite:///{(data_dir / 'broker.db').resolve()}"
        )
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            broker_url=broker_url,
            max_upload_bytes=_positive_int(
                env, "BENCHWARDEN_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES
            ),
            public_read=_boolean(env, "BENCHWARDEN_PUBLIC_READ", True),
            secret_key=env.get("BENCHWARDEN_SECRET_KEY", ""),
            base_url=env.get("BENCHWARDEN_BASE_URL", "http://127.0.0.1:8080").rstrip("/"),
            github_webhook_secret=env.get("BENCHWARDEN_GITHUB_WEBHOOK_SECRET", ""),
            eager_tasks=_boolean(env, "BENCHWARDEN_EAGER_TASKS", False),
            log_format=_choice(env, "BENCHWARDEN_LOG_FORMAT", ("text", "json"), "text"),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return value
