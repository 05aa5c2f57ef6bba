"""Fuzzing a real server process: gunicorn over PostgreSQL, over HTTP.

The in-process schemathesis run (test_api_fuzz.py) only sends what the schema
allows, through the test client. This module sends what a hostile or broken
client sends, to the production web server: schemathesis in positive and
negative mode on every documented operation, and our own strategies for what
schemathesis does not generate — integers at and past every column's range,
Unicode digits, timestamps that leave the calendar in UTC, text one past a
column's length, NaN and deep nesting in JSON, chunked uploads, the login form
and signed GitHub webhooks. Every answer must be below 500.

Cost: about ``EXAMPLES`` cases per operation and mode, and as many per
strategy below; the module prints its case and 5xx counts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from werkzeug.security import generate_password_hash

from tests.conftest import _pg_url
from tests.factories import native_results
from tests.support.servers import GunicornServer, PostgresServer
from web.db import make_engine, make_sessionmaker, session_scope
from web.migrations import upgrade
from web.models import Job, User
from web.services.projects import create_project
from web.services.tokens import create_token

EXAMPLES = 40
WEBHOOK_SECRET = "fuzz-webhook-secret"
SHA = "a" * 40
CASES: Counter[str] = Counter()
SERVER_ERRORS: list[str] = []
FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    phases=[Phase.explicit, Phase.generate],  # every 5xx is counted; shrinking only costs time
)


class Live:
    def __init__(self, url: str, token: str, job_id: int) -> None:
        self.url = url
        self.token = token
        self.job_id = job_id
        self.http = requests.Session()

    def send(self, label: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request, counted under ``label``; a 5xx is remembered for the summary."""
        headers = {"Authorization": f"Bearer {self.token}"} | kwargs.pop("headers", {})
        response = self.http.request(
            method, self.url + path, headers=headers, timeout=120, allow_redirects=False, **kwargs
        )
        CASES[label] += 1
        if response.status_code >= 500:
            SERVER_ERRORS.append(f"{label}: {method} {path[:120]} -> {response.status_code}")
        return response


def _seed(url: str) -> tuple[str, int]:
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        project = create_project(session, "proj")
        create_project(session, "secret", public=False)
        token = create_token(session, project, "write").secret
        session.add(User(username="alice", password_hash=generate_password_hash("pw")))
        job = Job(project_id=project.id, commit_sha=SHA, machine="m")
        session.add(job)
        session.flush()
        job_id = job.id
    engine.dispose()
    return token, job_id


@pytest.fixture(scope="module")
def live(
    pg_server: PostgresServer | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    url = _pg_url(pg_server, "bw_live_fuzz")
    upgrade(url)
    token, job_id = _seed(url)
    data_dir: Path = tmp_path_factory.mktemp("live-fuzz")
    env = {
        "BENCHWARDEN_DATABASE_URL": url,
        "BENCHWARDEN_DATA_DIR": str(data_dir),
        "BENCHWARDEN_SECRET_KEY": "fuzz",
        "BENCHWARDEN_EAGER_TASKS": "true",
        "BENCHWARDEN_GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    web = GunicornServer(env, workers=1, threads=4)
    web.env["BENCHWARDEN_BASE_URL"] = web.url
    web.start()
    server = Live(web.url, token, job_id)
    seeded = server.send("seed", "POST", f"/api/v1/runs?project=proj&commit={SHA}", data=FILE)
    assert seeded.status_code == 201, seeded.text
    try:
        yield server
    finally:
        server.http.close()
        web.stop()


FILE = native_results({"a": 1.0, "b": 2.0})

# --- schemathesis, positive and negative, against the real server ----------------


@pytest.fixture(scope="module")
def live_schema(live: Live) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{live.url}/api/v1/openapi.json")
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
    )
    return schema


schema = schemathesis.pytest.from_fixture("live_schema")


@schema.parametrize()
@FAST
def test_schemathesis_positive_and_negative_never_5xx(case, live) -> None:  # type: ignore[no-untyped-def]
    response = case.call(headers={"Authorization": f"Bearer {live.token}"}, timeout=120)
    CASES[f"schemathesis {case.operation.label}"] += 1
    if response.status_code >= 500:
        SERVER_ERRORS.append(f"schemathesis {case.operation.label} -> {response.status_code}")


# --- our own strategies: what schemathesis does not generate -----------------------

BOUNDS = [0, -1, 1, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63) - 1]
INTEGERS = st.one_of(st.sampled_from(BOUNDS), st.integers())
UNICODE_DIGITS = st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=4)
NUMBER_TEXT = st.one_of(
    INTEGERS.map(str),
    UNICODE_DIGITS,
    st.sampled_from(["²", "١٢", "１", " 1", "1 ", "+1", "1e3", "0x10", "", "-0", "9" * 400]),
)
OFFSETS = st.integers(-1439, 1439).map(lambda m: timezone(timedelta(minutes=m)))
EDGE_TIMES = ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "0001-01-01T00:00:00"]
TIMES = st.one_of(
    st.sampled_from([*EDGE_TIMES, "2024-02-30T00:00:00Z", "yesterday", "", 2**64, -1e20]),
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS
    ).map(lambda d: d.isoformat()),
    st.sampled_from([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59)]).flatmap(
        lambda d: OFFSETS.map(lambda tz: d.replace(tzinfo=tz).isoformat())
    ),
)
LIMIT_LENGTHS = [49, 50, 51, 199, 200, 201, 255, 256, 499, 500, 501, 1000, 1001, 2000, 2001]
LONG_TEXT = st.one_of(st.sampled_from(LIMIT_LENGTHS).map(lambda n: "é" * n), st.text(max_size=30))
FLOATS = st.one_of(st.floats(), st.sampled_from([-1.0, -0.0, 0.0, 1e308, -1e-300]))
JSON_LEAVES = st.one_of(st.none(), st.booleans(), FLOATS, INTEGERS, st.text(max_size=10))
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
DEPTHS = st.sampled_from([15, 16, 17, 63, 64, 65, 900, 10_000, 50_000])


