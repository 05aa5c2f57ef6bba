"""Fixtures for the benchmark suites: a real PostgreSQL server and the app over loopback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.servers import PostgresServer  # noqa: E402

# Workers the suites start record a busy machine and run (the worker's default
# is to wait for a quiet one, which a benchmark of a loaded machine never gets).
os.environ.setdefault("BENCHWARDEN_PREFLIGHT", "warn")


@pytest.fixture(scope="session")
def bench_pg() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()
