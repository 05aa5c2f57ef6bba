"""Detection after ingest: re-detect the series a run touched, then notify on new alerts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from web.celery_app import Dispatcher
from web.metrics import DETECTION_SECONDS, count_raised_alerts
from web.services.detection import detect_for_run
from web.tasks.notify import notify_pr_of_run


def detect_run(session: Session, dispatcher: Dispatcher, run_id: int) -> list[int]:
    """Returns the ids of alert summaries that gained new alerts."""
    with DETECTION_SECONDS.time():
        outcome = detect_for_run(session, run_id)
    count_raised_alerts(session, outcome.new_alert_ids)
    for summary_id in outcome.new_summary_ids:
        dispatcher.after_commit(session, "benchwarden.notify_summary", summary_id)
    if outcome.new_alert_ids:
        # Candidate regressions are re-run before they are shown as confirmed.
        dispatcher.after_commit(session, "benchwarden.confirm_alerts", list(outcome.new_alert_ids))
    notify_pr_of_run(session, dispatcher, run_id)
    return list(outcome.new_summary_ids)