def deep(depth: int, shape: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if shape == "[" else {"k": value}
    return value


def deep_text(depth: int, shape: str) -> str:
    return ("[" * depth + "]" * depth) if shape == "[" else ('{"k":' * depth + "1" + "}" * depth)


MACHINES = st.fixed_dictionaries(
    {"name": st.one_of(st.just("m"), LONG_TEXT)},
    optional={
        "cores": INTEGERS,
        "memory_bytes": INTEGERS,
        "cpu_model": LONG_TEXT,
        "os": LONG_TEXT,
        "python": LONG_TEXT,
        "extra": st.one_of(
            st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=3),
            st.tuples(st.integers(1, 120), st.sampled_from("[{")).map(lambda a: {"d": deep(*a)}),
        ),
    },
)
METADATA = st.fixed_dictionaries(
    {"project": st.just("proj"), "commit": st.sampled_from([SHA, "b" * 40])},
    optional={
        "pr_number": INTEGERS,
        "job_id": INTEGERS,
        "machine": MACHINES,
        "commit_time": TIMES,
        "started_at": TIMES,
        "finished_at": TIMES,
        "environment": LONG_TEXT,
        "branch": LONG_TEXT,
        "ci_url": LONG_TEXT,
        "idempotency_key": st.sampled_from(["k1", "k2"]) | LONG_TEXT,
        "format": st.sampled_from(["benchwarden", "pytest-benchmark"]) | LONG_TEXT,
        "source_name": LONG_TEXT,
    },
)
RECORDS = st.fixed_dictionaries(
    {
        "name": st.one_of(st.just("bench"), LONG_TEXT),
        "measure": st.just("time"),
        "unit": st.sampled_from(["s", "B", "points"]),
    },
    optional={
        "suite": LONG_TEXT,
        "params": st.dictionaries(LONG_TEXT, LONG_TEXT, max_size=2),
        "value": FLOATS,
        "samples": st.lists(FLOATS, max_size=4),
        "stats": st.fixed_dictionaries({}, optional={"rounds": INTEGERS, "mean": FLOATS}),
    },
)
FILES = st.fixed_dictionaries(
    {"format": st.one_of(st.just("custom"), LONG_TEXT), "runs": st.lists(
        st.fixed_dictionaries(
            {"results": st.lists(RECORDS, min_size=1, max_size=3)},
            optional={"machine": MACHINES, "environment": LONG_TEXT, "started_at": TIMES},
        ),
        min_size=1, max_size=1,
    )},
)  # fmt: skip


@FAST
@given(metadata=METADATA, document=FILES, duplicate=st.booleans())
def test_hostile_submissions_never_5xx(live: Live, metadata, document, duplicate) -> None:  # type: ignore[no-untyped-def]
    text = json.dumps(metadata)
    if duplicate:  # a key given twice, the second silently winning before
        text = text[:-1] + ', "commit": "' + "c" * 40 + '"}'
    body = json.dumps(document).encode()
    live.send("submission (multipart)", "POST", "/api/v1/runs",
              files={"file": ("r.json", body)}, data={"metadata": text})  # fmt: skip


