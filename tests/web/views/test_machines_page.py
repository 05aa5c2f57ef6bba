"""The machines page: noise over time, run history and fingerprint changes (issue 16, item 6).

The review found no run history or noise per machine. Here a machine runs
quietly for two weeks (1 % CV) and noisily in the third (10 % CV, failed
pre-flight), then its kernel changes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_history, make_project
from tests.web.views.test_trend_page import NOISY
from web.models import Result, Run
from web.queries.machine_noise import RunNoise, recent_runs, weekly_noise

MONDAY = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday


@pytest.fixture()
def machine_history(db_session: Session) -> int:
    """21 runs, one a day from MONDAY; days 14-20 noisy (CV 10 %), day 18 on a new kernel."""
    project = make_project(db_session, "proj")
    make_history(db_session, project, {"a": [1.0] * 21, "b": [2.0] * 21})
    runs = list(db_session.scalars(select(Run).order_by(Run.id)))
    for day, run in enumerate(runs):
        run.created_at = MONDAY + timedelta(days=day)
        cv = 0.10 if day >= 14 else 0.01
        for result in db_session.scalars(select(Result).where(Result.run_id == run.id)):
            result.stddev = cv * (result.value or 0)
        kernel = "6.1" if day < 18 else "6.8"
        run.machine_snapshot = {"cpu_model": "TestCPU", "memory_bytes": 2**34, "kernel": kernel}
        if day >= 14:
            run.machine_snapshot = {**run.machine_snapshot, **NOISY}
    db_session.commit()
    return runs[0].machine_id


def test_weekly_noise_is_the_median_of_run_noise(machine_history: int, db_session: Session) -> None:
    runs = recent_runs(db_session, machine_history)
    assert len(runs) == 21 and runs[0].created_at > runs[-1].created_at  # newest first
    assert runs[0].cv == pytest.approx(0.10) and runs[-1].cv == pytest.approx(0.01)
    assert [r.noisy for r in runs[:7]] == [True] * 7 and not any(r.noisy for r in runs[7:])
    weeks = weekly_noise(runs)
    assert [w.start for w in weeks] == [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)]
    assert [w.runs for w in weeks] == [7, 7, 7]
    assert [w.noisy_runs for w in weeks] == [0, 0, 7]
    assert [w.cv for w in weeks] == pytest.approx([0.01, 0.01, 0.10])


def test_weekly_noise_without_spread() -> None:
    at = datetime(2026, 1, 7, tzinfo=UTC)
    runs = [RunNoise(1, at, "a" * 40, "main", "ok", 3, None, False)]
    (week,) = weekly_noise(runs)
    assert week.start == date(2026, 1, 5) and week.cv is None


def test_page_shows_noise_runs_and_fingerprint_changes(client, machine_history: int) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/p/proj/machines").get_data(as_text=True)
    card = page[page.index(f'id="machine-{machine_history}"') :]
    assert re.search(r'data-noise="0\.1\d*"', card)  # the latest week: 10 %
    assert "10.0%" in card and "7 noisy" in card
    assert '<svg class="spark"' in card
    runs = card[card.index('<table class="runs">') :]
    runs = runs[: runs.index("</table>")]
    assert runs.count("<tr") == 1 + 21  # header and every run (fewer than 30)
    assert runs.count('class="noisy"') == 7
    changes = card[card.index('<table class="changes">') :]
    assert "kernel: 6.1 → 6.8" in changes
    assert "16.0 GiB" not in changes  # only what changed is listed


def test_page_without_machines_and_unknown_project(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    make_project(db_session, "empty")
    page = client.get("/p/empty/machines").get_data(as_text=True)
    assert "No machines have reported yet." in page
    assert client.get("/p/nope/machines").status_code == 404


def test_fingerprint_change_lists_removed_and_added_facts() -> None:
    from web.queries.alerts import FingerprintChange
    from web.views.machines_page import MachineCard

    at = datetime(2026, 1, 7, tzinfo=UTC)
    change = FingerprintChange(
        at, 7, {"memory_bytes": 2**34, "os": "Linux"}, {"os": "Linux", "cores": 8}
    )
    card = MachineCard(None, [], 0, [], [change])  # type: ignore[arg-type]
    assert card.changed(change) == [("memory bytes", "16.0 GiB", "—"), ("cores", "—", "8")]
