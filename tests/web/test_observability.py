"""/healthz, /readyz and /metrics, on both engines, over the test client and real HTTP."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from tests.conftest import LiveServer
from tests.factories import make_project, make_token, native_results, post_results, sha
from tests.support.servers import free_port
from web.config import Settings, SettingsError
from web.logging_setup import JsonFormatter, configure_logging, mask_secrets
from web.models.base import utcnow
from web.models.job import Job, RunnerHeartbeat


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


@pytest.fixture()
def broker_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test settings with the embedded broker in the test's own directory."""
    return replace(settings, broker_url=f"sqlalchemy+sqlite:///{tmp_path / 'broker.db'}")


def test_healthz_answers_ok(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ok_with_database_and_broker_up(broker_settings: Settings) -> None:
    with LiveServer(broker_settings) as server:
        response = requests.get(f"{server.url}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.parametrize(
    "database_url",
    [
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none",
        "sqlite:////nonexistent-benchwarden-dir/x/db.sqlite",
    ],
    ids=["postgresql-closed-port", "sqlite-missing-directory"],
)
def test_readyz_names_an_unreachable_database_with_503(
    broker_settings: Settings, database_url: str
) -> None:
    with LiveServer(replace(broker_settings, database_url=database_url)) as server:
        ready = requests.get(f"{server.url}/readyz", timeout=20)
        alive = requests.get(f"{server.url}/healthz", timeout=10)
    assert ready.status_code == 503, ready.text
    body = ready.json()
    assert body["down"] == ["database"]
    assert body["checks"]["broker"] == "ok"
    assert body["checks"]["database"].startswith("down")
    assert alive.status_code == 200


def test_readyz_names_an_unreachable_redis_broker(settings: Settings) -> None:
    down = replace(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    with LiveServer(down) as server:
        response = requests.get(f"{server.url}/readyz", timeout=20)
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]


def test_metrics_count_requests_by_url_rule(client) -> None:  # type: ignore[no-untyped-def]
    before = client.get("/metrics").get_data(as_text=True)
    for name in ("a", "b", "c"):
        assert client.get(f"/api/v1/projects/{name}").status_code == 404
    after = client.get("/metrics")
    assert after.status_code == 200
    assert after.content_type.startswith("text/plain")
    text = after.get_data(as_text=True)
    labels = {"route": "/api/v1/projects/<project>", "method": "GET", "status": "404"}
    name = "benchwarden_http_requests_total"
    assert value(text, name, **labels) - value(before, name, **labels) == 3
    # the raw paths never become label values
    assert "/api/v1/projects/a" not in text
    assert value(text, "benchwarden_http_request_duration_seconds_count", route="/healthz") >= 0


def test_metrics_count_ingested_results(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    token = make_token(db_session, make_project(db_session))
    before = client.get("/metrics").get_data(as_text=True)
    post_results(client, token, sha(1), native_results({"x": 1.0, "y": 2.0, "z": 3.0}))
    after = client.get("/metrics").get_data(as_text=True)
    ingested = "benchwarden_results_ingested_total"
    assert value(after, ingested) - value(before, ingested) == 3
    uploads = "benchwarden_ingest_duration_seconds_count"
    assert value(after, uploads) - value(before, uploads) == 1
    # eager tasks: detection ran in this process, after the upload committed
    detected = "benchwarden_detection_duration_seconds_count"
    assert value(after, detected) - value(before, detected) == 1


def test_metrics_show_jobs_queues_and_heartbeats(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session)
    states = ["queued", "queued", "running", "failed"]
    db_session.add_all(
        Job(project_id=project.id, commit_sha=sha(i), machine="box-1", state=state)
        for i, state in enumerate(states)
    )
    db_session.add(Job(project_id=project.id, commit_sha=sha(9), machine="box-2", state="done"))
    db_session.add(
        RunnerHeartbeat(machine="box-1", hostname="h", last_seen_at=utcnow() - timedelta(minutes=5))
    )
    db_session.commit()
    text = client.get("/metrics").get_data(as_text=True)
    assert value(text, "benchwarden_jobs", machine="box-1", state="queued") == 2
    assert value(text, "benchwarden_jobs", machine="box-1", state="running") == 1
    assert value(text, "benchwarden_jobs", machine="box-2", state="done") == 1
    assert value(text, "benchwarden_queue_length", machine="box-1") == 2
    assert ("benchwarden_queue_length", frozenset({("machine", "box-2")})) in samples(text)
    age = value(text, "benchwarden_runner_heartbeat_age_seconds", machine="box-1")
    assert 299 <= age < 400


def test_ops_endpoints_need_no_token_and_are_not_throttled(
    broker_settings: Settings,
) -> None:
    private = replace(broker_settings, public_read=False)
    with LiveServer(private) as server:
        home = requests.get(server.url, timeout=10, allow_redirects=False)
        assert home.status_code in (302, 401), "reads need a login here"
        bad = {"Authorization": "Bearer not-a-token"}
        # Far past the failed-authentication limit (20 a minute), with a bad token.
        codes = {
            requests.get(f"{server.url}/healthz", headers=bad, timeout=10).status_code
            for _ in range(30)
        }
        ready = requests.get(f"{server.url}/readyz", timeout=10)
        metrics = requests.get(f"{server.url}/metrics", timeout=10)
    assert codes == {200}
    assert ready.status_code == 200
    assert metrics.status_code == 200


def test_log_format_setting_is_validated() -> None:
    assert Settings.from_env({"BENCHWARDEN_LOG_FORMAT": "JSON"}).log_format == "json"
    assert Settings.from_env({}).log_format == "text"
    with pytest.raises(SettingsError, match="BENCHWARDEN_LOG_FORMAT"):
        Settings.from_env({"BENCHWARDEN_LOG_FORMAT": "xml"})


def test_json_log_lines_parse_and_mask_url_passwords(
    broker_settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    from web import create_app

    root = logging.getLogger()
    handlers = list(root.handlers)
    level = root.level
    try:
        down = replace(
            broker_settings,
            log_format="json",
            database_url=f"postgresql+psycopg://u:hunter2@127.0.0.1:{free_port()}/none",
        )
        app = create_app(down)
        assert app.test_client().get("/readyz").status_code == 503
        logging.getLogger("web.test").error("cannot reach postgresql://u:hunter2@db/x")
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]
    assert any(e["logger"] == "web.health" and e["level"] == "WARNING" for e in entries)
    assert any(e["message"] == "cannot reach postgresql://u:***@db/x" for e in entries)
    assert "hunter2" not in "\n".join(lines)


def test_json_formatter_keeps_the_exception_on_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("job",), None)
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed job"
    assert "ValueError: boom" in entry["exc_info"]
    assert mask_secrets("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"


def test_configure_logging_text_changes_nothing() -> None:
    handlers = list(logging.getLogger().handlers)
    configure_logging("text")
    assert logging.getLogger().handlers == handlers


def test_worker_logging_switches_celery_handlers_to_json() -> None:
    from celery.signals import after_setup_logger, after_setup_task_logger

    from web.logging_setup import configure_worker_logging

    assert configure_worker_logging("text") is None
    receiver = configure_worker_logging("json")
    assert receiver is not None
    logger = logging.getLogger("test.celery-like")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        after_setup_logger.send(sender=None, logger=logger, loglevel=logging.INFO)
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        logger.removeHandler(handler)
        after_setup_logger.disconnect(receiver)
        after_setup_task_logger.disconnect(receiver)


def test_dashboard_and_scrape_config_use_metrics_the_service_exposes(client) -> None:  # type: ignore[no-untyped-def]
    import re

    import yaml

    from tests.conftest import REPO

    scrape = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text())
    assert scrape["scrape_configs"][0]["metrics_path"] == "/metrics"
    dashboard = json.loads((REPO / "deploy" / "grafana-benchwarden.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"benchwarden_\w+", expr)}
    assert len(used) >= 8
    exposed = client.get("/metrics").get_data(as_text=True)
    for name in used:
        assert f"# TYPE {name.removesuffix('_bucket')} " in exposed, name
