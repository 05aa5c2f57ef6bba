"""Prometheus metrics of the service, by prometheus-client; no Flask here.

Two kinds:

- **Process metrics** (counters and histograms below): observed where things
  happen, in the web process (requests, ingest) and in service workers
  (detection latency, alerts raised). When ``PROMETHEUS_MULTIPROC_DIR`` is set
  in the environment before the process starts, prometheus-client writes them
  to files in that directory, and a scrape sums every process that wrote there
  (gunicorn workers, and Celery service workers on the same host).
- **Database gauges** (:class:`DatabaseCollector`): job states and queue length
  per machine, alerts by kind and status, seconds since each runner's last
  heartbeat, computed from the database at scrape time, so every web worker
  answers the same and nothing drifts when a process dies.

Label values are bounded: a route is its URL rule (``/api/v1/projects/<project>``),
never the raw path; machines and states come from the database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from web.models.alert import Alert
from web.models.job import JOB_STATES, Job, RunnerHeartbeat

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# This process's own metrics; never the library's global registry, so importing
# this module registers nothing anywhere else.
PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "benchwarden_http_requests_total",
    "HTTP requests answered, by route (URL rule), method and status code",
    ["route", "method", "status"],
    registry=PROCESS_REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "benchwarden_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (URL rule)",
    ["route"],
    registry=PROCESS_REGISTRY,
)
INGEST_SECONDS = Histogram(
    "benchwarden_ingest_duration_seconds",
    "Time to answer a result upload (POST /api/v1/runs), parse and store included",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=PROCESS_REGISTRY,
)
RESULTS_INGESTED = Counter(
    "benchwarden_results_ingested_total",
    "Results stored by uploads that created a run",
    registry=PROCESS_REGISTRY,
)
DETECTION_SECONDS = Histogram(
    "benchwarden_detection_duration_seconds",
    "Time to re-detect the series one run touched (service worker)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=PROCESS_REGISTRY,
)
ALERTS_RAISED = Counter(
    "benchwarden_alerts_raised_total",
    "Alerts raised by detection, by kind (regression or improvement)",
    ["kind"],
    registry=PROCESS_REGISTRY,
)

UNMATCHED_ROUTE = "<unmatched>"


def multiprocess_dir() -> str | None:
    """The directory prometheus-client writes to in multiprocess mode, or None."""
    return os.environ.get(MULTIPROC_ENV) or None


def alert_kind(is_regression: bool) -> str:
    return "regression" if is_regression else "improvement"


def count_raised_alerts(session: Session, alert_ids: Iterable[int]) -> None:
    """Add the alerts ``alert_ids`` to :data:`ALERTS_RAISED` by kind (one small query)."""
    ids = list(alert_ids)
    if not ids:
        return
    rows = session.execute(
        select(Alert.is_regression, func.count())
        .where(Alert.id.in_(ids))
        .group_by(Alert.is_regression)
    )
    for is_regression, count in rows:
        ALERTS_RAISED.labels(kind=alert_kind(bool(is_regression))).inc(count)


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time, in one short session."""

    def __init__(self, open_session: Callable[[], AbstractContextManager[Session]]) -> None:
        self.open_session = open_session

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "benchwarden_jobs", "Jobs by machine and state", labels=["machine", "state"]
        )
        queue = GaugeMetricFamily(
            "benchwarden_queue_length", "Queued jobs per machine", labels=["machine"]
        )
        alerts = GaugeMetricFamily(
            "benchwarden_alerts", "Stored alerts by kind and status", labels=["kind", "status"]
        )
        heartbeat = GaugeMetricFamily(
            "benchwarden_runner_heartbeat_age_seconds",
            "Seconds since each runner machine's last heartbeat",
            labels=["machine"],
        )
        with self.open_session() as session:
            counts = _job_counts(session)
            alert_rows = session.execute(
                select(Alert.is_regression, Alert.status, func.count()).group_by(
                    Alert.is_regression, Alert.status
                )
            ).all()
            beats = session.execute(
                select(RunnerHeartbeat.machine, RunnerHeartbeat.last_seen_at)
            ).all()
        for machine, by_state in sorted(counts.items()):
            for state in JOB_STATES:
                jobs.add_metric([machine, state], by_state.get(state, 0))
            queue.add_metric([machine], by_state.get("queued", 0))
        for is_regression, status, count in alert_rows:
            alerts.add_metric([alert_kind(bool(is_regression)), status], count)
        now = datetime.now(UTC)
        for machine, last_seen in beats:
            heartbeat.add_metric([machine], max(0.0, (now - last_seen).total_seconds()))
        yield from (jobs, queue, alerts, heartbeat)


def _job_counts(session: Session) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(Job.machine, Job.state, func.count()).group_by(Job.machine, Job.state)
    )
    counts: dict[str, dict[str, int]] = {}
    for machine, state, count in rows:
        counts.setdefault(machine, {})[state] = int(count)
    return counts


class _ProcessCollector(Collector):
    """This process's metrics (single-process mode)."""

    def collect(self) -> Iterator[Metric]:
        yield from PROCESS_REGISTRY.collect()


def render(database: Collector) -> bytes:
    """The Prometheus text exposition: process metrics (of every process writing to
    the multiprocess directory when one is set) plus ``database``'s gauges."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory is not None:
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessCollector())
    registry.register(database)
    return generate_latest(registry)
