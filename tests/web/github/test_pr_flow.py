"""End to end: results posted with ``--pr`` reach the fake GitHub through the notify task.

The Flask test client runs tasks eagerly, so ingest -> detect -> notify_pr runs
in-process and github3.py talks to the fake GitHub server over loopback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from tests.factories import make_project, make_token, native_results, post_results, sha
from tests.web.github.fake_github import FakeGitHub
from web.config import Settings
from web.github.render import marker
from web.models import PrComment, Project

BASE = [1.0 + 0.002 * i for i in range(12)]
SECRET = "whsec-test"


@pytest.fixture()
def settings(settings: Settings) -> Settings:
    return replace(settings, github_webhook_secret=SECRET)


@pytest.fixture()
def setup(app, db_session, github: FakeGitHub):  # type: ignore[no-untyped-def]
    app.extensions["benchwarden.celery"].conf.benchwarden_settings = app.extensions[
        "benchwarden.settings"
    ]
    project = make_project(db_session)
    token = make_token(db_session, project)
    project.settings = {"github": {"repo": "o/r", "token": "test-token", "api_url": github.url}}
    db_session.commit()
    return project, token


def _results(factor: float, *, gone: bool = False) -> bytes:
    samples = {"parse": [v * factor for v in BASE], "stable": BASE, "gone": BASE}
    if gone:
        del samples["gone"]
    return native_results({k: v[0] for k, v in samples.items()}, samples=samples)


def _machine(name: str) -> dict[str, str]:
    return {"name": name}


def _post_main(client, token, n: int, machine: str = "m1", parents=()):  # type: ignore[no-untyped-def]
    post_results(client, token, sha(n), _results(1.0), parents=list(parents),
                 machine=_machine(machine))  # fmt: skip


def _post_pr(client, token, n: int, parent: int, factor: float, machine: str = "m1"):  # type: ignore[no-untyped-def]
    post_results(client, token, sha(n), _results(factor, gone=True), branch="feature",
                 parents=[sha(parent)], pr_number=7, machine=_machine(machine))  # fmt: skip


def test_three_pushes_one_comment(client, setup, github: FakeGitHub, db_session) -> None:  # type: ignore[no-untyped-def]
    _, token = setup
    _post_main(client, token, 1)
    for push, n in enumerate((11, 12, 13)):
        github.set_pull(7, sha(n))
        _post_pr(client, token, n, n - 1 if push else 1, 1.25)
    assert len(github.comments) == 1
    assert len(github.calls("POST", r"/issues/7/comments$")) == 1
    assert len(github.calls("PATCH", r"/issues/comments/")) == 2
    body = next(iter(github.comments.values()))["body"]
    assert body.startswith(marker("proj"))
    assert "**1 regression** beyond 2%" in body
    assert f"vs merge-base [`{sha(1)[:7]}`]" in body  # the PR's own pushes are skipped
    assert f"`{sha(13)[:7]}`" in body
    assert "parse" in body and "1 unchanged" in body and "1 missing" in body
    assert "benchwarden-override" in body
    assert github.statuses[-1]["state"] == "failure"
    assert github.statuses[-1]["sha"] == sha(13)
    assert github.statuses[-1]["context"] == "benchwarden"
    assert "http://bw.test/p/proj/compare?" in github.statuses[-1]["target_url"]
    stored = db_session.scalar(select(PrComment))
    assert stored.github_comment_id == next(iter(github.comments))
    assert stored.verdict == "regression" and stored.head_sha == sha(13)


def _webhook(client, event: str, payload: dict, delivery: str = "d-1"):  # type: ignore[no-untyped-def]
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/webhooks/github",
        data=body,
        content_type="application/json",
        headers={"X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
                 "X-Hub-Signature-256": signature},
    )  # fmt: skip


def test_override_label_turns_failure_into_success(client, setup, github: FakeGitHub) -> None:  # type: ignore[no-untyped-def]
    _, token = setup
    _post_main(client, token, 1)
    github.set_pull(7, sha(11))
    _post_pr(client, token, 11, 1, 1.3)
    assert github.statuses[-1]["state"] == "failure"
    github.set_pull(7, sha(11), labels=("benchwarden-override",))
    payload = {"action": "labeled", "number": 7, "label": {"name": "benchwarden-override"},
               "repository": {"full_name": "o/r"}, "pull_request": {"number": 7}}  # fmt: skip
    response = _webhook(client, "pull_request", payload)
    assert response.status_code == 202 and response.json["status"] == "refreshed"
    assert github.statuses[-1]["state"] == "success"
    assert "overridden" in github.statuses[-1]["description"]
    body = next(iter(github.comments.values()))["body"]
    assert "overridden by `benchwarden-override`" in body
    assert len(github.comments) == 1


def test_improvement_passes(client, setup, github: FakeGitHub) -> None:  # type: ignore[no-untyped-def]
    _, token = setup
    _post_main(client, token, 1)
    github.set_pull(7, sha(11))
    _post_pr(client, token, 11, 1, 0.7)
    assert github.statuses[-1]["state"] == "success"
    assert "**1 improvement**" in next(iter(github.comments.values()))["body"]


def test_fallback_past_the_merge_base_is_said(client, setup, github: FakeGitHub) -> None:  # type: ignore[no-untyped-def]
    _, token = setup
    _post_main(client, token, 1)
    _post_main(client, token, 2, machine="m2", parents=[sha(1)])  # no m1 results at sha(2)
    github.set_pull(7, sha(11))
    _post_pr(client, token, 11, 2, 1.0)
    body = next(iter(github.comments.values()))["body"]
    assert f"merge-base {sha(2)[:7]} has no results on this machine" in body
    assert f"compared with its ancestor {sha(1)[:7]} (1 commit earlier)" in body
    assert github.statuses[-1]["state"] == "success"


def test_results_of_a_merge_commit_post_status_on_the_pr_head(  # type: ignore[no-untyped-def]
    client, setup, github: FakeGitHub
) -> None:
    """GitHub Actions benchmarks refs/pull/N/merge: parents are (base tip, PR head)."""
    _, token = setup
    _post_main(client, token, 1)
    github.set_pull(7, sha(50))
    post_results(client, token, sha(60), _results(1.0), branch="feature",
                 parents=[sha(1), sha(50)], pr_number=7, machine=_machine("m1"))  # fmt: skip
    assert github.statuses[-1]["sha"] == sha(50)
    assert f"vs merge-base [`{sha(1)[:7]}`]" in next(iter(github.comments.values()))["body"]


def test_older_push_does_not_overwrite_a_newer_report(client, setup, github: FakeGitHub) -> None:  # type: ignore[no-untyped-def]
    _, token = setup
    _post_main(client, token, 1)
    github.set_pull(7, sha(12))
    _post_pr(client, token, 12, 1, 1.3)
    requests_before = len(github.requests)
    _post_pr(client, token, 11, 1, 1.0)  # late results of the first push
    assert [r.method for r in github.requests[requests_before:]] == ["GET"]  # the PR only
    assert "**1 regression**" in next(iter(github.comments.values()))["body"]


def test_no_github_configuration_means_no_call(client, db_session, github: FakeGitHub) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session)
    token = make_token(db_session, project)
    assert db_session.get(Project, project.id).settings in ({}, None)
    _post_main(client, token, 1)
    _post_pr(client, token, 11, 1, 1.3)
    assert github.requests == []
    assert db_session.scalar(select(PrComment)) is None


def _timed_and_counted(time_factor: float, count_factor: float) -> bytes:
    """Each benchmark timed (12 processes) and counted (5 rounds) in one file."""
    records = []
    for name in ("parse", "stable"):
        times = [v * time_factor for v in BASE]
        counts = [1e6 * (count_factor if name == "parse" else 1.0)] * 5
        records += [
            {"suite": "suite", "name": name, "measure": "time", "unit": "s",
             "value": times[0], "samples": times},
            {"suite": "suite", "name": name, "measure": "instructions",
             "unit": "instructions", "value": counts[0], "samples": counts},
        ]  # fmt: skip
    return json.dumps({"format": "custom", "runs": [{"results": records}]}).encode()


def test_instruction_counts_decide_and_the_comment_says_so(
    client, setup, github: FakeGitHub
) -> None:  # type: ignore[no-untyped-def]
    _, token = setup
    post_results(client, token, sha(1), _timed_and_counted(1.0, 1.0), machine=_machine("m1"))
    github.set_pull(7, sha(11))
    # a busy machine: every process 30% slower, the code's work unchanged
    post_results(client, token, sha(11), _timed_and_counted(1.3, 1.0), branch="feature",
                 parents=[sha(1)], pr_number=7, machine=_machine("m1"))  # fmt: skip
    body = next(iter(github.comments.values()))["body"]
    assert github.statuses[-1]["state"] == "success", body
    assert "**No change** beyond 2%" in body
    assert "Decided by instruction counts (valgrind) for 2 benchmarks" in body
    assert "2 timed beside their instruction count" in body
    # the same PR with 10% more instructions in one benchmark fails on the count
    github.set_pull(7, sha(12))
    post_results(client, token, sha(12), _timed_and_counted(1.0, 1.1), branch="feature",
                 parents=[sha(11)], pr_number=7, machine=_machine("m1"))  # fmt: skip
    body = next(iter(github.comments.values()))["body"]
    assert github.statuses[-1]["state"] == "failure"
    assert "**1 regression** beyond 2%" in body and "parse (instructions)" in body


def test_github_is_called_with_no_transaction_open(
    client, setup, github: FakeGitHub, db_session
) -> None:  # type: ignore[no-untyped-def]
    """A slow GitHub must not hold the database: on SQLite an open transaction is
    the one write lock, and ingests would queue behind the HTTP round trips."""
    from web.github.notify import notify_pull_request

    project, token = setup
    _post_main(client, token, 1)
    github.set_pull(7, sha(11))
    _post_pr(client, token, 11, 1, 1.25)
    open_during_calls: list[bool] = []
    github.on_request = lambda method, path: open_during_calls.append(db_session.in_transaction())
    report = notify_pull_request(db_session, project.id, 7, sha(11), base_url="http://bw.test")
    assert report is not None and report.outcome.value == "regression"
    assert len(open_during_calls) >= 3, "the pull request, the comment and the status"
    assert not any(open_during_calls)
    db_session.commit()
    assert db_session.scalar(select(PrComment)).head_sha == sha(11)
