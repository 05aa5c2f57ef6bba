from __future__ import annotations

from pathlib import Path

import pytest

from web.config import Settings, SettingsError


def test_defaults_use_sqlite_in_the_data_dir() -> None:
    settings = Settings.from_env({})
    assert settings.data_dir == Path(".benchwarden")
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith(".benchwarden/benchwarden.db")
    assert settings.broker_url.startswith("sqlalchemy+sqlite:///")
    assert settings.max_upload_bytes == 50 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BENCHWARDEN_MAX_UPLOAD_BYTES", "lots"),
        ("BENCHWARDEN_MAX_UPLOAD_BYTES", "-5"),
        ("BENCHWARDEN_PUBLIC_READ", "maybe"),
        ("BENCHWARDEN_DATABASE_URL", "not a url"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_secrets_are_masked_in_repr() -> None:
    settings = Settings.from_env(
        {
            "BENCHWARDEN_DATABASE_URL": "postgresql://bw:hunter2@db/bw",
            "BENCHWARDEN_SECRET_KEY": "s3cret-key",
            "BENCHWARDEN_GITHUB_WEBHOOK_SECRET": "whsec",
        }
    )
    shown = repr(settings)
    assert "hunter2" not in shown and "s3cret-key" not in shown and "whsec" not in shown
    assert "postgresql://bw:***@db/bw" in shown
