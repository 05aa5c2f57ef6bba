"""A seeded history with known true and false alerts, for the backtest's tests.

Six benchmarks over 30 commits, each stepping by its own size at commit 15;
posted through the ingest API, so the alerts are detection's own, then
triaged through the triage service as people would.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_project, make_token, native_results, post_results, sha
from web.config import Settings
from web.db import make_engine
from web.models import Alert, Benchmark, Series
from web.services.triage import triage_alert

# benchmark -> (relative step at commit 15, what people decided about its alert)
PLANTED = {
    "big": (0.20, "acknowledged"),
    "open": (0.08, "untriaged"),
    "mid": (0.06, "wontfix"),
    "small": (0.03, "invalid"),
    "tiny": (0.013, None),  # under the 2% floor: never an alert
    "flat": (0.0, None),
}


def post_planted(client, session: Session, token: str) -> None:  # type: ignore[no-untyped-def]
    """Post the history for project ``proj`` and triage its alerts; commits."""
    rng = np.random.default_rng(5)
    for i in range(30):
        values = {
            name: (1.0 + (step if i >= 15 else 0.0)) * (1 + 0.004 * rng.standard_normal())
            for name, (step, _) in PLANTED.items()
        }
        post_results(
            client, token, sha(i), native_results(values), parents=[sha(i - 1)] if i else []
        )
    for name, (_, state) in PLANTED.items():
        alert = alert_of(session, name)
        assert (alert is not None) == (state is not None), name
        if alert is not None and state != "untriaged":
            triage_alert(session, "ada", alert, str(state))
    session.commit()


def alert_of(session: Session, benchmark: str) -> Alert | None:
    """The active alert of the benchmark's series, if any."""
    return session.scalar(
        select(Alert)
        .join(Series, Series.id == Alert.series_id)
        .join(Benchmark, Benchmark.id == Series.benchmark_id)
        .where(Benchmark.name == benchmark, Alert.active)
    )


def seed_planted(url: str, data_dir: Path) -> None:
    """The history in the (migrated) database at ``url``, committed, for CLI and browser tests."""
    from web import create_app

    settings = replace(
        Settings.from_env({}),
        data_dir=data_dir,
        database_url=url,
        secret_key="seed",
        base_url="http://bw.test",
        eager_tasks=True,
    )
    app = create_app(settings)
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            token = make_token(session, make_project(session, "proj"))
            post_planted(app.test_client(), session, token)
    finally:
        engine.dispose()
        app.extensions["benchwarden.engine"].dispose()
