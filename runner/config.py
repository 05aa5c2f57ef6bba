"""Runner-side settings, read from the environment once.

A runner needs only the service URL, a write token and its machine name; it
never sees a database.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

Number = TypeVar("Number", int, float)


class RunnerSettingsError(ValueError):
    """A ``BENCHWARDEN_*`` variable holds a value the runner cannot use."""


@dataclass(frozen=True)
class RunnerSettings:
    url: str = "http://127.0.0.1:8080"
    token: str = field(default="", repr=False)
    machine: str = field(default_factory=socket.gethostname)
    broker_url: str = field(default="", repr=False)
    work_dir: Path = Path(".benchwarden/runner")
    upload_retries: int = 5
    upload_timeout: float = 60.0

    def __repr__(self) -> str:
        return (
            f"RunnerSettings(url={self.url!r}, token={'***' if self.token else ''!r}, "
            f"machine={self.machine!r}, work_dir={str(self.work_dir)!r}, "
            f"upload_retries={self.upload_retries}, upload_timeout={self.upload_timeout})"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RunnerSettings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("BENCHWARDEN_DATA_DIR", ".benchwarden")).expanduser()
        url = env.get("BENCHWARDEN_URL", "http://127.0.0.1:8080").rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise RunnerSettingsError(
                f"BENCHWARDEN_URL must start with http:// or https://, got {url!r}"
            )
        return cls(
            url=url,
            token=env.get("BENCHWARDEN_TOKEN", ""),
            machine=env.get("BENCHWARDEN_MACHINE") or socket.gethostname(),
            broker_url=env.get("BENCHWARDEN_BROKER_URL")
            or f"sqlalchemy+sqlite:///{(data_dir / 'broker.db').resolve()}",
            work_dir=Path(env.get("BENCHWARDEN_WORK_DIR") or data_dir / "runner"),
            upload_retries=_number(env, "BENCHWARDEN_UPLOAD_RETRIES", 5, int),
            upload_timeout=_number(env, "BENCHWARDEN_UPLOAD_TIMEOUT", 60.0, float),
        )


def _number(env: Mapping[str, str], name: str, default: Number, kind: type[Number]) -> Number:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise RunnerSettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise RunnerSettingsError(f"{name} must not be negative, got {raw!r}")
    return value
