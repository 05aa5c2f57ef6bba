"""Fixtures for the GitHub integration: the fake GitHub server and an App key pair."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.github.fake_github import FakeGitHub, FakeGitHubServer


@pytest.fixture(scope="session")
def app_keys() -> tuple[str, str]:
    """(private PEM, public PEM) of a throwaway RSA key for GitHub App auth."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture()
def github(app_keys: tuple[str, str]) -> Iterator[FakeGitHub]:
    with FakeGitHubServer(FakeGitHub(app_public_key=app_keys[1], app_id=99)) as fake:
        yield fake