@FAST
@given(document=FILES, pr=NUMBER_TEXT)
def test_hostile_chunked_uploads_never_5xx(live: Live, document, pr) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(document).encode()
    chunks = iter([body[: len(body) // 2], body[len(body) // 2 :]])  # no length: chunked
    live.send("submission (chunked)", "POST", "/api/v1/runs",
              params={"project": "proj", "commit": SHA, "pr_number": pr}, data=chunks)  # fmt: skip


QUERY_TARGETS = [
    ("/api/v1/projects/proj/jobs", "limit"),
    ("/api/v1/projects/proj/series", "benchmark_id"),
    ("/api/v1/projects/proj/alerts", "before_id"),
    ("/api/v1/projects/proj/alerts", "limit"),
    ("/p/proj/benchmarks", "page"),
    ("/p/proj/compare?kind=runs&candidate=1", "baseline"),
    ("/p/proj/series/1/points.json", "max"),
    ("/api/v1/projects/proj/runs/1", "x"),
]


@FAST
@given(target=st.sampled_from(QUERY_TARGETS), value=NUMBER_TEXT)
def test_hostile_query_numbers_never_5xx(live: Live, target, value) -> None:  # type: ignore[no-untyped-def]
    path, name = target
    live.send("query numbers", "GET", path, params={name: value})


@FAST
@given(run_ids=st.dictionaries(LONG_TEXT, INTEGERS, max_size=3), machine=LONG_TEXT,
       state=st.sampled_from(["running", "done", "failed", "x"]), log=LONG_TEXT)  # fmt: skip
def test_hostile_job_reports_never_5xx(live: Live, run_ids, machine, state, log) -> None:  # type: ignore[no-untyped-def]
    body = {"state": state, "run_ids": run_ids, "machine": machine, "log_tail": log}
    live.send("job state", "POST", f"/api/v1/jobs/{live.job_id}/state", json=body)


JSON_ENDPOINTS = [
    "/api/v1/jobs/1/state",
    "/api/v1/projects",
    "/webhooks/github",
    "/login",
    "/p/proj/alerts/1/triage.json",
    "/api/v1/runs?project=proj&commit=" + SHA,
]


@FAST
@given(path=st.sampled_from(JSON_ENDPOINTS), depth=DEPTHS, shape=st.sampled_from("[{"))
def test_deep_json_on_every_endpoint_never_5xx(live: Live, path, depth, shape) -> None:  # type: ignore[no-untyped-def]
    body = deep_text(depth, shape).encode()
    headers = {"Content-Type": "application/json"} | _signed(body)
    live.send("deep JSON", "POST", path, data=body, headers=headers)


def _signed(body: bytes) -> dict[str, str]:
    digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
    }


RAW_NUMBERS = st.sampled_from(["1e400", "-1e400", "NaN", "1" + "0" * 30, "-0", "1.5"])
WEBHOOK_EVENTS = ["pull_request", "push", "installation", "installation_repositories", "ping"]


@FAST
@given(event=st.sampled_from(WEBHOOK_EVENTS), fields=st.dictionaries(
    st.sampled_from(["number", "pull_request", "repository", "repositories", "installation",
                     "repositories_added", "ref", "after", "action", "sender"]),
    JSON_VALUES, max_size=5,
), raw=st.none() | RAW_NUMBERS, form=st.booleans())  # fmt: skip
def test_signed_hostile_webhooks_never_5xx(live: Live, event, fields, raw, form) -> None:  # type: ignore[no-untyped-def]
    payload = {"action": "opened", "repository": {"full_name": "owner/repo"}} | fields
    text = json.dumps(payload)
    if raw is not None:  # tokens json.dumps never writes: 1e400, NaN as a PR number
        text = text[:-1] + f', "number": {raw}}}'
    if form:
        body = urlencode({"payload": text}).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        body, content_type = text.encode(), "application/json"
    headers = _signed(body) | {"X-GitHub-Event": event, "Content-Type": content_type}
    live.send("webhook (signed)", "POST", "/webhooks/github", data=body, headers=headers)


_CSRF = re.compile(r'name="(csrf[^"]*)" value="([^"]+)"')


@FAST
@given(username=st.one_of(st.just("alice"), LONG_TEXT, st.text()), password=st.text(max_size=50),
       next_url=st.one_of(st.none(), st.text(max_size=30), st.just("/%0A/evil")))  # fmt: skip
def test_hostile_logins_never_5xx(live: Live, username, password, next_url) -> None:  # type: ignore[no-untyped-def]
    browser = requests.Session()
    page = browser.get(live.url + "/login", timeout=60)
    field = _CSRF.search(page.text)
    form = {"username": username, "password": password}
    if field:
        form[field.group(1)] = field.group(2)
    if next_url is not None:
        form["next"] = next_url
    response = browser.post(live.url + "/login", data=form, timeout=60, allow_redirects=False)
    browser.close()
    CASES["login form"] += 1
    if response.status_code >= 500:
        SERVER_ERRORS.append(f"login form -> {response.status_code}")


def test_summary_no_server_errors() -> None:
    """Runs last (file order): the case counts, and every 5xx the module saw."""
    total = sum(CASES.values())
    print(f"\nlive fuzz: {total} cases, {len(SERVER_ERRORS)} answers >= 500")
    for label, count in sorted(CASES.items()):
        print(f"  {count:5d}  {label}")
    for error in sorted(set(SERVER_ERRORS)):
        print(f"  5xx: {error}")
    assert total >= 300, f"only {total} cases ran"
    assert SERVER_ERRORS == []
